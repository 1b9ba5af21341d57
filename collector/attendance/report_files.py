"""Attendance reports as files: an XLSX a unit head can print and sign, or CSV (IO).

XLSX (openpyxl): one sheet per :class:`~collector.attendance.report_tables.Table`, with
the title lines on top, a bold header row frozen below them, column widths fitted to
the content, landscape pages fitted to the width, the header repeated on every printed
page, and a signature block under each unit's summary.

CSV: the daily table in the named file; each further table beside it, named after the
table (``rekap-ringkasan-diskominfo.csv``). UTF-8 with a byte-order mark, so Excel opens
names with accents correctly; the title lines are left out (one header row, then data).
"""

from __future__ import annotations

import csv
import re
from typing import TYPE_CHECKING, Final, Protocol, cast

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from openpyxl.cell import Cell
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet
    from openpyxl.worksheet.dimensions import ColumnDimension, DimensionHolder
    from openpyxl.worksheet.page import PrintPageSetup
    from openpyxl.worksheet.properties import WorksheetProperties

    from collector.attendance.report_tables import Table

MAX_WIDTH: Final = 40
"""Widest column, in characters: notes wrap rather than push the page wider."""
_SLUG: Final = re.compile(r"[^a-z0-9]+")


class _Layout(Protocol):
    """What a write-only sheet has from openpyxl's ``Worksheet._setup`` (its stubs omit it)."""

    column_dimensions: DimensionHolder[str, ColumnDimension]
    page_setup: PrintPageSetup
    sheet_properties: WorksheetProperties


def write_xlsx(tables: Sequence[Table], path: Path) -> list[Path]:
    """Write ``tables`` as the sheets of one workbook at ``path``; return ``[path]``.

    The workbook is streamed (openpyxl's write-only mode): a month's daily table is about
    93,000 rows for 3,000 employees, which a normal workbook holds as a cell object each.
    """
    book = Workbook(write_only=True)
    for table in tables:
        _sheet(book.create_sheet(table.name[:31]), table)
    book.save(path)
    return [path]


def write_csv(tables: Sequence[Table], path: Path) -> list[Path]:
    """Write the first table to ``path`` and each other one beside it; the files written."""
    written = []
    for number, table in enumerate(tables):
        target = path if number == 0 else path.with_name(f"{path.stem}-{slug(table.name)}.csv")
        with target.open("w", encoding="utf-8-sig", newline="") as out:
            rows = csv.writer(out)
            rows.writerow(table.headers)
            rows.writerows(["" if cell is None else cell for cell in row] for row in table.rows)
        written.append(target)
    return written


def slug(name: str) -> str:
    """``Ringkasan DISKOMINFO`` -> ``ringkasan-diskominfo``."""
    return _SLUG.sub("-", name.lower()).strip("-")


def _sheet(sheet: WriteOnlyWorksheet, table: Table) -> None:
    # A streamed sheet takes its layout first, then its rows top to bottom, once.
    header_row = len(table.title) + 2
    sheet.freeze_panes = f"A{header_row + 1}"  # title and header stay in view
    layout = cast("_Layout", sheet)
    _fit_columns(layout, table)
    layout.page_setup.orientation = "landscape"
    layout.page_setup.fitToWidth = 1
    layout.page_setup.fitToHeight = 0
    layout.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    sheet.print_title_rows = f"{header_row}:{header_row}"
    for number, line in enumerate(table.title, start=1):
        title = WriteOnlyCell(sheet, value=line)
        title.font = Font(bold=number == 1, size=14 if number == 1 else 11)
        sheet.append([title])
    sheet.append([])
    sheet.append([_header_cell(sheet, header) for header in table.headers])
    for row in table.rows:
        sheet.append(row)
    if table.signature is not None:
        sheet.append([])
        sheet.append([])
        _signature(sheet, table)


def _header_cell(sheet: WriteOnlyWorksheet, header: str) -> Cell:
    cell = WriteOnlyCell(sheet, value=header)
    cell.font = Font(bold=True)
    cell.alignment = Alignment(wrap_text=True, vertical="center")
    return cell


def _fit_columns(sheet: _Layout, table: Table) -> None:
    for column, header in enumerate(table.headers, start=1):
        longest = max(
            [len(word) for word in header.split()]
            + [len(str(row[column - 1])) for row in table.rows if row[column - 1] is not None],
        )
        sheet.column_dimensions[get_column_letter(column)].width = min(MAX_WIDTH, longest + 2)


def _signature(sheet: WriteOnlyWorksheet, table: Table) -> None:
    """``Mengetahui,`` / the signer / room to sign / a line for the name and NIP."""
    column = max(1, len(table.headers) - 3)
    for line in (
        "Mengetahui,",
        f"{table.signature}",
        "",
        "",
        "",
        "(................................)",
        "NIP.",
    ):
        sheet.append([None] * (column - 1) + [line or None])
