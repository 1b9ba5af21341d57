"""One employee's working day, judged from its taps, its leave and the calendar. Pure.

In order:

1. A day off (weekend, holiday, cuti bersama, not rostered) is *libur*, whatever else:
   its taps are listed and count for nothing, and leave over it is noted, not counted
   (leave over a weekend counts only its working days).
2. Whole-day leave decides the status (I, S, C, DL, TB, by its kind). Its taps are still
   shown, with check-in and check-out, but without minutes late or early, bands or
   penalty.
3. No counted tap: TK (*tanpa keterangan*).
4. Otherwise H. Check-in is the first counted tap, check-out the last. A single tap
   before the midpoint of the working hours is a check-in without check-out (PSW band
   ``no_check_out``, PSW4 by default); at or after it, a check-out without check-in (TL
   band ``no_check_in``). Minutes late run from ``start + grace``, minutes early up to
   ``end``, both in whole minutes rounded down (:mod:`collector.attendance.bands`).
   A permission *izin datang terlambat* until HH:MM moves the start to HH:MM, *izin
   pulang cepat* from HH:MM moves the end to HH:MM: lateness or early leave it covers is
   excused. A missing tap is not (without a record nobody knows when the person came).

"Counted" taps are the kept (not duplicate) taps inside the period's own window. Taps
outside every window are listed and noted. Taps stamped by a gateway whose clock was far
off are counted and noted, per gateway, so the report shows them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from collector.attendance import labels
from collector.attendance.bands import band, day_penalty, whole_minutes
from collector.attendance.calendar import DayOff, WorkPeriod
from collector.attendance.errors import AttendanceError
from collector.attendance.model import WITA, DayResult, PartialLeave, Status

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import date

    from collector.attendance.model import Employee, Leave, Tap
    from collector.attendance.settings import AttendanceSettings, BandSettings, PenaltyRules


@dataclass(frozen=True, slots=True)
class DayTaps:
    """The taps of one employee's day, each in the total tap order.

    Attributes:
        counted: the kept taps inside the period's own window.
        listed: every tap of the day: counted, duplicates, and those outside every window.
        outside: how many of ``listed`` fell outside every window.
    """

    counted: tuple[Tap, ...] = ()
    listed: tuple[Tap, ...] = ()
    outside: int = 0


@dataclass(frozen=True, slots=True)
class UnitDay:
    """What a unit's day is judged with: its bands and the penalty rules in force."""

    bands: BandSettings
    penalties: PenaltyRules | None

    @classmethod
    def of(cls, settings: AttendanceSettings, unit: str, day: date) -> UnitDay:
        """``unit``'s bands and penalty rules on ``day``. Raises RegistryMismatch."""
        return cls(settings.bands_for(unit), settings.penalties_on(unit, day))


def judge_day(  # noqa: PLR0913 - the day's inputs; unit_day is a shortcut for many employees
    employee: Employee,
    expected: WorkPeriod | DayOff,
    taps: DayTaps,
    leaves: Sequence[Leave],
    settings: AttendanceSettings,
    *,
    unit_day: UnitDay | None = None,
) -> DayResult:
    """The employee's :class:`DayResult` for ``expected.day`` (rules: module docstring).

    ``leaves`` are the employee's; those not covering the day are ignored. ``unit_day``
    is ``UnitDay.of(settings, employee.unit, expected.day)``, worked out once by callers
    judging a whole unit's day.

    Raises:
        RegistryMismatch: a leave kind or the unit is not configured.
        AttendanceError: a partial-day permission without its time.
    """
    day = expected.day
    covering = [lv for lv in leaves if lv.covers(day)]
    if len(covering) > 1:
        covering.sort(key=lambda lv: (lv.first, lv.id))
    whole = [lv for lv in covering if lv.partial is None]
    notes = _clock_notes(taps.listed)
    if isinstance(expected, DayOff):
        notes.insert(0, expected.reason)
        if taps.listed:
            notes.append(labels.TAPS_ON_DAY_OFF)
        notes += [labels.leave_on_day_off(settings.leave_kind(lv.kind).label) for lv in whole]
        return DayResult(
            employee.key, day, employee.unit, Status.LIBUR, taps=taps.listed, notes=tuple(notes)
        )
    if expected.ramadan:
        notes.insert(0, labels.RAMADAN_HOURS)
    if taps.outside:
        notes.append(labels.outside_window(taps.outside))
    check_in, check_out = _check_in_out(taps.counted, expected.midpoint)
    worked = whole_minutes(check_out - check_in) if check_in and check_out else 0
    if whole:
        status = _leave_status(whole, counted=bool(taps.counted), notes=notes, settings=settings)
        return DayResult(
            employee.key,
            day,
            employee.unit,
            status,
            check_in=check_in,
            check_out=check_out,
            worked_minutes=worked,
            taps=taps.listed,
            notes=tuple(notes),
        )
    unit_day = unit_day or UnitDay.of(settings, employee.unit, day)
    rules = unit_day.penalties
    if not taps.counted:
        return DayResult(
            employee.key,
            day,
            employee.unit,
            Status.TANPA_KETERANGAN,
            penalty_pct=day_penalty(Status.TANPA_KETERANGAN, 0, 0, rules),
            taps=taps.listed,
            notes=tuple(notes),
        )
    late_from, end = _excused(expected, [lv for lv in covering if lv.partial], notes, settings)
    bands = unit_day.bands
    late = whole_minutes(check_in - late_from) if check_in else 0
    early = whole_minutes(end - check_out) if check_out else 0
    tl = band(late, bands.late_min) if check_in else bands.no_check_in
    psw = band(early, bands.early_min) if check_out else bands.no_check_out
    if not check_in:
        notes.append(labels.NO_CHECK_IN)
    if not check_out:
        notes.append(labels.NO_CHECK_OUT)
    return DayResult(
        employee.key,
        day,
        employee.unit,
        Status.HADIR,
        check_in=check_in,
        check_out=check_out,
        minutes_late=late,
        minutes_early=early,
        worked_minutes=worked,
        tl=tl,
        psw=psw,
        penalty_pct=day_penalty(Status.HADIR, tl, psw, rules),
        taps=taps.listed,
        notes=tuple(notes),
    )


def _leave_status(
    whole: Sequence[Leave], *, counted: bool, notes: list[str], settings: AttendanceSettings
) -> Status:
    """The status whole-day leave gives a working day; its notes go first in ``notes``."""
    first = whole[0]
    kind = settings.leave_kind(first.kind)
    leave_notes = [kind.label + (f" ({first.note})" if first.note else "")]
    if len(whole) > 1:
        names = [settings.leave_kind(lv.kind).label for lv in whole]
        leave_notes.append(labels.several_leaves(names, kind.label))
    if counted:
        leave_notes.append(labels.taps_during_leave(kind.label))
    notes[:0] = leave_notes
    return kind.status


def _check_in_out(
    counted: Sequence[Tap], midpoint: datetime
) -> tuple[datetime | None, datetime | None]:
    if not counted:
        return None, None
    if len(counted) > 1:
        return counted[0].at, counted[-1].at
    only = counted[0].at
    return (only, None) if only < midpoint else (None, only)


def _excused(
    period: WorkPeriod,
    partial: Sequence[Leave],
    notes: list[str],
    settings: AttendanceSettings,
) -> tuple[datetime, datetime]:
    """From when arriving is late and until when leaving is early, with the permissions."""
    late_from = period.start + period.grace
    end = period.end
    for leave in partial:
        settings.leave_kind(leave.kind)  # an unknown kind is refused here too
        if leave.until is None or leave.partial is None:
            raise AttendanceError(
                f"leave {leave.id} of {leave.employee}: a partial-day permission needs its "
                "time (until), got none"
            )
        # The first such time of day from the window's opening: 05:00 of a night shift
        # that started the evening before is the next morning.
        opens = period.window_start.astimezone(WITA)
        at = datetime.combine(opens.date(), leave.until, WITA)
        if at < opens:
            at += timedelta(days=1)
        if leave.partial is PartialLeave.LATE_ARRIVAL:
            late_from = max(late_from, at)
        else:
            end = min(end, at)
        notes.append(labels.partial_leave(leave.partial, leave.until))
    return late_from, end


def _clock_notes(listed: Sequence[Tap]) -> list[str]:
    if not any(tap.clock_suspect for tap in listed):
        return []
    gateways = sorted({tap.gateway for tap in listed if tap.clock_suspect})
    return [
        labels.suspect_clock(gw, [t for t in listed if t.clock_suspect and t.gateway == gw])
        for gw in gateways
    ]
