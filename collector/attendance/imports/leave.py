"""Leave files: one row per leave or permission, checked against the registry, then added.

=============  =============================================  ============================
column         also accepted                                  holds
=============  =============================================  ============================
pegawai*       nip, kode, kode_pegawai, employee, key         the employee's NIP or key
jenis*         jenis_cuti, jenis_izin, kind, type             a leave kind of the settings
mulai*         tanggal, tanggal_mulai, dari, first, from      first day
sampai         tanggal_selesai, hingga, last, to, end         last day (empty: one day)
sebagian       izin_sebagian, partial                         ``datang_terlambat`` or
                                                              ``pulang_cepat`` (a permission
                                                              for part of the day)
jam            waktu, pukul, until, time                      with ``sebagian``: until when
                                                              (late) or from when (early)
keterangan     catatan, alasan, nomor_surat, note             free text (a letter's number)
=============  =============================================  ============================

Leave already registered exactly so is not added again (a file can be imported twice);
leave overlapping other leave of the same employee is listed to confirm.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from functools import partial
from typing import TYPE_CHECKING, Final

from collector.attendance.changes import NEW_LEAVE_ID, RegistryChanges
from collector.attendance.imports import cells
from collector.attendance.imports.cells import CellProblem
from collector.attendance.imports.reading import EMPLOYEE_COLUMN, RowReader, read_rows
from collector.attendance.imports.report import (
    ImportPlan,
    ImportReport,
    Kind,
    Line,
    Operation,
    employee_keys,
    in_file_order,
    problem,
)
from collector.attendance.imports.table import Column
from collector.attendance.model import Leave, PartialLeave

if TYPE_CHECKING:
    from collections.abc import Mapping

    from collector.attendance.imports.table import Cell, Row, Table
    from collector.attendance.registry import Registry
    from collector.attendance.vocabulary import Vocabulary

COLUMNS: Final = (
    EMPLOYEE_COLUMN,
    Column("jenis", ("jenis_cuti", "jenis_izin", "kind", "type"), required=True),
    Column("mulai", ("tanggal", "tanggal_mulai", "dari", "first", "from", "start"), required=True),
    Column("sampai", ("tanggal_selesai", "tanggal_akhir", "hingga", "last", "to", "end")),
    Column("sebagian", ("izin_sebagian", "partial")),
    Column("jam", ("waktu", "pukul", "until", "time")),
    Column("keterangan", ("catatan", "alasan", "nomor_surat", "note", "notes")),
)
_PARTS: Final = {
    **dict.fromkeys(
        ("datang_terlambat", "terlambat", "late", "late_arrival"), PartialLeave.LATE_ARRIVAL
    ),
    **dict.fromkeys(("pulang_cepat", "cepat", "early", "early_leave"), PartialLeave.EARLY_LEAVE),
}


def _partial(cell: Cell) -> PartialLeave | None:
    written = cells.text(cell)
    if written is None:
        return None
    part = _PARTS.get(written.lower().replace(" ", "_"))
    if part is None:
        raise CellProblem("datang_terlambat or pulang_cepat (or nothing: whole days)")
    return part


def read_leave(
    source: str, row: Row, names: Vocabulary, employees: Mapping[str, str]
) -> Leave | list[Line]:
    """Read one row (see the module docstring); its problems instead when it has any."""
    cell = RowReader(source, row)
    key = cell.employee("pegawai", employees)
    kind = cell.name("jenis", "leave kind", names, required=True)
    first = cell.require("mulai", cells.day, cells.DATE_FORMS)
    last = cell.read("sampai", cells.day) or first
    partial = cell.read("sebagian", _partial)
    until = cell.read("jam", cells.time_of_day)
    note = cell.read("keterangan", cells.text) or ""
    if first is not None and last is not None and last < first:
        cell.refuse("sampai", f"a day from {first} on", str(last))
    if partial is not None and until is None:
        cell.refuse(
            "jam", f"the time of day the {partial.value} permission runs to or from", "nothing"
        )
    if partial is None and until is not None:
        cell.refuse("sebagian", "datang_terlambat or pulang_cepat, with a jam", "nothing")
    if cell.problems or key is None or kind is None or first is None or last is None:
        return cell.problems
    return Leave(NEW_LEAVE_ID, key, kind, first, last, partial, until, note)


def plan_leave(table: Table, registry: Registry, names: Vocabulary) -> ImportPlan:
    """What importing ``table`` (read with :data:`COLUMNS`) would add; changes nothing."""
    employees = employee_keys(registry.employees())
    lines, wanted = read_rows(table, lambda row: read_leave(table.source, row, names, employees))
    registered = registry.leave(date.min, date.max) if wanted else []
    seen: dict[Leave, int] = {}
    operations: list[Operation] = []
    unchanged = 0
    for number, leave in wanted:
        if leave in seen:
            got = f"the same as row {seen[leave]}"
            header = table.header("mulai")
            lines.append(problem(table.source, number, header, "each leave once in the file", got))
            continue
        seen[leave] = number
        if any(replace(old, id=NEW_LEAVE_ID) == leave for old in registered):
            unchanged += 1
            continue
        what = f"leave {_described(leave)} for {leave.employee}"
        lines.append(Line(Kind.CHANGE, table.source, number, what))
        lines.extend(
            Line(
                Kind.CONFIRM,
                table.source,
                number,
                f"{what} overlaps leave {old.id} ({_described(old)})",
            )
            for old in registered
            if old.employee == leave.employee
            and old.first <= leave.last
            and leave.first <= old.last
        )
        operations.append(Operation(number, partial(RegistryChanges.add_leave, request=leave)))
    report = ImportReport(
        table.source, len(table.rows), in_file_order(lines), table.unused, unchanged
    )
    return ImportPlan(report, tuple(operations))


def _described(leave: Leave) -> str:
    """``izin 2026-03-02 (datang_terlambat 09:30)``, ``cuti_tahunan 2026-03-02..2026-03-06``."""
    what = f"{leave.kind} {leave.first}" + ("" if leave.last == leave.first else f"..{leave.last}")
    if leave.partial is not None and leave.until is not None:
        what += f" ({leave.partial.value} {leave.until:%H:%M})"
    return what
