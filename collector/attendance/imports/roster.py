"""Roster files: which shift an employee works on a date (security guards, night staff).

=============  ==========================================  ===============================
column         also accepted                               holds
=============  ==========================================  ===============================
pegawai*       nip, kode, kode_pegawai, employee, key      the employee's NIP or key
tanggal*       hari, date, day                             the date the shift *starts*
shift*         sif, giliran, dinas, jadwal_shift           a shift name of the settings, or
                                                           ``off`` (``libur``): a day off
=============  ==========================================  ===============================

A date already rostered for the employee takes the file's shift (listed as a change); the
same employee twice on one date in the file is a problem on both rows.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Final

from collector.attendance.changes import RegistryChanges
from collector.attendance.imports import cells, report
from collector.attendance.imports.reading import EMPLOYEE_COLUMN, RowReader, read_rows
from collector.attendance.imports.report import ImportPlan, ImportReport, Kind, Line, Operation
from collector.attendance.imports.table import Column
from collector.attendance.model import RosterEntry
from collector.attendance.vocabulary import OFF_SHIFT

if TYPE_CHECKING:
    from collections.abc import Mapping

    from collector.attendance.imports.table import Row, Table
    from collector.attendance.registry import Registry
    from collector.attendance.vocabulary import Vocabulary

COLUMNS: Final = (
    EMPLOYEE_COLUMN,
    Column("tanggal", ("hari", "date", "day"), required=True),
    Column("shift", ("sif", "giliran", "dinas", "jadwal_shift"), required=True),
)
_DAY_OFF: Final = frozenset({OFF_SHIFT, "libur"})


def read_roster(
    source: str, row: Row, names: Vocabulary, employees: Mapping[str, str]
) -> RosterEntry | list[Line]:
    """Read one row (see the module docstring); its problems instead when it has any."""
    cell = RowReader(source, row)
    key = cell.employee("pegawai", employees)
    day = cell.require("tanggal", cells.day, cells.DATE_FORMS)
    written = cells.text(row.get("shift"))
    if written is not None and written.lower() in _DAY_OFF:
        shift: str | None = OFF_SHIFT
    else:
        shift = cell.name("shift", "shift", names, required=True)
    if cell.problems or key is None or day is None or shift is None:
        return cell.problems
    return RosterEntry(key, day, shift)


def plan_roster(table: Table, registry: Registry, names: Vocabulary) -> ImportPlan:
    """What importing ``table`` (read with :data:`COLUMNS`) would roster; changes nothing."""
    employees = report.employee_keys(registry.employees())
    lines, wanted = read_rows(table, lambda row: read_roster(table.source, row, names, employees))
    rows_of: dict[tuple[str, object], list[int]] = {}
    for number, entry in wanted:
        rows_of.setdefault((entry.employee, entry.day), []).append(number)
    days = [entry.day for _, entry in wanted]
    stored = (
        {(e.employee, e.day): e.shift for e in registry.roster(min(days), max(days))}
        if days
        else {}
    )
    operations: list[Operation] = []
    unchanged = 0
    for number, entry in wanted:
        twice = [r for r in rows_of[(entry.employee, entry.day)] if r != number]
        if twice:
            got = (
                f"{entry.employee} on {entry.day} again (also on row {', '.join(map(str, twice))})"
            )
            lines.append(
                report.problem(
                    table.source, number, table.header("tanggal"), "one shift a day", got
                )
            )
            continue
        before = stored.get((entry.employee, entry.day))
        if before == entry.shift:
            unchanged += 1
            continue
        change = f"{before} -> {entry.shift}" if before is not None else entry.shift
        what = f"roster {entry.employee} on {entry.day}: {change}"
        lines.append(Line(Kind.CHANGE, table.source, number, what))
        operations.append(Operation(number, partial(RegistryChanges.put_roster, entry=entry)))
    summary = ImportReport(
        table.source, len(table.rows), report.in_file_order(lines), table.unused, unchanged
    )
    return ImportPlan(summary, tuple(operations))
