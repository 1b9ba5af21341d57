"""The ``doctor`` command of ``pelangi-agent``: the checks in order, printed or as JSON."""

from __future__ import annotations

import os
import pwd
from pathlib import Path
from typing import Annotated, Final

import typer

from edge_agent.config import AgentSettings
from edge_agent.toolkit.doctor.broker import broker_checks
from edge_agent.toolkit.doctor.clock import ntp_status
from edge_agent.toolkit.doctor.devices import device_checks
from edge_agent.toolkit.doctor.storage import storage_checks
from pelangi.console import JsonOption  # noqa: TC001 - typer reads annotations at run time
from pelangi.doctor import Check, Result, failed
from pelangi.doctor.config import CONFIG, load_config
from pelangi.doctor.report import run_and_report

DEFAULT_CONFIG: Final = Path("/etc/pelangi/agent.yaml")
NETWORK_TIMEOUT_S: Final = 5.0


def agent_checks(
    settings: AgentSettings, *, read_timeout_s: float = 0.0, reader: str | None = None
) -> list[Check]:
    """Every live check of ``settings``, in the order a technician fixes things."""
    user = pwd.getpwuid(os.geteuid()).pw_name
    return [
        *broker_checks(settings, NETWORK_TIMEOUT_S),
        Check("NTP", ntp_status, 10.0),
        *device_checks(settings, user, read_timeout_s, reader),
        *storage_checks(settings, user),
    ]


def doctor(
    config: Annotated[
        Path,
        typer.Option(
            "--config", "-c", help="The agent's configuration file (YAML).", dir_okay=False
        ),
    ] = DEFAULT_CONFIG,
    as_json: JsonOption = False,  # noqa: FBT002 - a typer flag
    read_timeout: Annotated[
        float,
        typer.Option(
            "--read-timeout",
            min=0,
            help="Wait this many seconds for a card on each reader (0: do not read).",
        ),
    ] = 0.0,
    reader: Annotated[
        str | None, typer.Option("--reader", help="Read only from this reader (its id).")
    ] = None,
) -> None:
    """Check, live, everything this gateway needs; prints ✓ / ! / ✗ per check and the fix.

    Broker, TLS, login, ACL, collectors, clock, NTP, serial ports, readers (with
    --read-timeout), switches, outbox.

    Exit status: 0 all passed, 1 warnings only, 2 a failure.

    Example: pelangi-agent doctor --config /etc/pelangi/agent.yaml --read-timeout 10
    """
    first, settings = load_config(config, AgentSettings, "pelangi-agent validate")
    if settings is None:
        raise run_and_report([first], [], as_json=as_json)
    if reader is not None and reader not in {r.id for r in settings.readers}:
        known = ", ".join(r.id for r in settings.readers) or "none"
        unknown = failed(f"no reader {reader!r} in {config}", f"name one of: {known}")
        raise run_and_report([Result(CONFIG, unknown)], [], as_json=as_json)
    checks = agent_checks(settings, read_timeout_s=read_timeout, reader=reader)
    raise run_and_report([first], checks, as_json=as_json)
