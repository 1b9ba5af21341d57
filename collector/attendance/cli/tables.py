"""Aligned plain-text tables for the registry commands, and how their cells are written.

Plain columns two spaces apart, no borders: the output is read in a terminal over SSH and
piped into ``grep``/``sort`` just as often, so every row stays one line. Names and units
are printed as stored; an empty value is ``-`` so that columns never collapse.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import typer

from pelangi.console import aligned

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import date

    from collector.attendance.model import Employee, Leave
    from collector.attendance.report_tables import Table

EMPTY: Final = "-"


def echo_table(header: Sequence[str], rows: Sequence[Sequence[str]], what: str) -> None:
    """Print the table on stdout, and how many ``what`` it lists on stderr (not in a pipe)."""
    if rows:
        for line in aligned(header, rows):
            typer.echo(line)
    typer.echo(f"{len(rows)} {what}", err=True)


def section(title: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """A titled, indented table (``title: none`` without rows), for one record's parts."""
    if not rows:
        return [f"{title}: none"]
    return [f"{title}:", *(f"  {line}" for line in aligned(header, rows))]


def cell(value: object) -> str:
    """A value as a table shows it: ``-`` for None or empty, ``0.5`` for a float."""
    if value is None or value == "":
        return EMPTY
    return f"{value:g}" if isinstance(value, float) else str(value)


def table_lines(table: Table, *, limit: int = 0) -> list[str]:
    """A report table with its title; at most ``limit`` rows (0: all), saying what was left."""
    shown = table.rows if limit <= 0 else table.rows[:limit]
    if not shown:
        return [*table.title, "(none)"]
    lines = [*table.title, *aligned(table.headers, [[cell(c) for c in row] for row in shown])]
    if len(shown) < len(table.rows):
        lines.append(f"... and {len(table.rows) - len(shown)} more (--limit 0 shows all)")
    return lines


def period(first: date | None, last: date | None) -> str:
    """``2026-12-01..2026-12-05``, ``2026-12-01`` (one day), ``2026-12-01..`` (no end)."""
    if first is not None and first == last:
        return str(first)
    if first is None and last is None:
        return "always"
    return f"{first or ''}..{last or ''}"


def part_of_day(leave: Leave) -> str:
    """``datang_terlambat 09:30`` for a partial-day permission, ``-`` for whole days."""
    if leave.partial is None or leave.until is None:
        return EMPTY
    return f"{leave.partial.value} {leave.until:%H:%M}"


WHO_HEADER: Final = ("employee", "name", "unit")
"""The columns of :func:`who`."""


def who(person: Employee) -> list[str]:
    """An employee as the cells of :data:`WHO_HEADER`, beside what is theirs."""
    return [person.key, person.name, person.unit]


LEAVE_HEADER: Final = ("id", "kind", "days", "part of day", "note")
"""The columns of :func:`leave_cells`."""


def leave_cells(leave: Leave) -> list[str]:
    """One leave as the cells of :data:`LEAVE_HEADER`."""
    days = period(leave.first, leave.last)
    return [str(leave.id), leave.kind, days, part_of_day(leave), cell(leave.note)]


__all__ = [
    "EMPTY",
    "LEAVE_HEADER",
    "WHO_HEADER",
    "aligned",
    "cell",
    "echo_table",
    "leave_cells",
    "part_of_day",
    "period",
    "section",
    "table_lines",
    "who",
]
