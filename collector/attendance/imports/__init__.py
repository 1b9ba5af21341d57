r"""Importing employees, leave and rosters from CSV and XLSX files: a report first, then apply.

Reading (:mod:`.table`: a file into rows of named cells) and checking (:mod:`.cells`,
:mod:`.employees`, :mod:`.leave`, :mod:`.roster`) are pure; planning reads the registry
and changes nothing; :func:`apply_plan` applies a plan in one transaction, and only when
its report is clean or the caller confirms (see :mod:`.report`)::

    plan = plan_employee_file(Path("pegawai.xlsx"), registry, names, today=date.today())
    print("\\n".join(plan.report.text()))
    if plan.report.clean or confirmed_by_the_user:
        apply_plan(registry, plan, confirmed=True)

The known units, schedules, shifts and leave kinds come from the caller
(:class:`~collector.attendance.vocabulary.Vocabulary`): the attendance settings define
them. The files' columns are described in :mod:`.employees`, :mod:`.leave` and
:mod:`.roster`, and in the README ("Import files").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from collector.attendance.imports import employees, leave, roster
from collector.attendance.imports.employee_plan import plan_employees
from collector.attendance.imports.leave import plan_leave
from collector.attendance.imports.report import ImportPlan, ImportReport, Kind, Line, apply_plan
from collector.attendance.imports.roster import plan_roster
from collector.attendance.imports.table import ImportFileError, read_table

if TYPE_CHECKING:
    from datetime import date
    from pathlib import Path

    from collector.attendance.registry import Registry
    from collector.attendance.vocabulary import Vocabulary


def plan_employee_file(
    path: Path, registry: Registry, names: Vocabulary, *, today: date, effective: date | None = None
) -> ImportPlan:
    """Read and check an employee file (see :func:`.employee_plan.plan_employees`).

    Raises:
        ImportFileError: the file cannot be read as a table of employees.
    """
    table = read_table(path, employees.COLUMNS)
    return plan_employees(table, registry, names, today=today, effective=effective)


def plan_leave_file(path: Path, registry: Registry, names: Vocabulary) -> ImportPlan:
    """Read and check a leave file (see :func:`.leave.plan_leave`).

    Raises:
        ImportFileError: the file cannot be read as a table of leave.
    """
    return plan_leave(read_table(path, leave.COLUMNS), registry, names)


def plan_roster_file(path: Path, registry: Registry, names: Vocabulary) -> ImportPlan:
    """Read and check a roster file (see :func:`.roster.plan_roster`).

    Raises:
        ImportFileError: the file cannot be read as a table of roster entries.
    """
    return plan_roster(read_table(path, roster.COLUMNS), registry, names)


__all__ = [
    "ImportFileError",
    "ImportPlan",
    "ImportReport",
    "Kind",
    "Line",
    "apply_plan",
    "plan_employee_file",
    "plan_leave_file",
    "plan_roster_file",
]
