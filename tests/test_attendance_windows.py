"""Taps belong to the period whose window contains them; the taps a set of dates needs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from hypothesis import given
from hypothesis import strategies as st

from collector.attendance.calendar import WorkPeriod, expected_day
from collector.attendance.settings import UnitSettings
from collector.attendance.windows import BURST_MARGIN, Windows, tap_range
from sandbox.attendance_rules import office_calendar, office_settings, person, wita

if TYPE_CHECKING:
    from collector.attendance.model import Employee

SETTINGS = office_settings()
CALENDAR = office_calendar(SETTINGS)
GUARD = person("guard", "satpam")
CLERK = person("clerk")
MONDAY = date(2026, 1, 5)
TUESDAY = date(2026, 1, 6)


def _periods(employee: Employee, roster: dict[date, str | None]) -> list[WorkPeriod]:
    found = [
        expected_day(
            employee,
            day,
            shift=shift,
            calendar=CALENDAR,
            settings=SETTINGS,
        )
        for day, shift in roster.items()
    ]
    return [period for period in found if isinstance(period, WorkPeriod)]


def test_office_windows_are_half_open() -> None:
    windows = Windows.of(_periods(CLERK, {MONDAY: None, TUESDAY: None}))
    assert windows.owner(wita(MONDAY, 5, 29, 59)) is None
    assert windows.owner(wita(MONDAY, 5, 30)) is not None
    owner = windows.owner(wita(MONDAY, 19, 59, 59))
    assert owner is not None
    assert owner.day == MONDAY
    assert windows.owner(wita(MONDAY, 20)) is None
    assert windows.owner(wita(MONDAY, 23, 59)) is None


def test_a_night_shift_keeps_its_morning_taps() -> None:
    windows = Windows.of(_periods(GUARD, {MONDAY: "malam", TUESDAY: "malam"}))
    # 16:00 UTC is midnight WITA: Tuesday by the calendar, Monday's shift by its window.
    at_midnight = datetime(2026, 1, 5, 16, tzinfo=UTC)
    owners = {
        at: getattr(windows.owner(at), "day", None)
        for at in (
            at_midnight,
            wita(TUESDAY, 6, 50),
            wita(TUESDAY, 10, 59, 59),
            wita(TUESDAY, 11),
            wita(TUESDAY, 17),
        )
    }
    assert list(owners.values()) == [MONDAY, MONDAY, MONDAY, None, TUESDAY]


def test_overlapping_windows_split_between_end_and_next_start() -> None:
    # Monday's night shift window runs to 11:00 Tuesday; Tuesday's day shift's opens at 05:00.
    windows = Windows.of(_periods(GUARD, {MONDAY: "malam", TUESDAY: "pagi"}))
    before = windows.owner(wita(TUESDAY, 6, 59, 59))
    after = windows.owner(wita(TUESDAY, 7))
    assert before is not None
    assert after is not None
    assert (before.shift, after.shift) == ("malam", "pagi")
    # A day shift, then the night shift of the same evening's next date: split at 19:00.
    windows = Windows.of(_periods(GUARD, {MONDAY: "pagi", TUESDAY: "malam"}))
    assert [slot.period.shift for slot in windows.slots] == ["pagi", "malam"]
    assert windows.slots[0].closes == wita(MONDAY, 23)  # no overlap: nothing split


def _shift_periods(draw: st.DrawFn) -> list[WorkPeriod]:
    roster = {
        MONDAY + timedelta(days=n): draw(st.sampled_from([None, "off", "pagi", "malam"]))
        for n in range(6)
    }
    return _periods(GUARD, roster)


@given(st.composite(_shift_periods)(), st.integers(0, 8 * 24 * 60))
def test_each_instant_has_at_most_one_owner_whose_window_holds_it(
    periods: list[WorkPeriod], minute: int
) -> None:
    windows = Windows.of(periods)
    at = wita(MONDAY) + timedelta(minutes=minute)
    owner = windows.owner(at)
    holders = [slot for slot in windows.slots if slot.opens <= at < slot.closes]
    assert len(holders) <= 1
    assert owner == (holders[0].period if holders else None)
    if owner is not None:
        assert owner.window_start <= at < owner.window_end
    assert all(a.closes <= b.opens for a, b in zip(windows.slots, windows.slots[1:], strict=False))


def test_tap_range_covers_the_windows_reaching_into_the_dates() -> None:
    slack = timedelta(seconds=60) + BURST_MARGIN
    start, end = tap_range([TUESDAY], SETTINGS)
    # No shift opens before its date; the night shift's window runs to 11:00 the next day.
    assert (start, end) == (
        (wita(TUESDAY) - slack).astimezone(UTC),
        (wita(date(2026, 1, 7), 11) + slack).astimezone(UTC),
    )
    assert start.tzinfo is UTC
    office_only = office_settings(
        schedules={"kantor": {}}, units={"diskominfo": UnitSettings(name="D")}
    )
    assert tap_range([TUESDAY, MONDAY, MONDAY], office_only) == (
        (wita(MONDAY) - slack).astimezone(UTC),
        (wita(date(2026, 1, 7)) + slack).astimezone(UTC),
    )
    early = office_settings(
        schedules={
            **SETTINGS.schedules,
            "shift": {"kind": "shift", "shifts": {"dini": {"start": "01:00", "end": "09:00"}}},
        }
    )
    assert tap_range([TUESDAY], early)[0] == (wita(MONDAY, 23) - slack).astimezone(UTC)
    with pytest.raises(ValueError, match="at least one date"):
        tap_range([], SETTINGS)
