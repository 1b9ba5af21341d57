"""The expected working period: weekdays, Fridays, Ramadan, holidays, cuti bersama, shifts."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

import pytest

from collector.attendance.calendar import Calendar, DayOff, WorkPeriod, expected_day
from collector.attendance.errors import RegistryMismatch
from collector.attendance.holidays import HolidayCalendar, HolidayKind
from collector.attendance.settings import AttendanceSettings, UnitSettings
from sandbox.attendance_rules import office_calendar, office_settings, person, wita

if TYPE_CHECKING:
    from collector.attendance.model import Employee

SETTINGS = office_settings()
CALENDAR = office_calendar(SETTINGS)
CLERK = person("clerk")
GUARD = person("guard", "satpam")
MONDAY = date(2026, 1, 5)
FRIDAY = date(2026, 1, 9)


def _period(
    employee: Employee,
    day: date,
    shift: str | None = None,
    settings: AttendanceSettings = SETTINGS,
) -> WorkPeriod:
    found = expected_day(employee, day, shift=shift, calendar=CALENDAR, settings=settings)
    assert isinstance(found, WorkPeriod), found
    return found


def _off(employee: Employee, day: date, shift: str | None = None) -> DayOff:
    found = expected_day(employee, day, shift=shift, calendar=CALENDAR, settings=SETTINGS)
    assert isinstance(found, DayOff), found
    return found


def test_monday_to_thursday_is_0730_to_1600() -> None:
    for day in (MONDAY + timedelta(days=n) for n in range(4)):
        period = _period(CLERK, day)
        assert (period.start, period.end) == (wita(day, 7, 30), wita(day, 16))
        assert (period.window_start, period.window_end) == (wita(day, 5, 30), wita(day, 20))
        assert period.midpoint == wita(day, 11, 45)
        assert period.grace == timedelta(0)
        assert (period.schedule, period.shift, period.ramadan) == ("kantor", None, False)


def test_friday_ends_at_1630() -> None:
    period = _period(CLERK, FRIDAY)
    assert (period.start, period.end, period.midpoint) == (
        wita(FRIDAY, 7, 30),
        wita(FRIDAY, 16, 30),
        wita(FRIDAY, 12),
    )


def test_weekends_are_off_unless_the_schedule_works_them() -> None:
    assert _off(CLERK, date(2026, 1, 10)).reason == "Sabtu"
    assert _off(CLERK, date(2026, 1, 11)).reason == "Minggu"
    saturday = _period(person("desk", "layanan"), date(2026, 1, 10))
    assert (saturday.start, saturday.end) == (
        wita(date(2026, 1, 10), 8),
        wita(date(2026, 1, 10), 12),
    )


def test_ramadan_switches_the_hours() -> None:
    thursday, friday = date(2026, 3, 5), date(2026, 3, 6)
    assert (_period(CLERK, thursday).start, _period(CLERK, thursday).end) == (
        wita(thursday, 8),
        wita(thursday, 15),
    )
    assert _period(CLERK, friday).end == wita(friday, 15, 30)
    assert _period(CLERK, friday).ramadan
    assert _period(CLERK, date(2026, 2, 19)).ramadan  # first day
    assert not _period(CLERK, date(2026, 2, 18)).ramadan


def test_holidays_and_cuti_bersama_are_days_off() -> None:
    new_year = _off(CLERK, date(2026, 1, 1))
    assert new_year.reason == "Libur nasional: Tahun Baru 2026 Masehi"
    assert new_year.holiday is not None
    assert new_year.holiday.kind is HolidayKind.LIBUR_NASIONAL
    assert _off(CLERK, date(2026, 2, 16)).reason == (
        "Cuti bersama: Cuti bersama Tahun Baru Imlek 2577 Kongzili"
    )
    # A schedule may work on cuti bersama, never silently on a holiday it observes.
    desk = person("desk", "layanan")
    assert _period(desk, date(2026, 2, 16)).end == wita(date(2026, 2, 16), 16)
    assert _off(desk, date(2026, 2, 17)).holiday is not None


def test_a_night_shift_belongs_to_the_date_it_starts() -> None:
    period = _period(GUARD, MONDAY, "malam")
    tuesday = MONDAY + timedelta(days=1)
    assert (period.day, period.schedule, period.shift) == (MONDAY, "shift", "malam")
    assert (period.start, period.end) == (wita(MONDAY, 19), wita(tuesday, 7))
    assert (period.window_start, period.window_end) == (wita(MONDAY, 17), wita(tuesday, 11))
    assert period.midpoint == wita(tuesday, 1)
    day_shift = _period(GUARD, MONDAY, "pagi")
    assert (day_shift.window_start, day_shift.window_end) == (wita(MONDAY, 5), wita(MONDAY, 23))


def test_shift_days_follow_the_roster() -> None:
    assert _off(GUARD, MONDAY).reason == "Tidak ada jadwal shift"
    assert _off(GUARD, MONDAY, "off").reason == "Libur menurut jadwal shift"
    # Guards work holidays they are rostered on, weekends too.
    assert _period(GUARD, date(2026, 1, 1), "pagi").start == wita(date(2026, 1, 1), 7)
    assert _period(GUARD, date(2026, 1, 10), "malam").day == date(2026, 1, 10)
    with pytest.raises(
        RegistryMismatch, match=r"unknown shift 'siang' .*expected one of: malam, pagi"
    ):
        _period(GUARD, MONDAY, "siang")


def test_a_shift_schedule_may_observe_holidays() -> None:
    settings = office_settings(
        schedules={
            "shift": {
                "kind": "shift",
                "shifts": {"pagi": {"start": "07:00", "end": "19:00"}},
                "off_on_holidays": True,
            }
        },
        units={"satpam": UnitSettings(name="Satpam", schedule="shift")},
    )
    found = expected_day(
        GUARD, date(2026, 1, 1), shift="pagi", calendar=CALENDAR, settings=settings
    )
    assert isinstance(found, DayOff)


def test_office_employees_ignore_the_roster() -> None:
    assert _period(CLERK, MONDAY, "malam").shift is None


def test_grace_comes_from_the_unit_or_the_schedule() -> None:
    settings = office_settings(
        units={"diskominfo": UnitSettings(name="D", grace_min=15)},
    )
    assert _period(CLERK, MONDAY, settings=settings).grace == timedelta(minutes=15)


def test_the_calendar_names_years_without_holiday_data() -> None:
    assert CALENDAR.missing_years([date(2026, 12, 31), date(2027, 1, 1)]) == [2027]
    assert Calendar().missing_years([MONDAY]) == [2026]
    assert Calendar(HolidayCalendar(), ()).is_ramadan(date(2026, 3, 1)) is False
