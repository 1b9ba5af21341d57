"""The monthly summary with its monthly cap, and the yearly TK count against PP 94/2021."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from collector.attendance.errors import AttendanceError
from collector.attendance.model import DayResult, Status
from collector.attendance.sanctions import YEARLY, absence_standings, yearly_sanction
from collector.attendance.settings import PenaltyRules
from collector.attendance.summary import monthly_summaries
from sandbox.attendance_rules import office_settings

TK = Status.TANPA_KETERANGAN


def _day(
    day: date, status: Status = Status.HADIR, employee: str = "clerk", **values: int
) -> DayResult:
    return DayResult(employee, day, "diskominfo", status, **values)  # type: ignore[arg-type]


def _days(first: date, statuses: str) -> list[DayResult]:
    """One result a day from ``first``: H, T (TK), L (libur), C (cuti)."""
    codes = {"H": Status.HADIR, "T": TK, "L": Status.LIBUR, "C": Status.CUTI}
    return [_day(first + timedelta(days=n), codes[code]) for n, code in enumerate(statuses)]


def test_a_month_adds_up_its_days() -> None:
    results = [
        _day(date(2026, 3, 2), tl=1, minutes_late=5, worked_minutes=400),
        _day(date(2026, 3, 3), tl=4, psw=2, minutes_late=100, minutes_early=40),
        _day(date(2026, 3, 4), TK),
        _day(date(2026, 3, 7), Status.LIBUR),
        _day(date(2026, 4, 1), TK),  # another month
        _day(date(2026, 3, 2), employee="a-guard"),
    ]
    clerk = monthly_summaries(results, 2026, 3, office_settings())[1]
    assert (clerk.employee, clerk.unit, clerk.year, clerk.month) == ("clerk", "diskominfo", 2026, 3)
    assert dict(clerk.statuses) == dict.fromkeys(Status, 0) | {
        Status.HADIR: 2,
        TK: 1,
        Status.LIBUR: 1,
    }
    assert (clerk.tl, clerk.psw) == ((1, 0, 0, 1), (0, 1, 0, 0))
    assert (clerk.minutes_late, clerk.minutes_early, clerk.worked_minutes) == (105, 40, 400)


def test_the_monthly_cap_is_the_one_in_force_at_the_months_end() -> None:
    settings = office_settings(
        penalties=[
            PenaltyRules(valid_from=date(2026, 1, 1), monthly_cap_pct=5),
            PenaltyRules(valid_from=date(2026, 4, 1), monthly_cap_pct=2),
        ]
    )
    march = [
        DayResult("clerk", date(2026, 3, d), "diskominfo", TK, penalty_pct=1.5) for d in range(2, 7)
    ]
    summary = monthly_summaries(march, 2026, 3, settings)[0]
    assert (summary.penalty_uncapped_pct, summary.penalty_pct) == (7.5, 5.0)
    april = [DayResult("clerk", date(2026, 4, 1), "diskominfo", TK, penalty_pct=3)]
    assert monthly_summaries(april, 2026, 4, settings)[0].penalty_pct == 2.0
    december = [DayResult("clerk", date(2026, 12, 31), "diskominfo", TK, penalty_pct=3)]
    assert monthly_summaries(december, 2026, 12, office_settings())[0].penalty_pct == 3.0


@pytest.mark.parametrize(
    ("days", "label"),
    [
        (2, None),
        (3, "teguran lisan"),
        (4, "teguran tertulis"),
        (6, "teguran tertulis"),
        (7, "pernyataan tidak puas secara tertulis"),
        (10, "pernyataan tidak puas secara tertulis"),
        (11, "pemotongan tunjangan kinerja 25% selama 6 bulan"),
        (13, "pemotongan tunjangan kinerja 25% selama 6 bulan"),
        (14, "pemotongan tunjangan kinerja 25% selama 9 bulan"),
        (16, "pemotongan tunjangan kinerja 25% selama 9 bulan"),
        (17, "pemotongan tunjangan kinerja 25% selama 12 bulan"),
        (20, "pemotongan tunjangan kinerja 25% selama 12 bulan"),
        (21, "penurunan jabatan setingkat lebih rendah selama 12 bulan"),
        (24, "penurunan jabatan setingkat lebih rendah selama 12 bulan"),
        (25, "pembebasan dari jabatan menjadi jabatan pelaksana selama 12 bulan"),
        (27, "pembebasan dari jabatan menjadi jabatan pelaksana selama 12 bulan"),
        (28, "pemberhentian dengan hormat tidak atas permintaan sendiri sebagai PNS"),
        (60, "pemberhentian dengan hormat tidak atas permintaan sendiri sebagai PNS"),
    ],
)
def test_the_pp_94_thresholds(days: int, label: str | None) -> None:
    reached, _ = yearly_sanction(days)
    assert (reached.label if reached else None) == label


def test_the_yearly_count_and_its_flags() -> None:
    # Three single TK days in 2026, one in 2025 (another year), one after the date asked.
    results = [
        _day(date(2025, 12, 30), TK),
        *(_day(date(2026, 1, d), TK) for d in (5, 7, 9)),
        _day(date(2026, 2, 2), TK),
    ]
    standing = absence_standings(results, date(2026, 1, 31))[0]
    assert (standing.year, standing.tk_days, standing.longest_run) == (2026, 3, 1)
    assert standing.sanction == YEARLY[0]
    assert standing.next_sanction == YEARLY[1]
    assert standing.flags == (
        "TK 3 hari dalam 2026: hukuman disiplin ringan, teguran lisan (PP 94/2021)",
        "Kurang 1 hari TK lagi menuju teguran tertulis",
    )
    assert absence_standings(results[:3], date(2026, 1, 31))[0].flags == (
        "Kurang 1 hari TK lagi menuju teguran lisan",
    )
    assert absence_standings([], date(2026, 1, 31)) == []


def test_ten_consecutive_working_days_skip_days_off() -> None:
    # Monday 5 January to Friday 16 January: ten working days around a weekend.
    two_weeks = _days(date(2026, 1, 5), "TTTTTLLTTTTT")
    standing = absence_standings(two_weeks, date(2026, 1, 31))[0]
    assert (standing.tk_days, standing.longest_run, standing.consecutive) == (10, 10, True)
    assert standing.flags[1] == (
        "TK 10 hari kerja berturut-turut: hukuman disiplin berat, pemberhentian dengan hormat "
        "tidak atas permintaan sendiri sebagai PNS (PP 94/2021)"
    )


def test_a_run_is_broken_by_any_other_status_or_a_missing_date() -> None:
    with_leave = _days(date(2026, 1, 5), "TTTTTLLTTCTTT")
    assert absence_standings(with_leave, date(2026, 1, 31))[0].longest_run == 7
    gap = [r for r in _days(date(2026, 1, 5), "TTTTTLLTTTTT") if r.day != date(2026, 1, 10)]
    assert absence_standings(gap, date(2026, 1, 31))[0].longest_run == 5
    # A run from December reaches into January; the yearly count starts afresh.
    new_year = _days(date(2025, 12, 22), "TTTTTLLTTTLLT")
    standing = absence_standings(new_year, date(2026, 1, 31))[0]
    assert (standing.tk_days, standing.longest_run) == (1, 9)


def test_two_results_for_one_day_are_refused() -> None:
    with pytest.raises(AttendanceError, match="two results for clerk on 2026-01-05"):
        absence_standings([_day(date(2026, 1, 5)), _day(date(2026, 1, 5), TK)], date(2026, 1, 31))
