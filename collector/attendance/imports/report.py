"""What an import would do, shown before it does anything; and doing it, in one transaction.

Planning an import (``plan_*`` in the import modules) reads the file and the registry and
changes nothing: it returns an :class:`ImportPlan`, a report and the operations that
would apply it. The report has three kinds of lines:

- problems: a row that cannot be imported, naming file, row, column, what was expected
  and what the cell held (``pegawai.csv:4: nip: expected 18 digits ..., got '1985'``);
  such rows are never applied;
- to confirm: changes someone should look at first (a card moving from one person to
  another, a card taken from its holder);
- changes: everything else that would be added or changed.

:func:`apply_plan` applies a plan only when its report is clean (nothing in the first two
kinds) or the caller confirms (``--apply``); then all operations of the rows without
problems are applied in one transaction, so a refusal by the registry (someone changed
it since the plan was made) leaves nothing half-imported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING

from collector.attendance.errors import ImportNotClean

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from collector.attendance.changes import RegistryChanges
    from collector.attendance.model import Employee
    from collector.attendance.registry import Registry


class Kind(Enum):
    """What a report line is; its value: (how a count says it, the heading of its lines)."""

    PROBLEM = ("problem(s)", "problems (these rows are not imported)")
    CONFIRM = ("to confirm", "to confirm")
    CHANGE = ("change(s)", "changes")


@dataclass(frozen=True, slots=True)
class Line:
    """One line of a report: where in the file, and what."""

    kind: Kind
    source: str
    row: int
    text: str

    def __str__(self) -> str:
        """``pegawai.csv:4: nip: expected ..., got ...``."""
        return f"{self.source}:{self.row}: {self.text}"


def problem(source: str, row: int, column: str, expected: str, got: str) -> Line:
    """A problem line: ``<column>: expected <expected>, got <got>``."""
    return Line(Kind.PROBLEM, source, row, f"{column}: expected {expected}, got {got}")


def in_file_order(lines: list[Line]) -> tuple[Line, ...]:
    """``lines`` by row (lines of one row in the order they were found)."""
    return tuple(sorted(lines, key=lambda line: line.row))


def employee_keys(employees: Iterable[Employee]) -> dict[str, str]:
    """How files may name an employee: by key, or by NIP (with or without spaces)."""
    keys = {person.key: person.key for person in employees}
    keys.update({person.nip: person.key for person in employees if person.nip is not None})
    return keys


@dataclass(frozen=True, slots=True)
class Operation:
    """One change to the registry, from one row of the file (skipped if that row is bad)."""

    row: int
    change: Callable[[RegistryChanges], object]
    """E.g. ``partial(RegistryChanges.add_leave, request=leave)``: run in the transaction."""


@dataclass(frozen=True, slots=True)
class ImportReport:
    """The lines of a plan, in the file's order within each kind."""

    source: str
    rows: int
    lines: tuple[Line, ...] = ()
    unused_columns: tuple[str, ...] = ()
    unchanged: int = 0
    """Rows the registry already holds as they are: nothing to do, not listed."""

    def of(self, kind: Kind) -> list[Line]:
        """The lines of one kind."""
        return [line for line in self.lines if line.kind is kind]

    @property
    def clean(self) -> bool:
        """No problems and nothing to confirm: the import may apply without ``--apply``."""
        return not any(line.kind in {Kind.PROBLEM, Kind.CONFIRM} for line in self.lines)

    @property
    def bad_rows(self) -> frozenset[int]:
        """Rows with a problem: never applied."""
        return frozenset(line.row for line in self.of(Kind.PROBLEM))

    def text(self) -> list[str]:
        """The report as a person reads it: a summary line, then each kind under a heading."""
        counts = ", ".join(f"{len(self.of(kind))} {kind.value[0]}" for kind in Kind)
        out = [f"{self.source}: {self.rows} row(s): {counts}, {self.unchanged} unchanged"]
        if self.unused_columns:
            out.append(f"{self.source}: columns not used: {', '.join(self.unused_columns)}")
        for kind in Kind:
            lines = self.of(kind)
            if lines:
                out.append(f"{kind.value[1]}:")
                out.extend(f"  {line}" for line in lines)
        return out


@dataclass(frozen=True, slots=True)
class ImportPlan:
    """A report and the operations that would apply it (see the module docstring)."""

    report: ImportReport
    operations: tuple[Operation, ...] = field(default=())


def apply_plan(registry: Registry, plan: ImportPlan, *, confirmed: bool = False) -> int:
    """Apply ``plan`` in one transaction; return how many operations were applied.

    Raises:
        ImportNotClean: the report is not clean and ``confirmed`` is False (nothing changed).
        RegistryError: the registry refused an operation (nothing changed).
    """
    report = plan.report
    if not (report.clean or confirmed):
        problems = len(report.of(Kind.PROBLEM)) + len(report.of(Kind.CONFIRM))
        raise ImportNotClean(report.source, problems)
    skipped = report.bad_rows
    chosen = [op for op in plan.operations if op.row not in skipped]
    with registry.changes() as changes:
        for operation in chosen:
            operation.change(changes)
    return len(chosen)
