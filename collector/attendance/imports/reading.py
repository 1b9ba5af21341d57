"""Reading one row's cells, collecting a report line for every cell that is wrong."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final, TypeVar

from collector.attendance.imports import cells
from collector.attendance.imports.cells import CellProblem
from collector.attendance.imports.report import Line, problem
from collector.attendance.imports.table import Column
from collector.attendance.vocabulary import OFF_SHIFT
from collector.state.schema import CODE_LENGTH

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from collector.attendance.imports.table import Cell, Row, Table
    from collector.attendance.vocabulary import NameKind, Vocabulary

T = TypeVar("T")


EMPLOYEE_COLUMN: Final = Column(
    "pegawai", ("nip", "kode", "kode_pegawai", "employee", "key"), required=True
)
"""How leave and roster files name the employee: by NIP or key."""


def read_rows(
    table: Table, read: Callable[[Row], T | list[Line]]
) -> tuple[list[Line], list[tuple[int, T]]]:
    """Read every row of ``table``: the problems of bad rows, the values of good ones."""
    problems: list[Line] = []
    values: list[tuple[int, T]] = []
    for row in table.rows:
        value = read(row)
        if isinstance(value, list):
            problems.extend(value)
        else:
            values.append((row.number, value))
    return problems, values


def _code(cell: Cell) -> str | None:
    return cells.text(cell, max_length=CODE_LENGTH)


class RowReader:
    """Reads the cells of one row; :attr:`problems` holds a line per cell that was wrong."""

    def __init__(self, source: str, row: Row) -> None:
        """Read ``row`` of the file ``source``."""
        self.source = source
        self.row = row
        self.problems: list[Line] = []

    def read(self, column: str, parse: Callable[[Cell], T]) -> T | None:
        """The cell of ``column`` read by ``parse``; None (and a problem) if it cannot be."""
        cell = self.row.get(column)
        try:
            return parse(cell)
        except CellProblem as exc:
            self.problems.append(self.problem(cell.header, exc.expected, cells.shown(cell.value)))
            return None

    def require(self, column: str, parse: Callable[[Cell], T | None], expected: str) -> T | None:
        """Like :meth:`read`, and an empty cell is a problem too (``expected`` says what)."""
        before = len(self.problems)
        value = self.read(column, parse)
        if value is None and len(self.problems) == before:
            self.refuse(column, expected, "nothing")
        return value

    def problem(self, column: str, expected: str, got: str) -> Line:
        """A problem line for this row (not recorded: append it to :attr:`problems`)."""
        return problem(self.source, self.row.number, column, expected, got)

    def refuse(self, column: str, expected: str, got: str) -> None:
        """Record a problem with ``column`` (its header as the file writes it)."""
        self.problems.append(self.problem(self.row.get(column).header, expected, got))

    def name(self, column: str, kind: NameKind, names: Vocabulary, *, required: bool) -> str | None:
        """A unit, schedule, shift or leave kind that ``names`` knows."""
        value = self.require(column, _code, f"a {kind}") if required else self.read(column, _code)
        known = names.known(kind)
        if value is None:
            return None
        if known is not None and value not in known and (kind, value) != ("shift", OFF_SHIFT):
            self.refuse(
                column, f"one of {', '.join(sorted(known)) or '(none defined)'}", repr(value)
            )
            return None
        return value

    def employee(self, column: str, employees: Mapping[str, str]) -> str | None:
        """The key of a registered employee, given by key or NIP (``employees``: -> key)."""
        given = self.read(column, cells.text)
        if given is None:
            self.refuse(column, "the NIP or key of an employee", "nothing")
            return None
        key = employees.get(given) or employees.get(given.replace(" ", ""))
        if key is None:
            self.refuse(column, "the NIP or key of a registered employee", repr(given))
        return key
