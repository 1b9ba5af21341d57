"""Network rules: port down (critical ports), error rate, utilisation, switch unreachable;
a switch unreachable suppresses its ports."""

from __future__ import annotations

from collector.alerts.model import AlertKey
from sandbox.alerts_rules import GATEWAY, SITE, SWITCH, T0, port, port_change, reach, run, seconds

DOWN = "port_down"
UNREACHABLE = "switch_unreachable"
UTIL = "port_utilisation"


def test_a_critical_port_down_fires_after_for_s_and_clears_when_up() -> None:
    r = run({DOWN: {"for_s": 30}})
    r.feed(port_change("uplink", T0, "down"))
    r.feed(port("uplink", T0 + seconds(20), oper="lower_layer_down"))
    r.tick(T0 + seconds(30))
    assert r.phases(DOWN) == [(DOWN, None, "pending"), (DOWN, "pending", "firing")]
    assert r.moved[-1].alert.key.item == "uplink"
    assert r.moved[-1].alert.labels["critical"] == "ya"
    r.feed(port("uplink", T0 + seconds(60)))
    assert r.phases(DOWN)[-1] == (DOWN, "firing", "resolved")


def test_ports_not_marked_critical_are_ignored_unless_all() -> None:
    r = run({DOWN: {"for_s": 0}})
    r.feed(port("desk-12", T0, oper="down"))
    assert not r.moved
    r = run({DOWN: {"for_s": 0, "ports": "all"}})
    r.feed(port("desk-12", T0, oper="down"))
    assert r.phases(DOWN) == [(DOWN, None, "firing")]


def test_a_port_shut_on_purpose_is_not_down() -> None:
    r = run({DOWN: {"for_s": 0}})
    r.feed(port("uplink", T0, oper="down", admin="down"))
    assert not r.moved


def test_utilisation_above_threshold_for_a_duration() -> None:
    r = run({UTIL: {"for_s": 600, "raise_above": 90, "clear_below": 70}})
    busy = 950_000_000.0  # 95 % of 1 Gb/s
    for minute in range(11):
        r.feed(port("uplink", T0 + seconds(60 * minute), in_bps=busy))
    assert r.phases(UTIL) == [(UTIL, None, "pending"), (UTIL, "pending", "firing")]
    assert r.moved[-1].alert.value == "utilisasi 95%"
    r.feed(port("uplink", T0 + seconds(700), in_bps=800_000_000.0))  # 80 %: between
    assert r.active(UTIL)
    r.feed(port("uplink", T0 + seconds(760), in_bps=100_000_000.0))
    assert not r.active(UTIL)


def test_unknown_rates_hold() -> None:
    r = run({"port_errors": {"for_s": 0}})
    r.feed(port("uplink", T0, errors_ps=50))
    r.feed(port("uplink", T0 + seconds(60), errors_ps=None))
    assert r.active("port_errors")


def test_switch_unreachable_and_back() -> None:
    r = run({UNREACHABLE: {"for_s": 60}})
    r.feed(reach(False, T0))  # noqa: FBT003
    r.tick(T0 + seconds(60))
    assert r.phases(UNREACHABLE)[-1] == (UNREACHABLE, "pending", "firing")
    assert r.moved[-1].alert.audience == "it"
    r.feed(port("uplink", T0 + seconds(120)))  # it answered a poll
    assert r.phases(UNREACHABLE)[-1] == (UNREACHABLE, "firing", "resolved")


def test_fifty_ports_down_behind_an_unreachable_switch_notify_once() -> None:
    r = run({DOWN: {"for_s": 0, "ports": "all"}, UNREACHABLE: {"for_s": 0}})
    r.feed(reach(False, T0))  # noqa: FBT003
    for n in range(50):
        r.feed(port_change(f"ge-{n}", T0 + seconds(1), "down"))
    assert len(r.phases(DOWN)) == 50
    assert [t.alert.key.rule for t in r.notified()] == [UNREACHABLE]
    cause = AlertKey(UNREACHABLE, SITE, GATEWAY, SWITCH)
    assert {a.suppressed_by for a in r.active(DOWN)} == {cause}


def test_fifty_ports_down_without_a_cause_notify_fifty_times() -> None:
    r = run({DOWN: {"for_s": 0, "ports": "all"}})
    for n in range(50):
        r.feed(port_change(f"ge-{n}", T0, "down"))
    assert len(r.notified()) == 50
