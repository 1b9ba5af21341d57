"""Whole minutes rounded down, TL/PSW bands at their edges, a day's penalty."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from collector.attendance.bands import add_percents, band, day_penalty, whole_minutes
from collector.attendance.model import Status
from collector.attendance.settings import PenaltyRules

BOUNDS = (30, 60, 90)
RULES = PenaltyRules(
    valid_from=date(2026, 1, 1),
    tl_pct=(0.5, 1, 1.5, 2),
    psw_pct=(0.5, 1, 1.5, 2),
    absent_pct=3,
    daily_cap_pct=3,
)


@pytest.mark.parametrize(
    ("seconds", "minutes"),
    [(-61, 0), (0, 0), (59, 0), (59.999, 0), (60, 1), (119, 1), (120, 2), (5400, 90), (5460, 91)],
)
def test_whole_minutes_round_down(seconds: float, minutes: int) -> None:
    assert whole_minutes(timedelta(seconds=seconds)) == minutes


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [(0, 0), (1, 1), (30, 1), (31, 2), (60, 2), (61, 3), (90, 3), (91, 4), (600, 4)],
)
def test_bands_at_their_edges(minutes: int, expected: int) -> None:
    assert band(minutes, BOUNDS) == expected


def test_other_bounds() -> None:
    assert [band(m, (15, 30, 60)) for m in (15, 16, 30, 31, 60, 61)] == [1, 2, 2, 3, 3, 4]


def test_a_days_penalty_adds_its_bands_up_to_the_cap() -> None:
    assert day_penalty(Status.HADIR, 0, 0, RULES) == 0
    assert day_penalty(Status.HADIR, 1, 3, RULES) == 2.0
    assert day_penalty(Status.HADIR, 4, 4, RULES) == 3.0  # 4 % capped at 3 %
    assert day_penalty(Status.TANPA_KETERANGAN, 0, 0, RULES) == 3.0
    assert day_penalty(Status.CUTI, 4, 4, RULES) == 0
    assert day_penalty(Status.LIBUR, 0, 0, RULES) == 0
    assert day_penalty(Status.HADIR, 4, 4, None) == 0


def test_percents_add_as_written() -> None:
    assert add_percents([0.1, 0.2]) == 0.3  # binary floats would give 0.30000000000000004
    assert add_percents([]) == 0
