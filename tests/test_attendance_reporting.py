"""build_report over a real state database: penalties per month, PP 94 standings over the year."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

import pytest

from collector.attendance.model import DayResult, Employee, Status
from collector.attendance.registry import Registry
from collector.attendance.reporting import build_report, month_range, months
from collector.attendance.settings import AttendanceSettings, PenaltyRules, UnitSettings

if TYPE_CHECKING:
    from collector.state import StateDatabase

pytestmark = pytest.mark.servers

SETTINGS = AttendanceSettings(
    units={"umum": UnitSettings(name="Bagian Umum")},
    penalties=[
        PenaltyRules(
            valid_from=date(2026, 1, 1),
            tl_pct=(0.5, 1, 1.5, 2),
            psw_pct=(0.5, 1, 1.5, 2),
            absent_pct=3,
            monthly_cap_pct=5,
        )
    ],
)
RUNNER = "honorer-1"  # TK on ten working days in a row, a weekend in between
OCCASIONAL = "honorer-2"  # TK on three scattered days
PRESENT = "honorer-3"


def status_of(key: str, day: date) -> Status:
    if day.weekday() >= 5:
        return Status.LIBUR
    if key == RUNNER and date(2026, 2, 9) <= day <= date(2026, 2, 20):
        return Status.TANPA_KETERANGAN
    if key == OCCASIONAL and day in {date(2026, 1, 5), date(2026, 2, 3), date(2026, 3, 4)}:
        return Status.TANPA_KETERANGAN
    return Status.HADIR


def test_standings_count_the_year_and_see_runs_across_weekends(state_db: StateDatabase) -> None:
    registry = Registry(state_db)
    with registry.changes() as changes:
        for key in (RUNNER, OCCASIONAL, PRESENT):
            changes.put_employee(Employee(key, f"Pegawai {key}", "umum"))
    day = date(2025, 12, 1)
    while day <= date(2026, 3, 31):
        results = []
        for key in (RUNNER, OCCASIONAL, PRESENT):
            status = status_of(key, day)
            pct = 3.0 if status is Status.TANPA_KETERANGAN else 0.0
            results.append(DayResult(key, day, "umum", status, penalty_pct=pct))
        registry.save_day_results(day, results, [])
        day += timedelta(days=1)

    report = build_report(registry, SETTINGS, *month_range(2026, 3))

    assert report.absences_this_year == {RUNNER: 10, OCCASIONAL: 3, PRESENT: 0}
    # Ten working days from Mon 9 to Fri 20 February: the weekend neither counts nor breaks.
    assert "TK 10 hari kerja berturut-turut" in report.sanctions[RUNNER]
    assert "teguran lisan" in report.sanctions[OCCASIONAL]
    assert PRESENT not in report.sanctions
    # March alone: one TK day at 3 % for OCCASIONAL, nothing for the others.
    assert report.penalty_pct == {RUNNER: 0.0, OCCASIONAL: 3.0, PRESENT: 0.0}


def test_a_period_across_months_caps_each_month(state_db: StateDatabase) -> None:
    registry = Registry(state_db)
    with registry.changes() as changes:
        changes.put_employee(Employee(RUNNER, "Pegawai", "umum"))
    days = [date(2026, 1, 26) + timedelta(days=n) for n in range(14)]  # 26 Jan - 8 Feb
    for day in days:
        result = DayResult(RUNNER, day, "umum", Status.TANPA_KETERANGAN, penalty_pct=3.0)
        registry.save_day_results(day, [result], [])

    report = build_report(registry, SETTINGS, days[0], days[-1])

    # January: 6 days x 3 % = 18 %, capped at 5; February: 8 days, capped at 5.
    assert report.penalty_pct == {RUNNER: 10.0}


def test_an_unknown_unit_is_refused(state_db: StateDatabase) -> None:
    with pytest.raises(Exception, match="dinkes"):
        build_report(Registry(state_db), SETTINGS, date(2026, 3, 1), date(2026, 3, 1), "dinkes")


def test_months_and_month_ranges() -> None:
    assert list(months(date(2025, 11, 30), date(2026, 2, 1))) == [
        (2025, 11),
        (2025, 12),
        (2026, 1),
        (2026, 2),
    ]
    assert month_range(2028, 2) == (date(2028, 2, 1), date(2028, 2, 29))
    assert month_range(2026, 12) == (date(2026, 12, 1), date(2026, 12, 31))
