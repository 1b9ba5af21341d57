"""The attendance commands of ``pelangi-collector`` (typer).

- ``attendance compute|run|report|today`` (:mod:`.compute`, :mod:`.report`) and
  ``attendance leave ...`` (:mod:`.leave_cmds`);
- ``employees ...`` (:mod:`.employees_cmds`) and ``roster ...`` (:mod:`.roster_cmds`).

Every command opens what it needs through :func:`.context.opened`, which turns expected
failures (a database down, a bad holiday file) into one line and a non-zero exit.
"""

from __future__ import annotations

import typer

from collector.attendance.cli.compute import compute, run
from collector.attendance.cli.employees_cmds import employees
from collector.attendance.cli.leave_cmds import leave
from collector.attendance.cli.report import report, today
from collector.attendance.cli.roster_cmds import roster

attendance = typer.Typer(
    help="Staff attendance from card taps: compute days, reports, today's recap, leave.",
    no_args_is_help=True,
)
attendance.command()(compute)
attendance.command()(run)
attendance.command()(report)
attendance.command()(today)
attendance.add_typer(leave, name="leave")

__all__ = ["attendance", "employees", "roster"]
