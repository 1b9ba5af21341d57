"""Unexcused absence (TK) per year against PP 94/2021, flagged for the monthly report. Pure.

PP 94/2021 (disiplin PNS) sets the discipline sanction by the days of absence without a
valid reason (*tidak masuk kerja tanpa alasan yang sah*) counted over a calendar year:

=========  ==========  ==================================================================
days       level       sanction
=========  ==========  ==================================================================
3          ringan      teguran lisan
4-6        ringan      teguran tertulis
7-10       ringan      pernyataan tidak puas secara tertulis
11-13      sedang      pemotongan tunjangan kinerja 25% selama 6 bulan
14-16      sedang      pemotongan tunjangan kinerja 25% selama 9 bulan
17-20      sedang      pemotongan tunjangan kinerja 25% selama 12 bulan
21-24      berat       penurunan jabatan setingkat lebih rendah selama 12 bulan
25-27      berat       pembebasan dari jabatan menjadi jabatan pelaksana selama 12 bulan
>= 28      berat       pemberhentian dengan hormat tidak atas permintaan sendiri sebagai PNS
=========  ==========  ==================================================================

and the same dismissal for 10 consecutive working days (*10 hari kerja berturut-turut*).
"Consecutive" runs over working days: a day off (libur) neither counts nor breaks a run,
so TK from a Thursday to the next Wednesday is 5 working days; any other status breaks
it, and so does a date without a result (not computed: not assumed absent). A run may
start in the previous year when its results are given.

The flags tell HR who has reached a threshold, or is one day short of the next; the
sanction itself is decided by the official with that authority, not by Pelangi. The
law is written for PNS: for PPPK and contract staff the flags are a reading aid only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from collector.attendance.errors import AttendanceError
from collector.attendance.model import Status

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import date

    from collector.attendance.model import DayResult

REGULATION: Final = "PP 94/2021"
CONSECUTIVE_DAYS: Final = 10
_DISMISSAL: Final = "pemberhentian dengan hormat tidak atas permintaan sendiri sebagai PNS"
_CUT: Final = "pemotongan tunjangan kinerja 25% selama"


@dataclass(frozen=True, slots=True)
class Sanction:
    """One threshold of unexcused absence days and its sanction.

    Attributes:
        from_days: the threshold (days of TK in the year, or consecutive working days).
        level: ``ringan``, ``sedang`` or ``berat`` (hukuman disiplin ...).
        label: the sanction, in Bahasa Indonesia.
    """

    from_days: int
    level: str
    label: str


YEARLY: Final = (
    Sanction(3, "ringan", "teguran lisan"),
    Sanction(4, "ringan", "teguran tertulis"),
    Sanction(7, "ringan", "pernyataan tidak puas secara tertulis"),
    Sanction(11, "sedang", f"{_CUT} 6 bulan"),
    Sanction(14, "sedang", f"{_CUT} 9 bulan"),
    Sanction(17, "sedang", f"{_CUT} 12 bulan"),
    Sanction(21, "berat", "penurunan jabatan setingkat lebih rendah selama 12 bulan"),
    Sanction(25, "berat", "pembebasan dari jabatan menjadi jabatan pelaksana selama 12 bulan"),
    Sanction(28, "berat", _DISMISSAL),
)
"""The yearly thresholds, in order (each runs up to the next one's ``from_days`` - 1)."""
CONSECUTIVE: Final = Sanction(CONSECUTIVE_DAYS, "berat", _DISMISSAL)


@dataclass(frozen=True, slots=True)
class AbsenceStanding:
    """One employee's unexcused absence in a year, up to a date.

    Attributes:
        employee: :attr:`~collector.attendance.model.Employee.key`.
        year: the calendar year counted.
        tk_days: days of TK in ``year`` up to the date asked for.
        longest_run: the longest run of consecutive working days of TK reaching into
            ``year`` (see the module docstring).
        sanction: the highest yearly threshold reached (None: fewer than 3 days).
        next_sanction: the next yearly threshold (None: the last one is reached).
    """

    employee: str
    year: int
    tk_days: int
    longest_run: int
    sanction: Sanction | None
    next_sanction: Sanction | None

    @property
    def consecutive(self) -> bool:
        """Whether a run of :data:`CONSECUTIVE_DAYS` working days is reached."""
        return self.longest_run >= CONSECUTIVE_DAYS

    @property
    def flags(self) -> tuple[str, ...]:
        """What the monthly report shows, in Bahasa Indonesia (empty: nothing to flag)."""
        flags = []
        if self.sanction is not None:
            flags.append(
                f"TK {self.tk_days} hari dalam {self.year}: hukuman disiplin "
                f"{self.sanction.level}, {self.sanction.label} ({REGULATION})"
            )
        if self.consecutive:
            flags.append(
                f"TK {self.longest_run} hari kerja berturut-turut: hukuman disiplin "
                f"{CONSECUTIVE.level}, {CONSECUTIVE.label} ({REGULATION})"
            )
        if self.next_sanction is not None and self.next_sanction.from_days - self.tk_days == 1:
            flags.append(f"Kurang 1 hari TK lagi menuju {self.next_sanction.label}")
        return tuple(flags)


def yearly_sanction(tk_days: int) -> tuple[Sanction | None, Sanction | None]:
    """The highest yearly threshold ``tk_days`` reaches, and the next one."""
    reached = [s for s in YEARLY if tk_days >= s.from_days]
    later = [s for s in YEARLY if tk_days < s.from_days]
    return (reached[-1] if reached else None), (later[0] if later else None)


def absence_standings(results: Iterable[DayResult], through: date) -> list[AbsenceStanding]:
    """Every employee's standing in ``through``'s year, from their results up to ``through``.

    ``results`` may include earlier years (for runs crossing New Year) and later dates
    (ignored). Employees come sorted by key; each needs at most one result per date.

    Raises:
        AttendanceError: two results for one employee on one date.
    """
    by_employee: dict[str, dict[date, DayResult]] = {}
    for result in results:
        if result.day > through:
            continue
        days = by_employee.setdefault(result.employee, {})
        if days.setdefault(result.day, result) is not result:
            raise AttendanceError(f"two results for {result.employee} on {result.day}")
    standings = []
    for employee in sorted(by_employee):
        days = by_employee[employee]
        tk_days = sum(
            1
            for d, r in days.items()
            if d.year == through.year and r.status is Status.TANPA_KETERANGAN
        )
        sanction, following = yearly_sanction(tk_days)
        longest = _longest_run([days[d] for d in sorted(days)], through.year)
        standings.append(
            AbsenceStanding(employee, through.year, tk_days, longest, sanction, following)
        )
    return standings


def _longest_run(ordered: list[DayResult], year: int) -> int:
    longest = run = 0
    previous: date | None = None
    for result in ordered:
        if previous is not None and (result.day - previous).days != 1:
            run = 0  # a date without a result: not known to be absent
        previous = result.day
        if result.status is Status.TANPA_KETERANGAN:
            run += 1
            if result.day.year == year:
                longest = max(longest, run)
        elif result.status is not Status.LIBUR:
            run = 0
    return longest
