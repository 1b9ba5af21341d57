"""Date arguments of the attendance commands: ``--date``, ``--from``/``--to``, ``--month``.

Typer checks the format (``YYYY-MM-DD``, ``YYYY-MM``) and names the option in its error;
:func:`period` checks the combination and the order, with the same kind of message.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Final

import typer

from collector.attendance.job import days_between, today
from collector.attendance.model import WITA
from collector.attendance.reporting import month_range

DAY_FORMAT: Final = "%Y-%m-%d"

DateOption = Annotated[
    datetime | None,
    typer.Option("--date", "-d", formats=[DAY_FORMAT], help="One day (WITA), YYYY-MM-DD."),
]
FromOption = Annotated[
    datetime | None,
    typer.Option("--from", formats=[DAY_FORMAT], help="First day (WITA), YYYY-MM-DD."),
]
ToOption = Annotated[
    datetime | None,
    typer.Option("--to", formats=[DAY_FORMAT], help="Last day, inclusive (default: --from)."),
]
MonthOption = Annotated[
    datetime | None,
    typer.Option("--month", "-m", formats=["%Y-%m"], help="A calendar month, YYYY-MM."),
]


def wita_today() -> date:
    """Today's date in WITA."""
    return today(datetime.now(WITA))


def period(
    day: datetime | None,
    first: datetime | None,
    last: datetime | None,
    month: datetime | None = None,
    *,
    month_allowed: bool = False,
) -> tuple[date, date]:
    """The first and last day the options name; a usage error for a bad combination."""
    named = (("--date", day), ("--from", first), ("--month", month))
    given = [name for name, value in named if value is not None]
    if len(given) > 1:
        raise typer.BadParameter(f"give one of {', '.join(given)}, not several")
    if last is not None and first is None:
        raise typer.BadParameter("--to needs --from")
    if day is not None:
        return day.date(), day.date()
    if month is not None:
        return month_range(month.year, month.month)
    if first is not None:
        end = (last or first).date()
        if end < first.date():
            raise typer.BadParameter(f"--to ({end}) is before --from ({first.date()})")
        return first.date(), end
    options = "--date, --from/--to or --month" if month_allowed else "--date or --from/--to"
    raise typer.BadParameter(f"say which days: {options}")


__all__ = [
    "DateOption",
    "FromOption",
    "MonthOption",
    "ToOption",
    "days_between",
    "period",
    "wita_today",
]
