"""Which working period a tap belongs to, and which taps the job must read. Pure.

A tap belongs to the period whose tap window contains it (``window_start`` included,
``window_end`` not), never simply to its calendar date: the 06:50 tap of a guard whose
night shift began at 19:00 the evening before is that shift's check-out.

Windows of one employee's consecutive periods may overlap (a night shift's window, open
until 11:00, and the next morning shift's, open from 05:00). The overlap is then split
at the midpoint between the earlier period's end and the later one's start: a tap before
it belongs to the earlier period, at or after it to the later one. The split depends on
the two periods only, so every day's computation draws the same line.

:func:`tap_range` tells the job which UTC range of taps a set of dates needs: every
window that may reach those dates, plus a margin so that a burst of duplicates that
began just before a window is judged the same way whichever range was read.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Final

from collector.attendance.model import WITA
from collector.attendance.schedules import OfficeSchedule, since_midnight

if TYPE_CHECKING:
    from collections.abc import Iterable

    from collector.attendance.calendar import WorkPeriod
    from collector.attendance.settings import AttendanceSettings

BURST_MARGIN: Final = timedelta(hours=1)
"""Read this much more on either side, beyond the duplicate window: a chain of duplicate
taps (each within the window of the one kept before) reaching further than this from
outside a window is a card stuck on a reader, not attendance."""


@dataclass(frozen=True, slots=True)
class Slot:
    """The part of a period's window that is its own, after overlaps are split.

    Attributes:
        period: the working period.
        opens: taps from this instant on belong to ``period``...
        closes: ...up to (not including) this one.
    """

    period: WorkPeriod
    opens: datetime
    closes: datetime


@dataclass(frozen=True, slots=True)
class Windows:
    """One employee's periods with their own windows, in time order, to look taps up in."""

    slots: tuple[Slot, ...]
    _opens: tuple[datetime, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Index the windows' openings for :meth:`owner`."""
        object.__setattr__(self, "_opens", tuple(slot.opens for slot in self.slots))

    @classmethod
    def of(cls, periods: Iterable[WorkPeriod]) -> Windows:
        """The own windows of one employee's ``periods`` (at most one per date)."""
        ordered = sorted(periods, key=lambda period: period.start)
        owned = []
        floor: datetime | None = None
        for index, period in enumerate(ordered):
            opens = period.window_start if floor is None else max(period.window_start, floor)
            closes = period.window_end
            if index + 1 < len(ordered) and closes > ordered[index + 1].window_start:
                closes = _split(period, ordered[index + 1])
            # Split points only move forwards, so a nested pair (a 24 h shift, then a
            # short one the next day) cannot hand one instant to two periods.
            floor = closes if floor is None else max(floor, closes)
            if opens < closes:
                owned.append(Slot(period, opens, closes))
        return cls(tuple(owned))

    def owner(self, at: datetime) -> WorkPeriod | None:
        """The period whose own window contains ``at`` (None: outside every window)."""
        index = bisect.bisect_right(self._opens, at) - 1
        if index >= 0 and at < self.slots[index].closes:
            return self.slots[index].period
        return None


def _split(earlier: WorkPeriod, later: WorkPeriod) -> datetime:
    """Where two overlapping windows part: midway from the earlier end to the later start."""
    middle = earlier.end + (later.start - earlier.end) / 2
    return min(max(middle, later.window_start), earlier.window_end)


def _reach(settings: AttendanceSettings) -> tuple[timedelta, timedelta]:
    """How far before a date's 00:00 and after its next 00:00 a window of it may reach."""
    before = timedelta(0)
    after = timedelta(0)
    for schedule in settings.schedules.values():
        if isinstance(schedule, OfficeSchedule):
            continue  # office windows stay within their date
        for shift in schedule.shifts.values():
            opens = since_midnight(shift.start) - timedelta(minutes=schedule.window_before_min)
            closes = since_midnight(shift.start) + shift.length
            closes += timedelta(minutes=schedule.window_after_min)
            before = max(before, -opens)
            after = max(after, closes - timedelta(days=1))
    return before, after


def tap_range(days: Iterable[date], settings: AttendanceSettings) -> tuple[datetime, datetime]:
    """The UTC range ``[start, end)`` of taps that computing ``days`` needs.

    Covers each date's own WITA day (taps outside every window are listed on their
    date), every window of a period of that date, the windows of neighbouring dates that
    reach into it (a night shift of the evening before) and :data:`BURST_MARGIN`.

    Raises:
        ValueError: ``days`` is empty.
    """
    ordered = sorted(days)
    if not ordered:
        raise ValueError("tap_range needs at least one date")
    before, after = _reach(settings)
    # A date needs its own WITA day (taps outside every window are listed on their date)
    # and its periods' windows, which reach `before` into the previous day and `after`
    # into the next. A neighbour's period reaching into this date needs no taps of its
    # own read: which period a tap belongs to is decided by the periods alone.
    slack = timedelta(seconds=settings.duplicate_window_s) + BURST_MARGIN
    first = datetime.combine(ordered[0], time(), WITA) - before - slack
    last = datetime.combine(ordered[-1] + timedelta(days=1), time(), WITA) + after + slack
    return first.astimezone(UTC), last.astimezone(UTC)
