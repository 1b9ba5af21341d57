"""The one state machine every rule goes through: for_s, hysteresis, keep_firing, no-data.

Shown on ``port_errors`` (a threshold rule) and ``door_held_open``; the rule tests show
each rule's own conditions.
"""

from __future__ import annotations

from collector.alerts.model import Phase
from sandbox.alerts_rules import T0, door, port, run, seconds

ERRORS = "port_errors"


def errors_rule(**changes: object) -> dict[str, object]:
    return {ERRORS: {"for_s": 60, "raise_above": 5, "clear_below": 1} | changes}


def test_pending_until_for_s_then_firing() -> None:
    r = run(errors_rule())
    r.feed(port("uplink", T0, errors_ps=10))
    assert r.phases(ERRORS) == [(ERRORS, None, "pending")]
    r.tick(T0 + seconds(59))
    assert len(r.moved) == 1
    r.tick(T0 + seconds(61))
    assert r.phases(ERRORS)[-1] == (ERRORS, "pending", "firing")
    fired = r.moved[-1]
    assert fired.notifies
    assert fired.alert.fired_at == T0 + seconds(60)  # when it was due, not when noticed
    assert fired.alert.value == "error 10.00/s"


def test_pending_that_clears_before_for_s_is_never_told() -> None:
    r = run(errors_rule())
    r.feed(port("uplink", T0, errors_ps=10))
    r.feed(port("uplink", T0 + seconds(30), errors_ps=0))
    r.tick(T0 + seconds(120))
    assert r.phases(ERRORS) == [(ERRORS, None, "pending"), (ERRORS, "pending", "resolved")]
    assert r.moved[-1].alert.fired_at is None
    assert not r.notified()
    assert not r.engine.alerts()


def test_hysteresis_between_thresholds_changes_nothing() -> None:
    r = run(errors_rule(for_s=0))
    r.feed(port("uplink", T0, errors_ps=10))
    assert r.phases(ERRORS) == [(ERRORS, None, "firing")]
    for n, value in enumerate([4.0, 2.0, 5.0, 1.5]):  # at or below raise, above clear
        r.feed(port("uplink", T0 + seconds(10 * (n + 1)), errors_ps=value))
    assert len(r.moved) == 1
    assert r.active(ERRORS)[0].phase is Phase.FIRING
    r.feed(port("uplink", T0 + seconds(100), errors_ps=1.0))  # at clear_below: clears
    assert r.phases(ERRORS)[-1] == (ERRORS, "firing", "resolved")
    assert r.moved[-1].notifies


def test_hold_keeps_a_pending_alert_pending() -> None:
    r = run(errors_rule())
    r.feed(port("uplink", T0, errors_ps=10))
    r.feed(port("uplink", T0 + seconds(30), errors_ps=3))  # between: the latch stays set
    r.tick(T0 + seconds(60))
    assert r.phases(ERRORS)[-1] == (ERRORS, "pending", "firing")


def test_keep_firing_damps_flapping() -> None:
    r = run(errors_rule(for_s=0, keep_firing_s=300))
    r.feed(port("uplink", T0, errors_ps=10))
    r.feed(port("uplink", T0 + seconds(60), errors_ps=0))
    r.tick(T0 + seconds(200))
    r.feed(port("uplink", T0 + seconds(250), errors_ps=10))  # back before keep_firing ran out
    r.feed(port("uplink", T0 + seconds(300), errors_ps=0))
    r.tick(T0 + seconds(599))
    assert r.phases(ERRORS) == [(ERRORS, None, "firing")]
    r.tick(T0 + seconds(600))
    assert r.phases(ERRORS)[-1] == (ERRORS, "firing", "resolved")
    assert r.moved[-1].alert.resolved_at == T0 + seconds(600)
    assert len(r.notified()) == 2


def test_no_data_keep_is_the_default() -> None:
    r = run(errors_rule(for_s=0))
    r.feed(port("uplink", T0, errors_ps=10))
    r.tick(T0 + seconds(86400))
    assert r.active(ERRORS)[0].phase is Phase.FIRING


def test_no_data_resolve() -> None:
    r = run(errors_rule(for_s=0, no_data="resolve", no_data_s=600))
    r.feed(port("uplink", T0, errors_ps=10))
    r.tick(T0 + seconds(599))
    assert len(r.moved) == 1
    r.tick(T0 + seconds(600))
    assert r.phases(ERRORS)[-1] == (ERRORS, "firing", "resolved")
    assert r.moved[-1].alert.value == "tidak ada data"


def test_no_data_fire_watches_a_quiet_key() -> None:
    r = run(errors_rule(for_s=0, no_data="fire", no_data_s=600))
    r.feed(port("uplink", T0, errors_ps=0))  # fine, but now watched
    r.tick(T0 + seconds(599))
    assert not r.moved
    r.tick(T0 + seconds(600))
    assert r.phases(ERRORS) == [(ERRORS, None, "firing")]
    assert r.moved[-1].alert.value == "tidak ada data"
    r.feed(port("uplink", T0 + seconds(700), errors_ps=0))
    assert r.phases(ERRORS)[-1] == (ERRORS, "firing", "resolved")


def test_historical_never_raises() -> None:
    r = run(errors_rule(for_s=0))
    r.feed(port("uplink", T0, errors_ps=10, historical=True))
    r.feed(door("open", T0, historical=True))
    r.tick(T0 + seconds(3600))
    assert not r.moved


def test_historical_clears() -> None:
    r = run(errors_rule(for_s=0))
    r.feed(port("uplink", T0, errors_ps=10))
    r.feed(port("uplink", T0 + seconds(10), errors_ps=0, historical=True), T0 + seconds(20))
    assert r.phases(ERRORS)[-1] == (ERRORS, "firing", "resolved")


def test_a_stale_reading_clears_nothing() -> None:
    r = run({"door_held_open": {"for_s": 0}})
    r.feed(door("open", T0))
    # Replayed from the outbox: older than what was already seen, so not the door's state.
    r.feed(door("closed", T0 - seconds(60), historical=True), T0 + seconds(5))
    assert r.active("door_held_open")


def test_time_never_runs_backwards() -> None:
    r = run(errors_rule())
    r.feed(port("uplink", T0, errors_ps=10))
    r.tick(T0 + seconds(61))
    r.tick(T0)  # a clock stepped back: taken as the latest time given
    assert r.phases(ERRORS) == [(ERRORS, None, "pending"), (ERRORS, "pending", "firing")]


def test_disabled_rule_raises_nothing() -> None:
    r = run({ERRORS: {"enabled": False}})
    r.feed(port("uplink", T0, errors_ps=100))
    r.tick(T0 + seconds(3600))
    assert not r.moved
