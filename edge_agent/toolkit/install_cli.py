"""The ``pelangi-agent install-service`` command (the work is :mod:`edge_agent.toolkit.service`)."""

from __future__ import annotations

import subprocess
from pathlib import Path, PurePosixPath
from typing import Annotated

import typer

from edge_agent.config import AgentSettings
from edge_agent.toolkit.options import DEFAULT_CONFIG, ConfigOption
from edge_agent.toolkit.service import Target, default_program, plan
from pelangi.cli import load_or_exit
from pelangi.console import fail, mark, stdout


def install_service(  # noqa: PLR0913 - one parameter per option
    *,
    config: ConfigOption = DEFAULT_CONFIG,
    user: Annotated[str, typer.Option(help="The service's system user (created if missing).")] = (
        "pelangi"
    ),
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print every change and make none.")
    ] = False,
    unit_dir: Annotated[
        Path, typer.Option(help="Where the unit file goes.", file_okay=False)
    ] = Path("/etc/systemd/system"),
    root: Annotated[
        Path, typer.Option(help="Install into this tree instead of / (images, tests).")
    ] = Path("/"),
    program: Annotated[
        str | None, typer.Option(help="pelangi-agent's path (default: this virtualenv's).")
    ] = None,
) -> None:
    """Install the agent as a systemd service: unit, system user (dialout group), config mode.

    It allows exactly the configured serial ports and GPIO chips: run it again after changes.

    Running it twice changes nothing.

    Example: sudo pelangi-agent install-service --config /etc/pelangi/agent.yaml --dry-run
    """
    target = Target(
        config=PurePosixPath(config),
        user=user,
        unit_dir=PurePosixPath(unit_dir),
        root=root,
        program=program or default_program(),
    )
    host_config = target.host(target.config)
    if not host_config.is_file():
        raise fail(
            f"no configuration at {host_config}",
            "write one first: pelangi-agent init, or copy config/agent.example.yaml there",
        )
    settings = load_or_exit(host_config, AgentSettings)
    todo = plan(settings, target)
    console = stdout()
    for item in todo.unchanged:
        console.print(f"{mark('ok')} unchanged: {item}", markup=True, highlight=False)
    for change in todo.changes:
        if dry_run:
            console.print(f"{mark('warn')} would {change.what}")
            if change.detail:
                console.print(change.detail, markup=False, end="")
            continue
        try:
            change.apply()
        except (OSError, subprocess.SubprocessError) as exc:
            detail = getattr(exc, "stderr", "") or str(exc)
            raise fail(
                f"cannot {change.what}: {detail.strip()}", "run it as root: sudo pelangi-agent ..."
            ) from None
        console.print(f"{mark('ok')} done: {change.what}")
    if dry_run:
        typer.echo(f"dry run: {len(todo.changes)} change(s) not made")
    elif not todo.changes:
        typer.echo("nothing to change: the service is installed as configured")
    else:
        typer.echo("next: systemctl daemon-reload && systemctl enable --now pelangi-agent")
