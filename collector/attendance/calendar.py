"""The expected working period of an employee on a date. Pure.

For an employee and a WITA date, :func:`expected_day` gives either a :class:`DayOff`
(status *libur*) or a :class:`WorkPeriod`: the start and end instants, the tap window,
the grace, the midpoint. In order:

1. An office schedule: a weekday the schedule does not list is off (Saturday and Sunday
   by default). On the dates of ``ramadan`` the schedule's ``ramadan_hours`` apply.
2. A shift schedule: the roster decides. No roster entry, or the entry ``off``, is a day
   off. A shift ending at or before its start ends the next day, and belongs to the date
   it starts (a night shift from 19:00 on Monday is Monday's, taps of Tuesday 06:50
   included). Ramadan does not change shifts.
3. A national holiday or a day of cuti bersama is off on schedules that observe it
   (office schedules by default; shift schedules follow the roster unless they say so).

Which period a tap belongs to is decided by the windows, never by the tap's calendar
date (:mod:`collector.attendance.windows`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Final

from collector.attendance.errors import RegistryMismatch
from collector.attendance.holidays import HolidayCalendar, HolidayKind
from collector.attendance.model import WITA
from collector.attendance.schedules import OFF, OfficeSchedule, Weekday, since_midnight

if TYPE_CHECKING:
    from collections.abc import Iterable

    from collector.attendance.holidays import Holiday
    from collector.attendance.model import Employee
    from collector.attendance.settings import AttendanceSettings, DateRange

REACH_DAYS: Final = 4
"""The periods of this many dates either side of a tap's WITA date are enough to place it.

A period of date X has its window inside [X - 12 h, X + 60 h) (a start before 24:00, a
shift of at most 24 h, at most 12 h of window either side), so a tap of date T can only
belong to a period of T - 2 ... T + 1, and a window can only overlap (and be split with)
one of a period at most 2 dates away."""


@dataclass(frozen=True, slots=True)
class Calendar:
    """The dates that change a working day: holidays, cuti bersama and Ramadan.

    Attributes:
        holidays: from the holiday file (:func:`collector.attendance.holidays.load_holidays`).
        ramadan: the Ramadan date ranges (from the settings).
    """

    holidays: HolidayCalendar = field(default_factory=HolidayCalendar)
    ramadan: tuple[DateRange, ...] = ()

    @classmethod
    def of(cls, settings: AttendanceSettings, holidays: HolidayCalendar) -> Calendar:
        """The calendar of ``settings``' Ramadan dates and the loaded ``holidays``."""
        return cls(holidays=holidays, ramadan=tuple(settings.ramadan))

    def is_ramadan(self, day: date) -> bool:
        """Whether ``day`` is in Ramadan (office schedules use their ``ramadan_hours``)."""
        return any(day in span for span in self.ramadan)

    def missing_years(self, days: Iterable[date]) -> list[int]:
        """Years of ``days`` the holiday file does not cover: the job warns about them."""
        return sorted({day.year for day in days} - self.holidays.years)


@dataclass(frozen=True, slots=True)
class WorkPeriod:
    """The working period of one employee on the date it starts (instants in UTC, as taps).

    Attributes:
        day: the date it is reported on: the date it starts.
        schedule: the schedule's name.
        shift: the shift's name (None for an office schedule).
        start: when work starts; a check-in up to ``start + grace`` plus 59 s is on time.
        end: when work ends; a check-out from ``end`` minus 59 s is on time.
        window_start: taps from here on may count for this period...
        window_end: ...up to (not including) this instant.
        grace: the grace after ``start``.
        ramadan: the Ramadan hours apply.
    """

    day: date
    schedule: str
    shift: str | None
    start: datetime
    end: datetime
    window_start: datetime
    window_end: datetime
    grace: timedelta
    ramadan: bool = False
    midpoint: datetime = field(init=False, compare=False)
    """Halfway through: a lone tap before it is a check-in, at or after it a check-out."""

    def __post_init__(self) -> None:
        """Work out the midpoint once: every working day of every employee needs it."""
        object.__setattr__(self, "midpoint", self.start + (self.end - self.start) / 2)


@dataclass(frozen=True, slots=True)
class DayOff:
    """A day without working period (status *libur*).

    Attributes:
        day: the date.
        reason: why, in Bahasa Indonesia (``Minggu``, ``Libur nasional: ...``).
        holiday: the holiday or cuti bersama, when that is the reason.
    """

    day: date
    reason: str
    holiday: Holiday | None = None


def expected_day(
    employee: Employee,
    day: date,
    *,
    shift: str | None,
    calendar: Calendar,
    settings: AttendanceSettings,
) -> WorkPeriod | DayOff:
    """The employee's working period on ``day``, or why there is none (module docstring).

    Args:
        employee: whose day (their unit and schedule decide).
        day: the WITA date.
        shift: the roster's shift name for the employee on ``day`` (None: not rostered);
            used by shift schedules only.
        calendar: holidays, cuti bersama, Ramadan.
        settings: schedules, units.

    Raises:
        RegistryMismatch: the unit, the schedule or the rostered shift is not configured.
    """
    name, schedule = settings.schedule_of(employee)
    holiday = calendar.holidays.on(day)
    if holiday is not None and (
        schedule.off_on_cuti_bersama
        if holiday.kind is HolidayKind.CUTI_BERSAMA
        else schedule.off_on_holidays
    ):
        return DayOff(day, f"{holiday.kind.label}: {holiday.name}", holiday)
    grace = timedelta(minutes=settings.grace_min(employee.unit, schedule))
    if isinstance(schedule, OfficeSchedule):
        ramadan = calendar.is_ramadan(day)
        weekday = Weekday.of(day.weekday())
        hours = (schedule.ramadan_hours if ramadan else schedule.hours).get(weekday)
        if hours is None:
            return DayOff(day, weekday.label)
        return WorkPeriod(
            day=day,
            schedule=name,
            shift=None,
            start=_at(day, since_midnight(hours.start)),
            end=_at(day, since_midnight(hours.end)),
            window_start=_at(day, since_midnight(schedule.window.opens)),
            window_end=_at(day, since_midnight(schedule.window.closes)),
            grace=grace,
            ramadan=ramadan,
        )
    if shift is None:
        return DayOff(day, "Tidak ada jadwal shift")
    if shift == OFF:
        return DayOff(day, "Libur menurut jadwal shift")
    try:
        rostered = schedule.shifts[shift]
    except KeyError:
        context = f"roster of {employee.key} on {day}, schedule {name}"
        raise RegistryMismatch("shift", shift, list(schedule.shifts), context=context) from None
    start = _at(day, since_midnight(rostered.start))
    end = start + rostered.length
    return WorkPeriod(
        day=day,
        schedule=name,
        shift=shift,
        start=start,
        end=end,
        window_start=start - timedelta(minutes=schedule.window_before_min),
        window_end=end + timedelta(minutes=schedule.window_after_min),
        grace=grace,
    )


def _at(day: date, offset: timedelta) -> datetime:
    """``day`` 00:00 WITA plus ``offset`` (WITA has no daylight saving: plain addition), in UTC.

    In UTC because taps are: aware datetimes in two zones compare an order of magnitude
    slower than in one, and a month of an office's taps is compared many times.
    """
    return (datetime(day.year, day.month, day.day, tzinfo=WITA) + offset).astimezone(UTC)
