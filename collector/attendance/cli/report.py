"""``attendance report`` (CSV/XLSX files for HR) and ``attendance today`` (the terminal)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from collector.attendance.cli.arguments import (
    DateOption,
    FromOption,
    MonthOption,
    ToOption,
    period,
)
from collector.attendance.cli.arguments import (
    today as wita_today,
)
from collector.attendance.cli.context import opened
from collector.attendance.cli.tables import table_lines
from collector.attendance.job import days_between
from collector.attendance.model import WITA
from collector.attendance.report_files import slug, write_csv, write_xlsx
from collector.attendance.reporting import build_report, month_range
from collector.attendance.today import TodayRecap
from collector.cli_common import DEFAULT_CONFIG, ConfigOption

UnitOption = Annotated[
    str | None, typer.Option("--unit", "-u", help="One unit's code (default: every unit).")
]


class Format(StrEnum):
    """The report's file format."""

    XLSX = "xlsx"
    CSV = "csv"


def report(  # noqa: PLR0913, PLR0917 - typer options: a command line, not a call site
    day: DateOption = None,
    month: MonthOption = None,
    first: FromOption = None,
    last: ToOption = None,
    unit: UnitOption = None,
    file_format: Annotated[Format, typer.Option("--format", "-f")] = Format.XLSX,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", dir_okay=False, help="The file (default: absensi-<period>.<format>)."
        ),
    ] = None,
    config: ConfigOption = DEFAULT_CONFIG,
) -> None:
    """Write the attendance report of a day or a month: one row per employee per day.

    Reads what ``attendance compute`` or ``attendance run`` stored; days never computed
    are named in a warning. XLSX: a sheet per table, ready to print and sign; CSV: one
    file per table, UTF-8 for Excel.

    Example: pelangi-collector attendance report --month 2026-11 --unit diskominfo
    """
    start, end = period(day, first, last, month, month_allowed=True)
    target = output or Path(_default_name(start, end, unit, file_format))
    with opened(config) as ctx:
        built = build_report(ctx.registry, ctx.settings, start, end, unit)
        computed = {result.day for result in built.results}
        missing = [d for d in days_between(start, min(end, wita_today())) if d not in computed]
        if missing:
            typer.echo(
                f"warning: {len(missing)} day(s) without computed results ({_spans(missing)}): "
                "run `pelangi-collector attendance compute` for them",
                err=True,
            )
        tables = built.tables(unit)
        write = write_xlsx if file_format is Format.XLSX else write_csv
        for path in write(tables, target):
            typer.echo(f"wrote {path}")
    typer.echo(
        f"{built.period()}: {len(built.results):,} employee-days, "
        f"{len({r.employee for r in built.results}):,} employees, "
        f"{len(built.unknown):,} taps of unknown cards"
    )


def today(
    unit: UnitOption = None,
    everyone: Annotated[  # noqa: FBT002 - a typer flag
        bool, typer.Option("--all", help="List everyone present too, not only counts.")
    ] = False,
    limit: Annotated[int, typer.Option("--limit", min=0, help="Rows per list (0: all).")] = 50,
    config: ConfigOption = DEFAULT_CONFIG,
) -> None:
    """Who is in, who is late and who has not come yet today (computed now, then stored).

    Example: pelangi-collector attendance today --unit diskominfo
    """
    with opened(config, influx=True) as ctx:
        if unit is not None:
            ctx.settings.unit(unit)  # an unknown unit: the known ones, not an empty table
        now = datetime.now(WITA)
        day = now.date()
        ctx.warn_missing_holidays([day])
        ctx.job().compute([day])
        results = ctx.registry.day_results(day, day, unit)
        employees = {e.key: e for e in ctx.registry.employees(day, day, unit=unit)}
    units = {code: configured.name for code, configured in ctx.settings.units.items()}
    recap = TodayRecap(now, results, employees, units)
    for number, table in enumerate(recap.tables(everyone=everyone)):
        if number:
            typer.echo()
        typer.echo("\n".join(table_lines(table, limit=0 if number == 0 else limit)))


def _default_name(start: date, end: date, unit: str | None, file_format: Format) -> str:
    """``absensi-2026-03.xlsx`` for a month, ``absensi-2026-03-02.csv`` for a day."""
    if (start, end) == month_range(start.year, start.month):
        span = f"{start:%Y-%m}"
    elif start == end:
        span = str(start)
    else:
        span = f"{start}_{end}"
    return f"absensi-{span}{'-' + slug(unit) if unit else ''}.{file_format}"


def _spans(days: list[date]) -> str:
    """``2026-03-02, 2026-03-05..2026-03-09``: consecutive days as ranges."""
    runs: list[list[date]] = []
    for day in days:
        if runs and (day - runs[-1][-1]).days == 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    return ", ".join(str(r[0]) if len(r) == 1 else f"{r[0]}..{r[-1]}" for r in runs)
