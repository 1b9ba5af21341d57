"""All employees' attendance for some dates, from taps, the registry and the calendar. Pure.

:func:`compute_days` (and :func:`compute_day` for one date) is what the job calls, with
the taps of :func:`collector.attendance.windows.tap_range` and the registry's values:

1. Only taps on attendance readers count (``readers``); the others are not attendance
   at all (a server room's door reader) and are left out.
2. Each tap's card is matched to an employee on the tap's WITA date
   (:mod:`collector.attendance.cards`). A tap nobody can be credited with (an unknown
   card, an ambiguous match, a holder not employed that day) becomes an
   :class:`~collector.attendance.model.UnknownTap` on its WITA date: listed, never
   dropped.
3. Per employee, duplicates are marked (:mod:`collector.attendance.duplicates`) and each
   tap is placed in the working period whose window contains it
   (:mod:`collector.attendance.windows`); a tap outside every window is listed on its
   WITA date.
4. Each active employee's day is judged (:mod:`collector.attendance.daily`): one
   :class:`~collector.attendance.model.DayResult` per active employee per date, day off
   included.

The result depends on the values given and nothing else: not on the order of the taps,
the employees or the leave, nor on when it runs. Computing a day twice gives equal
results, and taps beyond the date's :func:`~collector.attendance.windows.tap_range`
change nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Final

from collector.attendance import labels
from collector.attendance.calendar import REACH_DAYS, WorkPeriod, expected_day
from collector.attendance.cards import CardIndex
from collector.attendance.daily import DayTaps, UnitDay, judge_day
from collector.attendance.duplicates import in_order, kept, tap_order
from collector.attendance.errors import AttendanceError
from collector.attendance.model import UnknownTap
from collector.attendance.windows import Windows, tap_range

if TYPE_CHECKING:
    from collections.abc import Iterable

    from collector.attendance.calendar import Calendar, DayOff
    from collector.attendance.model import (
        CardAssignment,
        DayResult,
        Employee,
        Leave,
        RosterEntry,
        Tap,
    )
    from collector.attendance.settings import AttendanceSettings

__all__ = ["RegistryValues", "compute_day", "compute_days", "tap_range"]
NO_TAPS: Final = DayTaps()


@dataclass(frozen=True, slots=True)
class RegistryValues:
    """What the rules take from the registry (the state database), as plain values.

    Attributes:
        employees: the employees; only those active on a date get a result for it.
        cards: card assignments with their validity.
        leave: leave and partial-day permissions.
        roster: shift assignments (for employees on shift schedules).
    """

    employees: tuple[Employee, ...] = ()
    cards: tuple[CardAssignment, ...] = ()
    leave: tuple[Leave, ...] = ()
    roster: tuple[RosterEntry, ...] = ()


def compute_day(
    day: date,
    taps: Iterable[Tap],
    registry: RegistryValues,
    calendar: Calendar,
    settings: AttendanceSettings,
) -> tuple[list[DayResult], list[UnknownTap]]:
    """Every active employee's result on ``day``, and the day's unknown taps.

    The one-date case of :func:`compute_days`.
    """
    return compute_days([day], taps, registry, calendar, settings)


def compute_days(
    days: Iterable[date],
    taps: Iterable[Tap],
    registry: RegistryValues,
    calendar: Calendar,
    settings: AttendanceSettings,
) -> tuple[list[DayResult], list[UnknownTap]]:
    """Every active employee's results on ``days``, and those dates' unknown taps.

    Args:
        days: the WITA dates to compute (any order; repeats are ignored).
        taps: at least the taps of ``tap_range(days, settings)``, in any order; more
            change nothing.
        registry: employees, cards, leave and roster.
        calendar: holidays, cuti bersama and Ramadan.
        settings: the attendance settings.

    Returns:
        The results sorted by date then employee key, and the unknown taps sorted by
        date then tap order.

    Raises:
        RegistryMismatch: a unit, schedule, shift or leave kind the settings lack.
        AttendanceError: contradictory registry values (one key for two different
            employees, two shifts rostered for one employee on one date).
    """
    wanted = sorted(set(days))
    people = _people(registry.employees)
    shifts = _shifts(registry.roster)
    leaves: dict[str, list[Leave]] = {}
    for entry in registry.leave:
        leaves.setdefault(entry.employee, []).append(entry)
    credited, unknown = _credit(taps, people, CardIndex(registry.cards), settings, set(wanted))
    span = sorted(
        {d + timedelta(days=n) for d in wanted for n in range(-REACH_DAYS, REACH_DAYS + 1)}
    )
    window = timedelta(seconds=settings.duplicate_window_s)
    shared = _Shared(calendar, settings, shifts)
    wanted_set = set(wanted)
    results = []
    for key in sorted(people):
        employee = people[key]
        own = shared.periods(employee, span)
        buckets = _place(credited.get(key, []), shared.windows(own), window, wanted_set)
        results += [
            judge_day(
                employee,
                own[d],
                buckets.get(d, NO_TAPS),
                leaves.get(key, []),
                settings,
                unit_day=shared.unit_day(employee.unit, d),
            )
            for d in wanted
            if d in own
        ]
    results.sort(key=lambda result: (result.day, result.employee))
    return results, unknown


class _Shared:
    """What employees of one computation share: schedules, windows, units' rules."""

    def __init__(
        self,
        calendar: Calendar,
        settings: AttendanceSettings,
        shifts: dict[tuple[str, date], str],
    ) -> None:
        self._calendar = calendar
        self._settings = settings
        self._shifts = shifts
        self._expected: dict[tuple[str, str | None, str | None, date], WorkPeriod | DayOff] = {}
        self._windows: dict[tuple[int, ...], Windows] = {}
        self._unit_days: dict[tuple[str, date], UnitDay] = {}

    def periods(self, employee: Employee, span: Iterable[date]) -> dict[date, WorkPeriod | DayOff]:
        """The employee's expected days on the dates of ``span`` they are employed."""
        own = {}
        for day in span:
            if employee.active_on(day):
                shift = self._shifts.get((employee.key, day))
                # Each (unit, schedule, shift, date) is worked out once, for all who share it.
                key = (employee.unit, employee.schedule, shift, day)
                if key not in self._expected:
                    self._expected[key] = expected_day(
                        employee, day, shift=shift, calendar=self._calendar, settings=self._settings
                    )
                own[day] = self._expected[key]
        return own

    def windows(self, own: dict[date, WorkPeriod | DayOff]) -> Windows:
        """The windows of ``own`` (from :meth:`periods`, whose shared objects name the set)."""
        periods = tuple(id(period) for period in own.values())
        if periods not in self._windows:
            self._windows[periods] = Windows.of(
                period for period in own.values() if isinstance(period, WorkPeriod)
            )
        return self._windows[periods]

    def unit_day(self, unit: str, day: date) -> UnitDay:
        """The unit's bands and penalty rules on ``day``."""
        if (unit, day) not in self._unit_days:
            self._unit_days[unit, day] = UnitDay.of(self._settings, unit, day)
        return self._unit_days[unit, day]


def _people(employees: Iterable[Employee]) -> dict[str, Employee]:
    people: dict[str, Employee] = {}
    for employee in employees:
        if people.setdefault(employee.key, employee) != employee:
            raise AttendanceError(f"employee key {employee.key!r} is given for two employees")
    return people


def _shifts(roster: Iterable[RosterEntry]) -> dict[tuple[str, date], str]:
    shifts: dict[tuple[str, date], str] = {}
    for entry in roster:
        if shifts.setdefault((entry.employee, entry.day), entry.shift) != entry.shift:
            raise AttendanceError(
                f"roster: {entry.employee} on {entry.day} has two shifts, "
                f"{shifts[entry.employee, entry.day]!r} and {entry.shift!r}; expected one"
            )
    return shifts


def _credit(
    taps: Iterable[Tap],
    people: dict[str, Employee],
    index: CardIndex,
    settings: AttendanceSettings,
    wanted: set[date],
) -> tuple[dict[str, list[Tap]], list[UnknownTap]]:
    """Attendance taps by the employee credited with them; the rest as unknown taps."""
    credited: dict[str, list[Tap]] = {}
    unknown = []
    holders_of: dict[tuple[str, int, date], tuple[str, ...]] = {}
    counts: dict[tuple[str, str, str], bool] = {}  # a site has a few readers, read many times
    for tap in taps:
        reader = (tap.site, tap.gateway, tap.reader)
        if reader not in counts:
            counts[reader] = settings.readers.counts(tap)
        if not counts[reader]:
            continue
        day = tap.local.date()
        card = (tap.uid, tap.bits, day)
        if card not in holders_of:
            holders_of[card] = index.holders(tap.uid, tap.bits, day)
        holders = holders_of[card]
        holder = people.get(holders[0]) if len(holders) == 1 else None
        if holder is not None and holder.active_on(day):
            credited.setdefault(holder.key, []).append(tap)
        elif day in wanted:
            unknown.append(_unknown(tap, day, holders))
    unknown.sort(key=lambda found: (found.day, tap_order(found.tap)))
    return credited, unknown


def _unknown(tap: Tap, day: date, holders: tuple[str, ...]) -> UnknownTap:
    if not holders:
        return UnknownTap(tap, day, note=labels.UNKNOWN_CARD)
    if len(holders) > 1:
        return UnknownTap(tap, day, holders, labels.ambiguous_card(holders))
    return UnknownTap(tap, day, holders, labels.inactive_holder(holders[0]))


def _place(
    taps: list[Tap],
    windows: Windows,
    window: timedelta,
    wanted: set[date],
) -> dict[date, DayTaps]:
    """One employee's taps, placed on the wanted dates they belong to."""
    counted: dict[date, list[Tap]] = {}
    listed: dict[date, list[Tap]] = {}
    outside: dict[date, int] = {}
    for tap, keep in kept(in_order(taps), window):
        period = windows.owner(tap.at)
        day = period.day if period is not None else tap.local.date()
        if day not in wanted:
            continue
        listed.setdefault(day, []).append(tap)
        if period is None:
            outside[day] = outside.get(day, 0) + 1
        elif keep:
            counted.setdefault(day, []).append(tap)
    return {
        day: DayTaps(tuple(counted.get(day, ())), tuple(taps), outside.get(day, 0))
        for day, taps in listed.items()
    }
