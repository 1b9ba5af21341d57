"""``attendance compute`` (one-shot, for dates) and ``attendance run`` (the service)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from collector.attendance.cli.arguments import (
    DateOption,
    FromOption,
    ToOption,
    period,
)
from collector.attendance.cli.arguments import (
    today as wita_today,
)
from collector.attendance.cli.context import opened
from collector.attendance.job import CHUNK_DAYS, Service, days_between
from collector.cli_common import DEFAULT_CONFIG, ConfigOption
from pelangi.cli import LogLevelOption, stop_on_signals
from pelangi.logs import setup

if TYPE_CHECKING:
    from datetime import date

    from collector.attendance.job import Computed


def compute(
    day: DateOption = None,
    first: FromOption = None,
    last: ToOption = None,
    config: ConfigOption = DEFAULT_CONFIG,
) -> None:
    """Compute days from the stored taps and store the results (safe to run again).

    Each day's results replace what was stored for it, in InfluxDB (attendance_day) and
    the state database, so a day recomputed after late taps arrived is simply right.

    Example: pelangi-collector attendance compute --from 2026-12-01 --to 2026-12-31
    """
    start, end = period(day, first, last)
    if end > wita_today():
        raise typer.BadParameter(
            f"{end} is in the future (today is {wita_today()} WITA): there is nothing to compute"
        )
    days = days_between(start, end)
    with opened(config, influx=True) as ctx:
        ctx.warn_missing_holidays(days)
        job = ctx.job()

        def progress(chunk_first: date, chunk_last: date, done: Computed) -> None:
            typer.echo(
                f"  {chunk_first}..{chunk_last}: {done.days}/{len(days)} days, "
                f"{done.taps:,} taps so far, {done.seconds:.1f} s",
                err=True,
            )

        done = job.compute(days, progress if len(days) > CHUNK_DAYS else None)
    typer.echo(f"computed {start}..{end}: {done.summary()}")


def run(
    interval_s: Annotated[
        float, typer.Option("--interval", min=10, help="Seconds between passes over today.")
    ] = 300.0,
    lookback_days: Annotated[
        int,
        typer.Option("--lookback-days", min=1, max=60, help="Days recomputed every hour."),
    ] = 7,
    config: ConfigOption = DEFAULT_CONFIG,
    log_level: LogLevelOption = None,
) -> None:
    """Keep attendance up to date until stopped: today every few minutes, recent days hourly.

    Yesterday is recomputed on every pass as well, so a day is closed (its night shifts
    and late taps included) within one interval of its windows ending; a backlog older
    than the lookback needs ``attendance compute --from``.

    Example: pelangi-collector attendance run --interval 300 -c /etc/pelangi/collector.yaml
    """
    stop = stop_on_signals()
    with opened(config, influx=True) as ctx:
        setup(log_level or ctx.config.log_level)
        ctx.warn_missing_holidays([wita_today()])
        service = Service(
            ctx.job(), interval_s=interval_s, lookback_days=lookback_days, stopping=stop
        )
        service.run()
