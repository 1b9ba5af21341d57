"""``pelangi-collector attendance leave add|list|remove|import``: leave and permissions.

A permission for part of a day is one of the two the rules know
(:class:`~collector.attendance.model.PartialLeave`): arriving late up to a time
(``--start 09:30``: izin datang terlambat) or leaving early from a time (``--end 14:00``:
izin pulang cepat). ``import`` takes a leave sheet (README, "Import files") through the
shared report-then-apply flow (:mod:`.importing`).
"""

from __future__ import annotations

from datetime import date, time
from typing import Annotated

import typer

from collector.attendance.changes import NEW_LEAVE_ID
from collector.attendance.cli.arguments import day_option, refuse, time_option, today
from collector.attendance.cli.context import opened
from collector.attendance.cli.importing import ApplyOption, ImportFile, import_file
from collector.attendance.cli.tables import LEAVE_HEADER, WHO_HEADER, echo_table, leave_cells, who
from collector.attendance.imports import plan_leave_file
from collector.attendance.model import Leave, PartialLeave
from collector.cli_common import DEFAULT_CONFIG, ConfigOption

leave = typer.Typer(
    help="Leave and permissions (izin, sakit, cuti, DL, tugas belajar, partial days).",
    no_args_is_help=True,
)

_EmployeeArgument = Annotated[str, typer.Argument(help="The employee's key or NIP.")]


@leave.command("add")
def add(  # noqa: PLR0913, PLR0917 - each is a command-line parameter, named by typer
    employee: _EmployeeArgument,
    kind: Annotated[str, typer.Argument(help="A leave kind of the settings (izin, sakit...).")],
    first: Annotated[date, day_option("--from", "The first day (WITA).")],
    config: ConfigOption = DEFAULT_CONFIG,
    last: Annotated[date | None, day_option("--to", "The last day (default: --from).")] = None,
    start: Annotated[
        time | None,
        time_option("--start", "Izin datang terlambat: arriving up to this time is not late."),
    ] = None,
    end: Annotated[
        time | None,
        time_option("--end", "Izin pulang cepat: leaving from this time on is not early."),
    ] = None,
    note: Annotated[str, typer.Option("--note", help="A letter's number, a reason.")] = "",
) -> None:
    """Register leave, or a permission for part of each day (--start or --end).

    Examples:
      pelangi-collector attendance leave add 198503122010011001 cuti_tahunan
      --from 2026-12-07 --to 2026-12-09 --note SK/88/2026

      pelangi-collector attendance leave add H-017 izin --from 2026-12-03 --start 09:30
    """
    part, until = _part_of_day(start, end)
    last = last or first
    if last < first:
        raise refuse("--to", f"a day from {first} on", str(last))
    with opened(config) as ctx:
        ctx.settings.leave_kind(kind)  # an unknown kind is refused, listing the known ones
        person = ctx.registry.employee(employee)
        request = Leave(NEW_LEAVE_ID, person.key, kind, first, last, part, until, note)
        added = ctx.registry.add_leave(request)
    typer.echo(f"added leave {_described(added)} for {person.key} ({person.name})")


@leave.command("list")
def list_(
    config: ConfigOption = DEFAULT_CONFIG,
    employee: Annotated[
        str | None, typer.Option("--employee", "-e", help="Only this employee (key or NIP).")
    ] = None,
    first: Annotated[
        date | None, day_option("--from", "Leave covering a day from this on (default: today).")
    ] = None,
    last: Annotated[date | None, day_option("--to", "...up to this day (default: no end).")] = None,
    unit: Annotated[str | None, typer.Option("--unit", "-u", help="Only this unit.")] = None,
) -> None:
    """List leave covering a day of a period (default: today's and coming leave).

    Example: pelangi-collector attendance leave list --from 2026-12-01 --unit diskominfo
    """
    with opened(config) as ctx:
        if unit is not None:
            ctx.settings.unit(unit)  # an unknown unit is refused, listing the known ones
        found = ctx.registry.leave(first or today(), last or date.max, employee_key=employee)
        people = {person.key: person for person in ctx.registry.employees(unit=unit)}
        rows = [
            [*who(people[item.employee]), *leave_cells(item)]
            for item in found
            if item.employee in people
        ]
        echo_table((*WHO_HEADER, *LEAVE_HEADER), rows, "leave")


@leave.command("remove")
def remove(
    leave_id: Annotated[int, typer.Argument(metavar="ID", help="Its id (see `leave list`).")],
    config: ConfigOption = DEFAULT_CONFIG,
) -> None:
    """Delete leave registered by mistake (the days are recomputed by the next run).

    Example: pelangi-collector attendance leave remove 17
    """
    with opened(config) as ctx:
        removed = ctx.registry.remove_leave(leave_id)
    typer.echo(f"removed leave {_described(removed)} of {removed.employee}")


@leave.command("import")
def import_(
    file: ImportFile,
    config: ConfigOption = DEFAULT_CONFIG,
    apply: ApplyOption = False,  # noqa: FBT002 - a typer flag
) -> None:
    """Import leave from a sheet: the report first, then apply (as `employees import`).

    Exit status: 0 applied or nothing to change; 3 report not clean, nothing applied;
    1 the registry refused (nothing applied) or the database failed.

    Example: pelangi-collector attendance leave import cuti.csv -c /etc/pelangi/collector.yaml
    """
    import_file(config, lambda registry, names: plan_leave_file(file, registry, names), apply=apply)


def _part_of_day(start: time | None, end: time | None) -> tuple[PartialLeave | None, time | None]:
    """The permission ``--start`` or ``--end`` asks for (neither: whole days)."""
    if start is not None and end is not None:
        raise refuse(
            "--start/--end", "one of them: a permission to arrive late or to leave early", "both"
        )
    if start is not None:
        return PartialLeave.LATE_ARRIVAL, start
    if end is not None:
        return PartialLeave.EARLY_LEAVE, end
    return None, None


def _described(item: Leave) -> str:
    """``7: izin 2026-12-03 (datang_terlambat 09:30)``."""
    number, kind, days, part, _ = leave_cells(item)
    return f"{number}: {kind} {days}" + ("" if item.partial is None else f" ({part})")
