"""Reading an import file (CSV or XLSX) into rows of named cells, nothing more.

The header is the first row naming at least two of the columns (rows above it, such as a
sheet's title, are skipped). Headers are matched case- and space-insensitively
(``Tanggal Mulai``, ``tanggal-mulai`` and ``TANGGAL_MULAI`` are one column) against each
import's columns and their aliases (Bahasa Indonesia first, common English names too).
Row numbers are the spreadsheet's, so a problem's row is the one a person sees when they
open the file.

CSV: UTF-8 (with or without the BOM Excel writes), UTF-16 with a BOM (Excel's "Unicode
text"), else Windows-1252 (Excel's "CSV" on Indonesian Windows); separated by commas,
semicolons (what Excel writes where the decimal mark is a comma) or tabs, whichever the
first lines use most. XLSX: the first sheet, read with openpyxl in read-only mode; cells keep
their types (a date cell is a date, a number a number).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import TYPE_CHECKING, Final

import openpyxl
from openpyxl.utils.exceptions import InvalidFileException

from collector.attendance.errors import AttendanceError

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from pathlib import Path

CellValue = str | int | float | bool | datetime | date | time | None
"""What a cell holds: text from CSV; from XLSX whatever type the cell has."""

CSV_SUFFIXES: Final = frozenset({".csv", ".txt", ".tsv"})
XLSX_SUFFIXES: Final = frozenset({".xlsx", ".xlsm"})
_SEPARATORS: Final = ",;\t"


class ImportFileError(AttendanceError):
    """An import file cannot be read as a table at all (nothing in it was looked at)."""

    def __init__(self, source: str, reason: str) -> None:
        """Create the error for the file ``source``."""
        self.source = source
        self.reason = reason
        super().__init__(f"{source}: {reason}")


@dataclass(frozen=True, slots=True)
class Column:
    """One column an import understands: its name in reports, and what else it may be called."""

    name: str
    aliases: tuple[str, ...] = ()
    required: bool = False


@dataclass(frozen=True, slots=True)
class Cell:
    """One cell of a row: the column's header as written in the file, and the value."""

    header: str
    value: CellValue


@dataclass(frozen=True, slots=True)
class Row:
    """One data row: its spreadsheet row number and its cells by :attr:`Column.name`."""

    number: int
    cells: Mapping[str, Cell]

    def get(self, column: str) -> Cell:
        """The cell of ``column`` (empty when the file has no such column)."""
        return self.cells.get(column, Cell(column, None))


@dataclass(frozen=True, slots=True)
class Table:
    """An import file's rows, with the columns it has and those no import uses."""

    source: str
    rows: tuple[Row, ...]
    headers: Mapping[str, str]
    """The file's columns: :attr:`Column.name` -> the header as written."""
    unused: tuple[str, ...] = ()
    """Headers that matched no column, as written (reported, never silently used)."""

    def header(self, column: str) -> str:
        """How the file calls ``column`` (its name when the file has no such column)."""
        return self.headers.get(column, column)


def normalise(header: str) -> str:
    """``"Tanggal Mulai "`` -> ``"tanggal_mulai"``: how headers and aliases are compared."""
    return re.sub(r"[\s\-./]+", "_", header.strip().lower()).strip("_")


def read_table(path: Path, columns: Sequence[Column]) -> Table:
    """Read ``path`` (CSV or XLSX, by its suffix) into a :class:`Table` of ``columns``.

    Raises:
        ImportFileError: the file cannot be read, is of another type, has no header row,
            lacks a required column or has one column twice.
    """
    source = path.name
    suffix = path.suffix.lower()
    try:
        if suffix in CSV_SUFFIXES:
            grid = _csv_rows(path.read_bytes())
        elif suffix in XLSX_SUFFIXES:
            grid = _xlsx_rows(path)
        else:
            raise ImportFileError(
                source, f"expected a .csv or .xlsx file, got a {suffix or 'nameless'} file"
            )
    except OSError as exc:
        raise ImportFileError(source, f"cannot read the file: {exc.strerror or exc}") from None
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise ImportFileError(source, f"not a readable XLSX workbook ({exc})") from None
    return to_table(source, grid, columns)


def to_table(
    source: str, grid: Iterable[tuple[int, Sequence[CellValue]]], columns: Sequence[Column]
) -> Table:
    """Build a :class:`Table` of ``columns`` from numbered rows of raw cells."""
    names = {
        normalise(alias): column.name
        for column in columns
        for alias in (column.name, *column.aliases)
    }
    rows = iter((number, cells) for number, cells in grid if any(_filled(c) for c in cells))
    # The header is the first row naming two columns: rows above it (a sheet's title, the
    # office's name) are not data.
    header = next(
        (
            (number, cells)
            for number, cells in rows
            if len({names.get(normalise(str(c))) for c in cells if _filled(c)} - {None}) >= 2
        ),
        None,
    )
    if header is None:
        wanted = ", ".join(c.name for c in columns)
        raise ImportFileError(source, f"expected a header row naming the columns ({wanted})")
    number, titles = header
    positions, unused = _positions(source, number, titles, names)
    missing = [c for c in columns if c.required and c.name not in positions]
    if missing:
        wanted = "; ".join(f"{c.name} (or {', '.join(c.aliases)})" for c in missing)
        found = ", ".join(str(h) for h in titles if _filled(h))
        raise ImportFileError(source, f"row {number}: expected the columns {wanted}; found {found}")
    table_rows = tuple(
        Row(
            row_number,
            {
                name: Cell(text, cells[index] if index < len(cells) else None)
                for name, (index, text) in positions.items()
            },
        )
        for row_number, cells in rows
    )
    headers = {name: text for name, (_, text) in positions.items()}
    return Table(source, table_rows, headers, tuple(unused))


def _positions(
    source: str, number: int, titles: Sequence[CellValue], names: Mapping[str, str]
) -> tuple[dict[str, tuple[int, str]], list[str]]:
    """Where each known column is in the header row (and the headers no column has)."""
    positions: dict[str, tuple[int, str]] = {}
    unused: list[str] = []
    for index, raw in enumerate(titles):
        text = "" if raw is None else str(raw).strip()
        name = names.get(normalise(text))
        if name is None:
            if text:
                unused.append(text)
            continue
        if name in positions:
            raise ImportFileError(
                source,
                f"row {number}: columns {positions[name][1]!r} and {text!r} are both {name!r}",
            )
        positions[name] = (index, text)
    return positions, unused


def _filled(value: CellValue) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _csv_rows(data: bytes) -> list[tuple[int, list[CellValue]]]:
    text = _decode(data)
    head = "\n".join([line for line in text.splitlines() if line.strip()][:5])
    separator = max(_SEPARATORS, key=head.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
    return [(number, list(cells)) for number, cells in enumerate(reader, start=1)]


def _xlsx_rows(path: Path) -> list[tuple[int, list[CellValue]]]:
    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0]
        return [
            (number, [_plain(value) for value in cells])
            for number, cells in enumerate(sheet.iter_rows(min_row=1, values_only=True), start=1)
        ]
    finally:
        workbook.close()


def _plain(value: object) -> CellValue:
    """An openpyxl cell value as one of :data:`CellValue`'s types."""
    if value is None or isinstance(value, str | int | float | bool | datetime | date | time):
        return value
    if isinstance(value, Decimal):
        return float(value)
    return str(value)  # rich text, durations: as their text
