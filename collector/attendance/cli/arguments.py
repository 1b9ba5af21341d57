"""Dates and times typed on the command line: read as the import files read them, or refused.

A technician types the dates HR's sheets hold (``2026-12-03`` or day first, ``03/12/2026``),
so the options take exactly the forms the import files accept (:mod:`..imports.cells`).
A value in no such form ends the command with one line naming the option, what was
expected and what came, and :data:`EXIT_BAD_ARGUMENT` (click's own status for a bad
command line) — not a usage panel, not a traceback.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any, Final, TypeVar

import typer

from collector.attendance.imports import cells
from collector.attendance.imports.cells import CellProblem
from collector.attendance.imports.table import Cell
from collector.attendance.model import WITA
from collector.attendance.reporting import month_range

if TYPE_CHECKING:
    from collections.abc import Callable

T = TypeVar("T")

EXIT_BAD_ARGUMENT: Final = 2
"""A date, time or id on the command line is not one (as click exits for a bad option)."""


def today() -> date:
    """Today's date in WITA, the office's (a UTC date is wrong until 08:00)."""
    return datetime.now(WITA).date()


def refuse(option: str, expected: str, got: str) -> typer.Exit:
    """Say on stderr that ``option`` needs ``expected`` and got ``got``; the exit to raise."""
    typer.echo(f"pelangi-collector: {option}: expected {expected}, got {got!r}", err=True)
    return typer.Exit(EXIT_BAD_ARGUMENT)


def _reader(option: str, read: Callable[[Cell], T | None], expected: str) -> Callable[[str], T]:
    def parse(text: str) -> T:
        try:
            value = read(Cell(option, text))
        except CellProblem as exc:
            raise refuse(option, exc.expected, text) from None
        if value is None:  # an empty string: cells read it as "no value"
            raise refuse(option, expected, text)
        return value

    return parse


def day_option(option: str, help_text: str, *aliases: str) -> Any:  # noqa: ANN401 - typer's Option
    """A typer option holding a date (see the module docstring)."""
    parse = _reader(option, cells.day, cells.DATE_FORMS)
    return typer.Option(option, *aliases, parser=parse, metavar="DATE", help=help_text)


def time_option(option: str, help_text: str) -> Any:  # noqa: ANN401 - typer's Option
    """A typer option holding a time of day (``09:30`` or ``09.30``, WITA)."""
    parse = _reader(option, cells.time_of_day, cells.TIME_FORMS)
    return typer.Option(option, parser=parse, metavar="HH:MM", help=help_text)


DateOption = Annotated[date | None, day_option("--date", "One day (WITA).", "-d")]
FromOption = Annotated[date | None, day_option("--from", "The first day (WITA).")]
ToOption = Annotated[date | None, day_option("--to", "The last day, included (default: --from).")]
MonthOption = Annotated[
    datetime | None,
    typer.Option("--month", "-m", formats=["%Y-%m"], help="A calendar month, YYYY-MM."),
]


def period(
    day: date | None,
    first: date | None,
    last: date | None,
    month: datetime | None = None,
    *,
    month_allowed: bool = False,
) -> tuple[date, date]:
    """The first and last day that ``--date``, ``--from``/``--to`` or ``--month`` name.

    Raises:
        typer.BadParameter: none of them, several, ``--to`` alone or before ``--from``.
    """
    named = (("--date", day), ("--from", first), ("--month", month))
    given = [name for name, value in named if value is not None]
    if len(given) > 1:
        raise typer.BadParameter(f"give one of {', '.join(given)}, not several")
    if last is not None and first is None:
        raise typer.BadParameter("--to needs --from")
    if day is not None:
        return day, day
    if month is not None:
        return month_range(month.year, month.month)
    if first is not None:
        end = last or first
        if end < first:
            raise typer.BadParameter(f"--to ({end}) is before --from ({first})")
        return first, end
    options = "--date, --from/--to or --month" if month_allowed else "--date or --from/--to"
    raise typer.BadParameter(f"say which days: {options}")


__all__ = [
    "EXIT_BAD_ARGUMENT",
    "DateOption",
    "FromOption",
    "MonthOption",
    "ToOption",
    "day_option",
    "period",
    "refuse",
    "time_option",
    "today",
]
