"""``pelangi-collector roster import|list``: shift assignments per date (security, night shifts).

``import`` takes a roster sheet (README, "Import files") through the shared
report-then-apply flow (:mod:`.importing`); ``list`` shows who works which shift when.
"""

from __future__ import annotations

from datetime import date  # noqa: TC003 - typer reads the annotations at run time
from typing import Annotated

import typer

from collector.attendance.cli.arguments import day_option, refuse
from collector.attendance.cli.context import opened
from collector.attendance.cli.importing import ApplyOption, ImportFile, import_file
from collector.attendance.cli.tables import WHO_HEADER, echo_table, who
from collector.attendance.imports import plan_roster_file
from collector.cli_common import DEFAULT_CONFIG, ConfigOption

roster = typer.Typer(
    help="Shift rosters: which shift each employee works on which date.",
    no_args_is_help=True,
)


@roster.command("import")
def import_(
    file: ImportFile,
    config: ConfigOption = DEFAULT_CONFIG,
    apply: ApplyOption = False,  # noqa: FBT002 - a typer flag
) -> None:
    """Import a roster from a sheet: the report first, then apply (as `employees import`).

    Exit status: 0 applied or nothing to change; 3 report not clean, nothing applied;
    1 the registry refused (nothing applied) or the database failed.

    Example: pelangi-collector roster import jadwal-satpam.xlsx -c /etc/pelangi/collector.yaml
    """
    import_file(
        config, lambda registry, names: plan_roster_file(file, registry, names), apply=apply
    )


@roster.command("list")
def list_(
    first: Annotated[date, day_option("--from", "The first day (WITA).")],
    last: Annotated[date, day_option("--to", "The last day, included.")],
    config: ConfigOption = DEFAULT_CONFIG,
    unit: Annotated[str | None, typer.Option("--unit", "-u", help="Only this unit.")] = None,
) -> None:
    """List the shifts rostered from --from to --to, by day (a shift is on the day it starts).

    Example: pelangi-collector roster list --from 2026-12-01 --to 2026-12-07 --unit satpam
    """
    if last < first:
        raise refuse("--to", f"a day from {first} on", str(last))
    with opened(config) as ctx:
        if unit is not None:
            ctx.settings.unit(unit)  # an unknown unit is refused, listing the known ones
        people = {person.key: person for person in ctx.registry.employees(unit=unit)}
        rows = [
            [str(entry.day), *who(people[entry.employee]), entry.shift]
            for entry in ctx.registry.roster(first, last)
            if entry.employee in people
        ]
        echo_table(("day", *WHO_HEADER, "shift"), rows, "roster entries")
