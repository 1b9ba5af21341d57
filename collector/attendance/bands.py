"""Minutes late and early, their TL/PSW bands, and a day's penalty. Pure.

Minutes are whole minutes, rounded down, of the span between the tap and the scheduled
instant: with a start of 07:30 a check-in at 07:30:59 is on time and 07:31:00 one minute
late (TL1); with an end of 16:00 a check-out at 15:59:01 is on time and 15:59:00 one
minute early (PSW1). With the default bounds (30, 60, 90):

=========  ======  ======  ======  =====
minutes    1-30    31-60   61-90   > 90
=========  ======  ======  ======  =====
band       1       2       3       4
=========  ======  ======  ======  =====

A day's penalty, under the rule set in force that day, is the percentage of its TL band
plus that of its PSW band (or ``absent_pct`` for a day without leave, TK), at most
``daily_cap_pct``. Percentages are added as decimals, so 0.5 + 1 + 1.5 is 3.0 exactly.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from collector.attendance.model import Status

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import timedelta

    from collector.attendance.settings import BandBounds, PenaltyRules


def whole_minutes(span: timedelta) -> int:
    """Whole minutes in ``span``, rounded down; 0 for a span that is not positive."""
    return max(0, int(span.total_seconds() // 60))


def band(minutes: int, bounds: BandBounds) -> int:
    """The band (0-4) of ``minutes`` late or early under ``bounds`` (upper bounds of 1-3)."""
    if minutes <= 0:
        return 0
    return 1 + sum(minutes > bound for bound in bounds)


def add_percents(percents: Iterable[float]) -> float:
    """The sum of ``percents`` as written (decimal, not binary, addition)."""
    return float(sum((Decimal(str(pct)) for pct in percents), Decimal(0)))


def capped(pct: float, cap: float | None) -> float:
    """``pct``, at most ``cap`` (None: no cap)."""
    return pct if cap is None else min(pct, cap)


def day_penalty(status: Status, tl: int, psw: int, rules: PenaltyRules | None) -> float:
    """The day's penalty in percent (0 without rules, on leave and on a day off)."""
    if rules is None:
        return 0.0
    if status is Status.TANPA_KETERANGAN:
        parts = [rules.absent_pct]
    elif status is Status.HADIR:
        parts = [rules.tl_pct[tl - 1] if tl else 0.0, rules.psw_pct[psw - 1] if psw else 0.0]
    else:
        return 0.0
    return capped(add_percents(parts), rules.daily_cap_pct)
