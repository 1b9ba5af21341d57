"""A period's report from what the job stored: results, names, penalties, PP 94 flags.

:func:`build_report` reads the registry (the state database) and nothing else: the
report is of what ``attendance compute`` / ``attendance run`` last computed, so it is
quick and the same however often it is written. It adds what the pure layout
(:class:`~collector.attendance.report_tables.Report`) needs besides the day results:

- the penalty per employee: each month's days added up and capped by that month's
  monthly cap (:func:`~collector.attendance.summary.monthly_summaries`), the months of
  the period then added;
- each employee's unexcused absence in the period's last year up to its last day, and
  the PP 94/2021 flags (:func:`~collector.attendance.sanctions.absence_standings`); the
  results read for that start :data:`RUN_LOOKBACK_DAYS` before New Year, so a run of
  consecutive absence crossing it is seen whole.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from typing import TYPE_CHECKING, Final, Protocol

from collector.attendance.bands import add_percents
from collector.attendance.model import Status
from collector.attendance.report_tables import Report
from collector.attendance.sanctions import CONSECUTIVE_DAYS, AbsenceStanding, absence_standings
from collector.attendance.summary import monthly_summaries

if TYPE_CHECKING:
    from collections.abc import Collection, Iterator

    from collector.attendance import model
    from collector.attendance.settings import AttendanceSettings

RUN_LOOKBACK_DAYS: Final = 31
"""Days before 1 January read for runs of absence: 10 working days fit in any 31."""


class ReportSource(Protocol):
    """What a report reads (:class:`collector.attendance.registry.Registry`)."""

    def day_results(
        self,
        first: date,
        last: date,
        unit: str | None = None,
        *,
        statuses: Collection[model.Status] | None = None,
        employees: Collection[str] | None = None,
    ) -> list[model.DayResult]:
        """Stored results of ``first``..``last`` (of ``unit``, ``statuses``, ``employees``)."""
        ...

    def unknown_taps(self, first: date, last: date) -> list[model.UnknownTap]:
        """Stored taps of unknown cards of ``first``..``last``."""
        ...

    def employees(
        self, first: date | None = None, last: date | None = None, *, unit: str | None = None
    ) -> list[model.Employee]:
        """Employees employed on a day of ``first``..``last`` (of ``unit``)."""
        ...


def build_report(
    source: ReportSource,
    settings: AttendanceSettings,
    first: date,
    last: date,
    unit: str | None = None,
) -> Report:
    """The report of ``first``..``last`` (of ``unit``), from the stored results.

    Raises:
        StateError: the state database failed.
        RegistryMismatch: ``unit``, or a unit of a result, is not configured.
    """
    if unit is not None:
        settings.unit(unit)  # an unknown unit: the list of known ones, not an empty report
    results = source.day_results(first, last, unit)
    keys = {result.employee for result in results}
    penalties: dict[str, list[float]] = {}
    for year, month in months(first, last):
        for summary in monthly_summaries(results, year, month, settings):
            penalties.setdefault(summary.employee, []).append(summary.penalty_pct)
    standings = [s for s in _standings(source, last) if s.employee in keys]
    employees = source.employees(first, last, unit=unit)
    return Report(
        first=first,
        last=last,
        results=results,
        employees={employee.key: employee for employee in employees},
        units={code: configured.name for code, configured in settings.units.items()},
        unknown=source.unknown_taps(first, last) if unit is None else (),
        penalty_pct={key: add_percents(pcts) for key, pcts in penalties.items()},
        sanctions={s.employee: "; ".join(s.flags) for s in standings if s.flags},
        absences_this_year=dict.fromkeys(keys, 0) | {s.employee: s.tk_days for s in standings},
    )


def _standings(source: ReportSource, last: date) -> list[AbsenceStanding]:
    """Everyone's PP 94 standing up to ``last``, reading only what can change it.

    The TK days of the year tell the yearly count. A run of consecutive working days needs
    every status (a day off neither counts nor breaks it; anything else, or a date never
    computed, breaks it), but only someone with at least :data:`CONSECUTIVE_DAYS` TK days
    can have one: only their whole year is read (a December report of 3,000 staff would
    otherwise read a million rows for a handful of people).
    """
    first = date(last.year, 1, 1) - timedelta(days=RUN_LOOKBACK_DAYS)
    absent = source.day_results(first, last, statuses=(Status.TANPA_KETERANGAN,))
    days = Counter(result.employee for result in absent)
    runs_possible = {key for key, count in days.items() if count >= CONSECUTIVE_DAYS}
    history = [r for r in absent if r.employee not in runs_possible]
    if runs_possible:
        history += source.day_results(first, last, employees=runs_possible)
    return absence_standings(history, last)


def months(first: date, last: date) -> Iterator[tuple[int, int]]:
    """Every (year, month) from ``first``'s to ``last``'s, in order."""
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        yield year, month
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def month_range(year: int, month: int) -> tuple[date, date]:
    """The first and last day of a month."""
    following = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return date(year, month, 1), following - timedelta(days=1)
