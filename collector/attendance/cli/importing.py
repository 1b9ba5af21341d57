"""The one flow of every ``... import FILE [--apply]`` command: the report, then maybe apply.

``employees import``, ``attendance leave import`` and ``roster import`` all:

1. plan the file against the registry (changes nothing) and print the report;
2. stop there, changing nothing, with :data:`EXIT_NOT_APPLIED`, when the report lists
   problems or changes to confirm and ``--apply`` was not given;
3. otherwise apply every row without problems in one transaction
   (:func:`~collector.attendance.imports.apply_plan`; rows with problems are never
   applied, ``--apply`` or not), exit 0 — unless nothing could be applied and the
   report lists problems: :data:`EXIT_NOT_APPLIED` again.

If the registry refuses a change (someone changed it since the plan was made, a card
that would belong to two people), the transaction changes nothing: the refusal is printed
as one line and the command exits with :data:`~collector.cli_common.EXIT_FAILED`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Final

import typer

from collector.attendance.cli.context import opened
from collector.attendance.errors import RegistryError, RegistryMismatch
from collector.attendance.imports import Kind, apply_plan
from collector.attendance.vocabulary import Vocabulary
from collector.cli_common import EXIT_FAILED

if TYPE_CHECKING:
    from collector.attendance.imports import ImportPlan
    from collector.attendance.registry import Registry

EXIT_NOT_APPLIED: Final = 3
"""The report lists problems (or changes to confirm) and nothing was applied."""

ImportFile = Annotated[
    Path,
    typer.Argument(
        help="The CSV (UTF-8, or as Excel saves it) or XLSX file (first sheet).", dir_okay=False
    ),
]
ApplyOption = Annotated[
    bool,
    typer.Option(
        "--apply",
        help="Apply although the report lists problems or changes to confirm: every row "
        "without problems is applied (rows with problems never are).",
    ),
]

Planner = Callable[["Registry", Vocabulary], "ImportPlan"]
"""Plans a file against the registry, with the names the settings define."""


def import_file(config: Path, plan: Planner, *, apply: bool) -> None:
    """Open the registry, plan with ``plan``, print its report, and apply it if allowed."""
    with opened(config) as ctx:
        made = plan(ctx.registry, Vocabulary.from_settings(ctx.settings))
        report_then_apply(ctx.registry, made, apply=apply)


def report_then_apply(registry: Registry, plan: ImportPlan, *, apply: bool) -> None:
    """Print the report of ``plan``; apply it as the module docstring says, or exit."""
    report = plan.report
    for line in report.text():
        typer.echo(line)
    problems, to_confirm = len(report.of(Kind.PROBLEM)), len(report.of(Kind.CONFIRM))
    if not report.clean and not apply:
        typer.echo(
            f"{report.source}: nothing imported: the report lists {problems} problem(s) and "
            f"{to_confirm} to confirm; fix the file and import it again, or add --apply to "
            "apply the rows without problems",
            err=True,
        )
        raise typer.Exit(EXIT_NOT_APPLIED)
    try:
        applied = apply_plan(registry, plan, confirmed=apply)
    except (RegistryError, RegistryMismatch) as exc:
        typer.echo(f"pelangi-collector: {report.source}: nothing imported: {exc}", err=True)
        raise typer.Exit(EXIT_FAILED) from None
    if report.bad_rows:
        skipped = ", ".join(str(row) for row in sorted(report.bad_rows))
        typer.echo(f"{report.source}: rows not imported (problems): {skipped}")
    if applied:
        typer.echo(f"{report.source}: applied {applied} change(s)")
        return
    typer.echo(f"{report.source}: nothing to change")
    if problems:
        raise typer.Exit(EXIT_NOT_APPLIED)


__all__ = [
    "EXIT_NOT_APPLIED",
    "ApplyOption",
    "ImportFile",
    "Planner",
    "import_file",
    "report_then_apply",
]
