"""Gateway rules: offline (Will, missed heartbeats), outbox evicting or backed up, agent
problems; a gateway offline suppresses everything behind it, and releases what is left."""

from __future__ import annotations

from collector.alerts.model import AlertKey
from sandbox.alerts_rules import (
    GATEWAY,
    SITE,
    STRANGER_CARD,
    T0,
    Run,
    birth,
    card,
    death,
    door,
    health,
    port_change,
    run,
    seconds,
)

OFFLINE = "gateway_offline"
EVICTING = "outbox_evicting"
BACKLOG = "outbox_backlog"
PROBLEMS = "agent_problems"
CAUSE = AlertKey(OFFLINE, SITE, GATEWAY)


def test_a_death_fires_after_for_s_and_a_birth_resolves() -> None:
    r = run({OFFLINE: {"for_s": 60}})
    r.feed(birth(T0, bdseq=4))
    r.feed(death(T0 + seconds(10), bdseq=4))
    r.tick(T0 + seconds(70))
    assert r.phases(OFFLINE) == [(OFFLINE, None, "pending"), (OFFLINE, "pending", "firing")]
    assert r.moved[-1].alert.severity == "critical"
    r.feed(birth(T0 + seconds(100), bdseq=5))
    assert r.phases(OFFLINE)[-1] == (OFFLINE, "firing", "resolved")


def test_a_reboot_shorter_than_for_s_is_never_told() -> None:
    r = run({OFFLINE: {"for_s": 60}})
    r.feed(death(T0, bdseq=4))
    r.feed(birth(T0 + seconds(40), bdseq=5))
    r.tick(T0 + seconds(300))
    assert not r.notified()


def test_a_stale_will_is_ignored() -> None:
    r = run({OFFLINE: {"for_s": 0}})
    r.feed(birth(T0, bdseq=5))
    r.feed(death(T0 + seconds(5), bdseq=4))  # the broker fired the old connection's Will late
    assert not r.moved


def test_missed_heartbeats() -> None:
    r = run({OFFLINE: {"for_s": 0, "missed_heartbeats": 3}})
    r.feed(birth(T0, heartbeat_s=60))
    r.feed(birth(T0 + seconds(60), heartbeat_s=60))  # a heartbeat moves the deadline
    r.tick(T0 + seconds(239))
    assert not r.moved
    r.tick(T0 + seconds(240))
    assert r.phases(OFFLINE) == [(OFFLINE, None, "firing")]
    assert "heartbeat" in r.moved[-1].alert.value
    r.tick(T0 + seconds(600))
    assert len(r.moved) == 1
    r.feed(birth(T0 + seconds(700), heartbeat_s=60))
    assert r.phases(OFFLINE)[-1] == (OFFLINE, "firing", "resolved")


def test_outbox_evicting_while_the_loss_count_grows() -> None:
    r = run({EVICTING: {"keep_firing_s": 600}})
    r.feed(health(T0, lost=10))  # the baseline
    assert not r.moved
    r.feed(health(T0 + seconds(60), lost=25))
    assert r.phases(EVICTING) == [(EVICTING, None, "firing")]
    assert r.moved[-1].alert.value == "15 bacaan dibuang sejak laporan sebelumnya"
    r.feed(health(T0 + seconds(120), lost=25))
    r.tick(T0 + seconds(719))
    assert len(r.phases(EVICTING)) == 1
    r.tick(T0 + seconds(720))
    assert r.phases(EVICTING)[-1] == (EVICTING, "firing", "resolved")


def test_a_restarted_agent_is_a_new_baseline() -> None:
    r = run()
    r.feed(health(T0, lost=100))
    r.feed(health(T0 + seconds(60), lost=3))
    r.feed(health(T0 + seconds(120), lost=3))
    assert not r.moved


def test_oldest_reading_too_old() -> None:
    r = run({BACKLOG: {"raise_above": 3600, "clear_below": 600}})
    r.feed(health(T0, oldest_age_s=7200))
    assert r.phases(BACKLOG) == [(BACKLOG, None, "firing")]
    r.feed(health(T0 + seconds(60), oldest_age_s=1000))
    assert r.active(BACKLOG)
    r.feed(health(T0 + seconds(120), oldest_age_s=10))
    assert not r.active(BACKLOG)


def test_agent_problems() -> None:
    r = run({PROBLEMS: {"for_s": 300}})
    r.feed(health(T0, problems=("no collector online",)))
    r.feed(health(T0 + seconds(60), problems=()))
    assert not r.notified()  # a collector restart
    r.feed(health(T0 + seconds(120), problems=("outbox cannot store", "disk full")))
    r.tick(T0 + seconds(420))
    assert r.phases(PROBLEMS)[-1] == (PROBLEMS, "pending", "firing")
    assert r.moved[-1].alert.value == "outbox cannot store; disk full"


def _offline_with_symptoms(settle_s: float = 60) -> Run:
    r = run(
        {OFFLINE: {"for_s": 0}, "port_down": {"for_s": 0, "ports": "all"}},
        dependencies={"settle_s": settle_s},
    )
    r.feed(death(T0))
    r.feed(door("open", T0 + seconds(1)))  # forced open, after hours... all behind it
    r.feed(card(STRANGER_CARD, T0 + seconds(1)))
    r.feed(port_change("ge-1", T0 + seconds(1), "down"))
    r.tick(T0 + seconds(400))  # door held open fires too
    return r


def test_a_gateway_offline_suppresses_everything_behind_it() -> None:
    r = _offline_with_symptoms()
    symptoms = [t for t in r.moved if t.alert.key.rule != OFFLINE]
    assert {t.alert.key.rule for t in symptoms} >= {"door_held_open", "card_unknown", "port_down"}
    assert all(t.alert.suppressed_by == CAUSE for t in symptoms)
    assert [t.alert.key.rule for t in r.notified()] == [OFFLINE]


def test_symptoms_still_firing_are_released_once_the_cause_settled() -> None:
    r = _offline_with_symptoms(settle_s=60)
    back = T0 + seconds(500)
    r.feed(birth(back, bdseq=2))
    r.feed(door("closed", back + seconds(10)), back + seconds(10))
    before = len(r.notified())
    r.tick(back + seconds(59))
    assert len(r.notified()) == before
    released = r.tick(back + seconds(60))
    # The door closed while suppressed (never told, never told resolved); the port is
    # still down and the unknown card still in its window: people hear of those now.
    assert sorted(t.alert.key.rule for t in released if t.notifies) == ["card_unknown", "port_down"]
    assert all(t.released and t.alert.suppressed_by is None for t in released)
    notified_rules = [t.alert.key.rule for t in r.notified()]
    assert "door_held_open" not in notified_rules
    r.feed(port_change("ge-1", back + seconds(120), "up"), back + seconds(120))
    assert r.notified()[-1].alert.key.rule == "port_down"
    assert r.notified()[-1].alert.phase == "resolved"


def test_an_alert_already_told_is_not_suppressed_later() -> None:
    r = run({OFFLINE: {"for_s": 0}, "port_down": {"for_s": 0, "ports": "all"}})
    r.feed(port_change("ge-1", T0, "down"))
    r.feed(death(T0 + seconds(10)))
    r.feed(birth(T0 + seconds(20), bdseq=2))
    r.feed(port_change("ge-1", T0 + seconds(30), "up"))
    rules = [(t.alert.key.rule, t.alert.phase.value) for t in r.notified()]
    assert ("port_down", "resolved") in rules  # its resolution is told, cause or not
