"""Door rules: held open (and pre-alarm), after hours, forced open, sensor unknown."""

from __future__ import annotations

from datetime import date

import pytest

from collector.alerts.rule_settings import AfterHoursSettings
from collector.alerts.rules.doors import outside_hours
from sandbox.alerts_rules import (
    LEAVER_CARD,
    STRANGER_CARD,
    T0,
    VALID_CARD,
    card,
    door,
    run,
    seconds,
)
from sandbox.attendance_rules import office_calendar, wita

HELD = "door_held_open"
PRE = "door_held_open_prealarm"
FORCED = "door_forced_open"
AFTER = "door_after_hours"
UNKNOWN = "door_sensor_unknown"
QUIET = {FORCED: {"enabled": False}}


def test_held_open_fires_after_the_hold_time_and_resolves_on_close() -> None:
    r = run(QUIET | {HELD: {"for_s": 300}})
    r.feed(door("open", T0))
    for minute in range(1, 5):  # periodic re-statements keep it pending
        r.feed(door("open", T0 + seconds(60 * minute), change=False))
    assert r.phases(HELD) == [(HELD, None, "pending")]
    r.tick(T0 + seconds(300))
    assert r.phases(HELD)[-1] == (HELD, "pending", "firing")
    r.feed(door("closed", T0 + seconds(400)))
    assert r.phases(HELD)[-1] == (HELD, "firing", "resolved")
    assert [t.alert.key.rule for t in r.notified()] == [HELD, HELD]
    assert r.notified()[0].alert.audience == "security"


def test_a_door_closed_before_the_hold_time_is_never_told() -> None:
    r = run(QUIET)
    r.feed(door("open", T0))
    r.feed(door("closed", T0 + seconds(120)))
    r.tick(T0 + seconds(3600))
    assert not r.notified()


def test_pre_alarm_comes_before_the_alarm() -> None:
    r = run(QUIET | {PRE: {"enabled": True, "for_s": 120}, HELD: {"for_s": 300}})
    r.feed(door("open", T0))
    r.tick(T0 + seconds(130))
    assert [(t.alert.key.rule, t.alert.severity.value) for t in r.notified()] == [(PRE, "info")]
    r.tick(T0 + seconds(310))
    assert [t.alert.key.rule for t in r.notified()] == [PRE, HELD]


def test_unknown_state_neither_raises_nor_clears_held_open() -> None:
    r = run(QUIET | {HELD: {"for_s": 300}})
    r.feed(door("open", T0))
    r.feed(door("unknown", T0 + seconds(100)))
    r.tick(T0 + seconds(300))
    assert r.phases(HELD)[-1] == (HELD, "pending", "firing")


def test_sensor_unknown_for_longer_than_allowed() -> None:
    r = run(QUIET | {UNKNOWN: {"for_s": 600}})
    r.feed(door("unknown", T0))
    r.tick(T0 + seconds(599))
    assert not r.notified()
    r.tick(T0 + seconds(600))
    assert r.phases(UNKNOWN)[-1] == (UNKNOWN, "pending", "firing")
    r.feed(door("closed", T0 + seconds(700)))
    assert r.phases(UNKNOWN)[-1] == (UNKNOWN, "firing", "resolved")


@pytest.mark.parametrize(
    ("at", "why"),
    [
        (wita(date(2026, 4, 6), 10), None),  # Monday office hours
        (wita(date(2026, 4, 6), 6, 45), None),  # early, inside early_min (60)
        (wita(date(2026, 4, 6), 6, 29), "di luar jam kerja 07:30-16:00"),
        (wita(date(2026, 4, 6), 17, 59), None),  # inside late_min (120)
        (wita(date(2026, 4, 6), 18, 0), "di luar jam kerja 07:30-16:00"),
        (wita(date(2026, 4, 10), 18, 15), None),  # Friday ends 16:30
        (wita(date(2026, 4, 11), 10), "Sabtu"),
        (wita(date(2026, 5, 1), 10), "Libur nasional: Hari Buruh Internasional"),
    ],
)
def test_working_hours(at: object, why: str | None) -> None:
    assert outside_hours(at, AfterHoursSettings(), office_calendar()) == why  # type: ignore[arg-type]


def test_ramadan_hours_apply_in_ramadan() -> None:
    # 2026-03-02 is a Monday of Ramadan: 08:00-15:00, so 17:30 is past 15:00 + 120 min.
    why = outside_hours(wita(date(2026, 3, 2), 17, 30), AfterHoursSettings(), office_calendar())
    assert why == "di luar jam kerja 08:00-15:00"


def test_opened_after_hours_fires_and_resolves_on_close() -> None:
    r = run(QUIET)
    night = wita(date(2026, 4, 6), 22)
    r.feed(door("open", night))
    assert r.phases(AFTER) == [(AFTER, None, "firing")]
    assert "22:00" in r.active(AFTER)[0].value
    r.feed(door("closed", night + seconds(30)))
    assert r.phases(AFTER)[-1] == (AFTER, "firing", "resolved")


def test_opened_in_working_hours_and_restatements_raise_no_after_hours() -> None:
    r = run(QUIET)
    r.feed(door("open", T0))
    r.feed(door("open", wita(date(2026, 4, 6), 22), change=False))
    assert not r.phases(AFTER)


def test_forced_open_without_a_badge() -> None:
    r = run()
    r.feed(door("open", T0))
    assert r.phases(FORCED) == [(FORCED, None, "pending")]  # waits for_s for a late badge
    r.tick(T0 + seconds(5))
    assert r.phases(FORCED)[-1] == (FORCED, "pending", "firing")
    assert r.moved[-1].alert.severity == "critical"
    r.feed(door("closed", T0 + seconds(20)))
    assert r.phases(FORCED)[-1] == (FORCED, "firing", "resolved")


def test_a_valid_badge_before_opening_lets_the_door_open() -> None:
    r = run()
    r.feed(card(VALID_CARD, T0 - seconds(10)))
    r.feed(door("open", T0))
    r.tick(T0 + seconds(60))
    assert not r.phases(FORCED)


def test_a_badge_arriving_late_clears_the_pending_alarm() -> None:
    r = run()
    r.feed(door("open", T0))
    r.feed(card(VALID_CARD, T0 - seconds(3)), T0 + seconds(2))  # another message, later
    r.tick(T0 + seconds(60))
    assert r.phases(FORCED) == [(FORCED, None, "pending"), (FORCED, "pending", "resolved")]
    assert not r.notified()


@pytest.mark.parametrize(
    ("uid", "before_s"),
    [(STRANGER_CARD, 5), (LEAVER_CARD, 5), (VALID_CARD, 16)],  # window_s is 15
)
def test_badges_that_do_not_count(uid: str, before_s: float) -> None:
    r = run()
    r.feed(card(uid, T0 - seconds(before_s)))
    r.feed(door("open", T0))
    r.tick(T0 + seconds(10))
    assert [t.alert.key.rule for t in r.notified() if t.alert.key.rule == FORCED] == [FORCED]


def test_a_badge_at_another_reader_does_not_count() -> None:
    r = run()
    r.feed(card(VALID_CARD, T0 - seconds(2), device="rfid-lantai-2"))
    r.feed(door("open", T0))
    r.tick(T0 + seconds(10))
    assert r.phases(FORCED)[-1] == (FORCED, "pending", "firing")


def test_doors_without_guarding_readers_are_not_judged() -> None:
    r = run()
    r.feed(door("open", T0, device="pintu-belakang"))
    r.tick(T0 + seconds(60))
    assert not r.phases(FORCED)
