"""Builders for the attendance rules' tests: WITA instants, taps, a small office's registry.

The office: unit ``diskominfo`` on the default ASN schedule (``kantor``), unit
``satpam`` (guards) on the default shift schedule, unit ``layanan`` on a schedule with
Saturday hours that works on cuti bersama. Ramadan 1447 H is 2026-02-19..2026-03-20 and
the holidays are ``config/holidays-2026.example.yaml``.
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Final

from collector.attendance.calendar import Calendar
from collector.attendance.holidays import HolidayCalendar, load_holidays
from collector.attendance.model import WITA, CardAssignment, Employee, Tap
from collector.attendance.rules import RegistryValues, compute_days
from collector.attendance.schedules import Hours, OfficeSchedule, Weekday, default_schedules
from collector.attendance.settings import AttendanceSettings, DateRange, UnitSettings

if TYPE_CHECKING:
    from collections.abc import Iterable

    from collector.attendance.model import DayResult, Leave, RosterEntry, UnknownTap

HOLIDAYS_2026: Final = Path(__file__).resolve().parent.parent / "config/holidays-2026.example.yaml"
RAMADAN_2026: Final = DateRange(first=date(2026, 2, 19), last=date(2026, 3, 20))
SITE: Final = "bukit-pelangi"


def _layanan() -> OfficeSchedule:
    base = OfficeSchedule()
    saturday = Hours(start=time(8), end=time(12))
    return OfficeSchedule(
        hours={**base.hours, Weekday.SAT: saturday},
        ramadan_hours={**base.ramadan_hours, Weekday.SAT: saturday},
        off_on_cuti_bersama=False,
    )


def office_settings(**changes: object) -> AttendanceSettings:
    """The test office's settings, with top-level keys replaced by ``changes``."""
    values: dict[str, object] = {
        "units": {
            "diskominfo": UnitSettings(name="Dinas Komunikasi dan Informatika"),
            "satpam": UnitSettings(name="Satuan Pengamanan", schedule="shift"),
            "layanan": UnitSettings(name="Unit layanan", schedule="layanan"),
        },
        "schedules": {**default_schedules(), "layanan": _layanan()},
        "ramadan": [RAMADAN_2026],
    }
    return AttendanceSettings.model_validate(values | changes)


@functools.cache
def _holidays() -> HolidayCalendar:
    return load_holidays(HOLIDAYS_2026)


def office_calendar(settings: AttendanceSettings | None = None) -> Calendar:
    """The 2026 example holidays with the settings' Ramadan."""
    return Calendar.of(settings or office_settings(), _holidays())


def wita(day: date, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    """An instant given in WITA, as an aware datetime."""
    return datetime.combine(day, time(hour, minute, second), WITA)


def tap(  # noqa: PLR0913 - every field of a tap, named where a test cares
    uid: str,
    at: datetime,
    *,
    reader: str = "lobby",
    gateway: str = "gw-1",
    site: str = SITE,
    bits: int = 32,
    suspect: bool = False,
) -> Tap:
    """A tap as the tap store returns it (the instant in UTC)."""
    return Tap(uid, at.astimezone(UTC), site, gateway, reader, bits, suspect)


def person(
    key: str,
    unit: str = "diskominfo",
    *,
    schedule: str | None = None,
    active: tuple[date | None, date | None] = (None, None),
) -> Employee:
    """An employee named after their key, employed over ``active`` (None: open)."""
    return Employee(key, f"Pegawai {key}", unit, schedule, None, *active)


def card_of(
    employee: str,
    uid: str,
    first: date = date(2026, 1, 1),
    last: date | None = None,
    bits: int = 32,
) -> CardAssignment:
    """A card held by ``employee`` from ``first`` to ``last``."""
    return CardAssignment(uid, employee, first, last, bits)


def compute(  # noqa: PLR0913 - the rules' inputs, defaulted to the test office
    days: Iterable[date],
    taps: Iterable[Tap],
    employees: Iterable[Employee],
    cards: Iterable[CardAssignment],
    *,
    leave: Iterable[Leave] = (),
    roster: Iterable[RosterEntry] = (),
    settings: AttendanceSettings | None = None,
    calendar: Calendar | None = None,
) -> tuple[list[DayResult], list[UnknownTap]]:
    """:func:`compute_days` for the test office."""
    settings = settings or office_settings()
    registry = RegistryValues(tuple(employees), tuple(cards), tuple(leave), tuple(roster))
    return compute_days(days, taps, registry, calendar or office_calendar(settings), settings)
