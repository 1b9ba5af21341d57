"""The benchmark's office: its settings, its registry and its stored taps (none of it timed).

The month is :func:`sandbox.attendance.synthetic_month` for March 2026: office staff in
three units on the ASN schedule (Ramadan hours until the 20th), four guards on day and
night shifts, leave, one card moved mid-month, one card nobody holds. The calendar has
no holidays, so every weekday is a working day and 3,000 staff give the issue's
~130,000 taps (129,357); with the 2026 example holidays the same staff tap 99,942 times.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from collector.attendance.calendar import Calendar
from collector.attendance.holidays import HolidayCalendar
from collector.attendance.registry import Registry
from collector.attendance.schedules import default_schedules
from collector.attendance.settings import AttendanceSettings, UnitSettings
from collector.attendance.vocabulary import Vocabulary
from sandbox.attendance import UNITS, synthetic_month
from sandbox.attendance_rules import RAMADAN_2026

if TYPE_CHECKING:
    from datetime import date

    from collector.state import StateDatabase
    from collector.storage.influx_v1 import InfluxV1Writer
    from sandbox.attendance import Month

YEAR: Final = 2026
MONTH: Final = 3
GUARD_SCHEDULE: Final = "satpam"
"""The schedule :func:`~sandbox.attendance.synthetic_month` gives its guards."""
LOAD_LINES: Final = 5_000
"""Line protocol per POST while loading the taps."""


def office_settings() -> AttendanceSettings:
    """The month's units (the guards' on a shift schedule), default bands, no penalties."""
    schedules = default_schedules()
    units = {
        code: UnitSettings(name=name, schedule=GUARD_SCHEDULE if code == "satpam" else "kantor")
        for code, name in UNITS.items()
    }
    return AttendanceSettings(
        schedules={**schedules, GUARD_SCHEDULE: schedules["shift"]},
        units=units,
        ramadan=[RAMADAN_2026],
    )


def office_calendar(settings: AttendanceSettings) -> Calendar:
    """Ramadan from ``settings``; no holidays (see the module docstring)."""
    return Calendar.of(settings, HolidayCalendar(years=frozenset({YEAR})))


def month_of(staff: int) -> Month:
    """March 2026 for ``staff`` office employees (and the guards)."""
    return synthetic_month(YEAR, MONTH, staff, seed=1)


def seed_registry(database: StateDatabase, settings: AttendanceSettings, month: Month) -> Registry:
    """The registry holding the month's employees, cards, leave and roster, in one transaction."""
    registry = Registry(database, Vocabulary.from_settings(settings))
    with registry.changes() as changes:
        for employee in month.employees:
            changes.put_employee(employee)
        for card in month.cards:  # in order: an ended assignment before the card's next one
            changes.assign_card(card)
        for leave in month.leave:
            changes.add_leave(leave)
        for entry in month.roster:
            changes.put_roster(entry)
    return registry


def store_taps(writer: InfluxV1Writer, lines: list[str]) -> None:
    """Write the month's ``card_read`` line protocol, :data:`LOAD_LINES` per POST."""
    for first in range(0, len(lines), LOAD_LINES):
        writer.write(lines[first : first + LOAD_LINES])


def month_days(month: Month) -> list[date]:
    """Every date of the month, as ``attendance compute --month`` would pass them."""
    return list(month.days())
