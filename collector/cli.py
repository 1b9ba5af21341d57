"""The ``pelangi-collector`` command: run the collector, check its configuration, set up storage."""

from __future__ import annotations

import faulthandler
import os
import sys
from typing import Annotated, Final

import typer

from collector.alerts.cli import alerts, validate_alerts
from collector.attendance.cli import attendance, employees, roster
from collector.attendance.cli.context import load_settings
from collector.cli_common import DEFAULT_CONFIG, EXIT_FAILED, ConfigOption, storage_name
from collector.config import CollectorSettings
from collector.dashboards.cli import dashboards
from collector.deadletter_cli import dead_letters
from collector.doctor import doctor
from collector.errors import CollectorError, StorageError
from collector.gateways.cli import gateway
from collector.service import run as run_collector
from collector.state.cli import state
from collector.storage import open_backend
from pelangi.cli import LogLevelOption, load_or_exit, stop_on_signals
from pelangi.logs import setup
from pelangi.version_option import add_version_option

EXIT_STALLED: Final = 70
"""Exit status when the watchdog found the collector stalled (EX_SOFTWARE)."""

app = typer.Typer(
    help=(
        "Pelangi collector: receives the readings the gateways send to the MQTT broker "
        "and stores them in InfluxDB, losing none when either is briefly away."
    ),
    no_args_is_help=True,
    add_completion=False,
)
add_version_option(app, "pelangi-collector")

app.add_typer(dead_letters, name="dead-letters")
app.add_typer(attendance, name="attendance")
app.add_typer(employees, name="employees")
app.add_typer(roster, name="roster")
app.add_typer(state, name="state")
app.add_typer(alerts, name="alerts")
app.add_typer(gateway, name="gateway")
app.add_typer(dashboards, name="dashboards")
app.command()(doctor)


@app.command()
def run(
    config: ConfigOption = DEFAULT_CONFIG,
    log_level: LogLevelOption = None,
) -> None:
    """Start the collector: store every reading from the broker in InfluxDB, until stopped.

    Example: pelangi-collector run --config /etc/pelangi/collector-1.yaml
    """
    settings = load_or_exit(config, CollectorSettings)
    setup(log_level or settings.log_level)
    stop = stop_on_signals()

    def stalled(reason: str) -> None:
        # A stalled thread may hold locks a clean shutdown needs: leave at once. Nothing
        # unstored was acknowledged, so the broker sends it again to our next start.
        typer.echo(f"pelangi-collector: stalled ({reason}); exiting", err=True)
        # Where every thread stands, for whoever investigates the stall (to the journal).
        faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
        os._exit(EXIT_STALLED)

    try:
        run_collector(settings, stop, on_stall=stalled)
    except CollectorError as exc:
        typer.echo(f"pelangi-collector: {exc}", err=True)
        raise typer.Exit(EXIT_FAILED) from None


@app.command()
def validate(
    config: ConfigOption = DEFAULT_CONFIG,
    attendance_too: Annotated[
        bool,
        typer.Option(
            "--attendance",
            help="Also read the attendance section's holiday file (pelangi-attendance.service).",
        ),
    ] = False,
    alerts_too: Annotated[
        bool,
        typer.Option(
            "--alerts",
            help="Also check the alert templates, recipients and rules (pelangi-alerts.service).",
        ),
    ] = False,
) -> None:
    """Check the configuration file without connecting: prints a summary, or each problem found.

    The holiday file is read only with ``--attendance``, the alert templates and references
    only with ``--alerts``: a mistake in them must not keep the collector itself from starting.

    Example: pelangi-collector validate --config /etc/pelangi/collector-1.yaml --alerts
    """
    settings = load_or_exit(config, CollectorSettings)
    typer.echo(
        f"configuration OK: collector {settings.collector_id}, "
        f"mqtt {settings.mqtt.address} subscribing to {settings.subscribe_filter}, "
        f"{storage_name(settings)}, "
        f"batches of up to {settings.batch.max_points} readings or {settings.batch.max_delay_ms} ms"
    )
    if attendance_too:
        _, calendar = load_settings(config)
        years = ", ".join(map(str, sorted(calendar.holidays.years))) or "none"
        typer.echo(
            f"attendance OK: {len(settings.attendance.units)} unit(s), "
            f"{len(settings.attendance.schedules)} schedule(s), holidays for {years}; "
            f"state database {settings.state.display_url}"
        )
    if alerts_too:
        validate_alerts(config, settings)


@app.command("setup-db")
def setup_db(config: ConfigOption = DEFAULT_CONFIG) -> None:
    """Create the database, retention policies and downsampling (safe to run again).

    Example: pelangi-collector setup-db --config /etc/pelangi/collector-1.yaml
    """
    settings = load_or_exit(config, CollectorSettings)
    backend = open_backend(settings.influxdb)
    try:
        done = backend.setup(settings.retention)
    except StorageError as exc:
        typer.echo(f"cannot set up the database: {exc}", err=True)
        raise typer.Exit(EXIT_FAILED) from None
    finally:
        backend.close()
    for line in done:
        typer.echo(f"{line} on {backend.target}")
    if not done:
        typer.echo(f"{storage_name(settings)}: already set up as configured; nothing to do")
