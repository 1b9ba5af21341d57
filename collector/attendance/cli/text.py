"""Tables as aligned text for the terminal (the report's tables, today's recap, lists)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from collector.attendance.report_tables import Cell, Table


def aligned(headers: Sequence[str], rows: Sequence[Sequence[Cell]]) -> list[str]:
    """Header, a rule and the rows, in columns; numbers right-aligned, None as ``-``."""
    text = [[_text(cell) for cell in row] for row in rows]
    widths = [len(header) for header in headers]
    for row in text:
        widths = [max(width, len(cell)) for width, cell in zip(widths, row, strict=True)]
    numeric = [
        bool(rows) and all(isinstance(row[i], int | float) or row[i] is None for row in rows)
        for i in range(len(headers))
    ]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            cell.rjust(width) if right else cell.ljust(width)
            for cell, width, right in zip(cells, widths, numeric, strict=True)
        ).rstrip()

    return [line(headers), "  ".join("-" * width for width in widths), *map(line, text)]


def table_lines(table: Table, *, limit: int = 0) -> list[str]:
    """A table with its title; at most ``limit`` rows (0: all), saying how many were left out."""
    shown = table.rows if limit <= 0 else table.rows[:limit]
    lines = [*table.title, *aligned(table.headers, shown)] if shown else [*table.title, "(none)"]
    if len(shown) < len(table.rows):
        lines.append(f"... and {len(table.rows) - len(shown)} more (--limit 0 shows all)")
    return lines


def _text(cell: Cell) -> str:
    if cell is None:
        return "-"
    if isinstance(cell, float):
        return f"{cell:g}"
    return str(cell)
