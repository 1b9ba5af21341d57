"""The ``pelangi-agent`` command: run the agent, or check its configuration file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Final

import typer

from edge_agent.agent import run as run_agent
from edge_agent.config import AgentSettings
from edge_agent.errors import AgentError
from edge_agent.toolkit.cli import live_read_command, snmp_check_command
from edge_agent.toolkit.doctor import doctor
from edge_agent.toolkit.init.cli import init_command
from edge_agent.toolkit.install_cli import install_service
from edge_agent.toolkit.outbox_cli import outbox
from edge_agent.toolkit.status_cli import status
from pelangi.cli import LogLevelOption, load_or_exit, stop_on_signals
from pelangi.logs import setup
from pelangi.version_option import add_version_option

DEFAULT_CONFIG: Final = Path("/etc/pelangi/agent.yaml")
EXIT_CANNOT_START: Final = 1

app = typer.Typer(
    help=(
        "Pelangi edge agent: reads the card readers, door sensors and network switches of "
        "this gateway and sends every reading to the MQTT broker (kept on disk until the "
        "broker has it)."
    ),
    no_args_is_help=True,
    add_completion=False,
)
add_version_option(app, "pelangi-agent")
app.command()(doctor)
app.command("install-service")(install_service)
app.command("status")(status)
app.add_typer(outbox, name="outbox")

ConfigOption = Annotated[
    Path,
    typer.Option(
        "--config",
        "-c",
        help="The agent's configuration file (YAML).",
        dir_okay=False,
    ),
]


@app.command()
def run(
    config: ConfigOption = DEFAULT_CONFIG,
    log_level: LogLevelOption = None,
) -> None:
    """Start the agent: read every configured device and send the readings on, until stopped.

    Example: pelangi-agent run --config /etc/pelangi/agent.yaml
    """
    settings = load_or_exit(config, AgentSettings)
    setup(log_level or settings.log_level)
    stop = stop_on_signals()
    try:
        run_agent(settings, stop)
    except AgentError as exc:
        typer.echo(f"pelangi-agent cannot start: {exc}", err=True)
        raise typer.Exit(EXIT_CANNOT_START) from None


@app.command()
def validate(config: ConfigOption = DEFAULT_CONFIG) -> None:
    """Check the configuration file without starting anything: prints a summary or each problem.

    Example: pelangi-agent validate --config /etc/pelangi/agent.yaml
    """
    settings = load_or_exit(config, AgentSettings)
    collectors = settings.primary_collectors
    waits_for = collectors if isinstance(collectors, str) else ", ".join(collectors)
    typer.echo(
        f"configuration OK: site {settings.site}, gateway {settings.gateway}, "
        f"{settings.inventory()}; mqtt {settings.mqtt.address}; "
        f"outbox {settings.outbox_path} (at most {settings.outbox.max_bytes / 1e6:,.0f} MB); "
        f"waits for collectors: {waits_for}"
    )
    # Not an error: a reader may be unplugged right now, and the agent waits for it.
    for reader in settings.readers:
        if not Path(reader.port).exists():
            typer.echo(
                f"note: reader {reader.id}: {reader.port} does not exist right now "
                "(unplugged or renamed?); the agent will keep trying to open it",
                err=True,
            )


# The field technician's toolkit (issue 13) lives in edge_agent.toolkit; registered here.
app.command("init")(init_command)
app.command("test-read")(live_read_command)
app.command("snmp-check")(snmp_check_command)
