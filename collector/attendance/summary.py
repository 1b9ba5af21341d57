"""One employee's month: days per status, TL/PSW bands, minutes, the capped penalty. Pure.

The monthly penalty is the sum of the days' penalties (each already at most the daily
cap of the rule set in force that day), at most the monthly cap of the rule set in force
on the month's last day: a recap of March is capped by March's rules. The unit is the
one of the employee's latest result in the month.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from types import MappingProxyType
from typing import TYPE_CHECKING

from collector.attendance.bands import add_percents, capped
from collector.attendance.model import Status

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from collector.attendance.model import DayResult
    from collector.attendance.settings import AttendanceSettings

Bands = tuple[int, int, int, int]


@dataclass(frozen=True, slots=True)
class MonthSummary:
    """One employee's month, as the summary sheet shows it.

    Attributes:
        employee: :attr:`~collector.attendance.model.Employee.key`.
        unit: the unit of the latest result in the month.
        year: the year.
        month: the month, 1-12.
        statuses: days per status (every status present, 0 when none).
        tl: days in TL1, TL2, TL3, TL4.
        psw: days in PSW1, PSW2, PSW3, PSW4.
        minutes_late: the month's minutes late.
        minutes_early: the month's minutes early.
        worked_minutes: the month's worked minutes.
        penalty_uncapped_pct: the days' penalties added up.
        penalty_pct: the same, at most the monthly cap.
    """

    employee: str
    unit: str
    year: int
    month: int
    statuses: Mapping[Status, int] = field(default_factory=lambda: MappingProxyType({}))
    tl: Bands = (0, 0, 0, 0)
    psw: Bands = (0, 0, 0, 0)
    minutes_late: int = 0
    minutes_early: int = 0
    worked_minutes: int = 0
    penalty_uncapped_pct: float = 0.0
    penalty_pct: float = 0.0


def monthly_summaries(
    results: Iterable[DayResult], year: int, month: int, settings: AttendanceSettings
) -> list[MonthSummary]:
    """The month's summary of every employee with a result in it, sorted by unit and key.

    Results of other months are ignored.

    Raises:
        RegistryMismatch: an employee's unit is not configured.
    """
    by_employee: dict[str, list[DayResult]] = {}
    for result in results:
        if (result.day.year, result.day.month) == (year, month):
            by_employee.setdefault(result.employee, []).append(result)
    last_day = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    summaries = []
    for employee, days in by_employee.items():
        days.sort(key=lambda result: result.day)
        unit = days[-1].unit
        rules = settings.penalties_on(unit, last_day)
        uncapped = add_percents(result.penalty_pct for result in days)
        statuses = {status: sum(r.status is status for r in days) for status in Status}
        summaries.append(
            MonthSummary(
                employee=employee,
                unit=unit,
                year=year,
                month=month,
                statuses=MappingProxyType(statuses),
                tl=_bands(r.tl for r in days),
                psw=_bands(r.psw for r in days),
                minutes_late=sum(r.minutes_late for r in days),
                minutes_early=sum(r.minutes_early for r in days),
                worked_minutes=sum(r.worked_minutes for r in days),
                penalty_uncapped_pct=uncapped,
                penalty_pct=capped(uncapped, rules.monthly_cap_pct if rules else None),
            )
        )
    return sorted(summaries, key=lambda summary: (summary.unit, summary.employee))


def _bands(bands: Iterable[int]) -> Bands:
    counted = list(bands)
    return counted.count(1), counted.count(2), counted.count(3), counted.count(4)
