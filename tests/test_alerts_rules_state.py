"""Snapshot and restore: a restarted engine neither re-sends nor forgets.

The property: feeding a stream in one go, or with the engine snapshotted and a new engine
restored from it at any point in between, gives the same transitions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hypothesis import given, settings
from hypothesis import strategies as st

from sandbox.alerts_rules import (
    LEAVER_CARD,
    STRANGER_CARD,
    T0,
    VALID_CARD,
    Run,
    birth,
    card,
    death,
    door,
    engine,
    health,
    port,
    port_change,
    reach,
    run,
    seconds,
)
from sandbox.alerts_rules import settings as alert_settings

if TYPE_CHECKING:
    from datetime import datetime

    from collector.alerts.engine import Engine
    from collector.alerts.model import Transition
    from collector.alerts.observations import Observation

HELD = "door_held_open"
RULES = {
    HELD: {"for_s": 120, "keep_firing_s": 30},
    "door_held_open_prealarm": {"enabled": True, "for_s": 60},
    "port_down": {"for_s": 20, "ports": "all"},
    "port_errors": {
        "for_s": 30,
        "raise_above": 5,
        "clear_below": 1,
        "no_data": "resolve",
        "no_data_s": 300,
    },
    "gateway_offline": {"for_s": 10},
    "card_unknown": {"count": 2, "window_s": 120},
    "agent_problems": {"for_s": 45},
}


def restarted(old: Engine) -> Engine:
    fresh = engine(alert_settings(RULES, dependencies={"settle_s": 30}))
    fresh.restore(old.snapshot())
    return fresh


def test_restored_mid_firing_nothing_is_sent_twice() -> None:
    r = run(RULES)
    r.feed(door("open", T0))
    r.tick(T0 + seconds(130))
    assert r.phases(HELD)[-1] == (HELD, "pending", "firing")
    again = Run(restarted(r.engine))
    again.tick(T0 + seconds(131))
    again.feed(door("open", T0 + seconds(140), change=False))
    assert not again.moved  # firing stays firing: no second email
    again.feed(door("closed", T0 + seconds(150)))
    again.tick(T0 + seconds(180))
    assert again.phases(HELD) == [(HELD, "firing", "resolved")]  # and its resolution is not lost
    assert again.moved[-1].notifies


def test_the_snapshot_is_plain_values() -> None:
    r = run(RULES)
    r.feed(birth(T0))
    r.feed(door("open", T0))
    r.feed(card(STRANGER_CARD, T0))
    snap = r.engine.snapshot()
    assert snap.alerts
    assert snap.tracks
    assert snap.memos
    assert snap.now == T0
    assert {memo.family for memo in snap.memos} == {"doors", "cards", "gateways"}


# A small world: a few devices, each observation kind, times moving on by 0-200 s.
_OBSERVATIONS = st.sampled_from(
    [
        lambda at: door("open", at),
        lambda at: door("open", at, change=False),
        lambda at: door("closed", at),
        lambda at: door("unknown", at),
        lambda at: door("closed", at, historical=True),
        lambda at: card(VALID_CARD, at),
        lambda at: card(STRANGER_CARD, at),
        lambda at: card(LEAVER_CARD, at),
        lambda at: port("uplink", at, errors_ps=10),
        lambda at: port("uplink", at, errors_ps=3),
        lambda at: port("uplink", at, errors_ps=0),
        lambda at: port_change("ge-1", at, "down"),
        lambda at: port_change("ge-1", at, "up"),
        lambda at: reach(False, at),  # noqa: FBT003
        lambda at: reach(True, at),  # noqa: FBT003
        birth,
        death,
        lambda at: health(at, problems=("disk full",), lost=5),
        lambda at: health(at, lost=9),
        None,  # a tick
    ]
)
_GAPS = st.sampled_from([0, 1, 5, 15, 30, 60, 130, 400])
_STEPS = st.lists(st.tuples(_OBSERVATIONS, _GAPS, st.booleans()), min_size=1, max_size=40)
Steps = list[tuple[object, int, bool]]


def _play(steps: Steps, *, restarts: bool) -> list[Transition]:
    eng = engine(alert_settings(RULES, dependencies={"settle_s": 30}))
    moved: list[Transition] = []
    at: datetime = T0
    for make, gap, restart in steps:
        if restarts and restart:
            eng = restarted(eng)
        at += seconds(gap)
        if make is None:
            moved += eng.tick(at)
        else:
            obs: Observation = make(at)  # type: ignore[operator]
            moved += eng.observe(obs, at)
    return moved


@settings(max_examples=200, deadline=None)
@given(_STEPS)
def test_restarts_anywhere_change_no_transition(steps: Steps) -> None:
    assert _play(steps, restarts=True) == _play(steps, restarts=False)


def test_a_keep_firing_countdown_survives_a_restart() -> None:
    r = run(RULES)
    r.feed(door("open", T0))
    r.tick(T0 + seconds(130))
    r.feed(door("closed", T0 + seconds(140)))
    again = Run(restarted(r.engine))
    again.tick(T0 + seconds(169))
    assert not again.phases(HELD)
    again.tick(T0 + seconds(170))
    assert again.phases(HELD) == [(HELD, "firing", "resolved")]


def test_a_settling_cause_survives_a_restart() -> None:
    r = run(RULES, dependencies={"settle_s": 30})
    r.feed(death(T0))
    r.feed(port_change("ge-1", T0 + seconds(1), "down"))
    r.tick(T0 + seconds(30))
    r.feed(birth(T0 + seconds(40), bdseq=2))
    again = Run(restarted(r.engine))
    again.tick(T0 + seconds(69))
    assert not again.notified()  # still settling after the restart
    again.tick(T0 + seconds(70))
    assert [(t.alert.key.rule, t.released) for t in again.notified()] == [("port_down", True)]
