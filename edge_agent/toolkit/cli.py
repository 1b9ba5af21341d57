"""The ``test-read`` and ``snmp-check`` commands (registered on ``pelangi-agent`` by its CLI)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Final, Literal

import typer
from pydantic import SecretStr, ValidationError

from edge_agent.config import AgentSettings
from edge_agent.snmp.settings import SwitchSettings
from edge_agent.toolkit import snmp_check as snmp
from edge_agent.toolkit.live_read import read_cards
from edge_agent.toolkit.portopen import PortProblem
from pelangi.cli import load_or_exit
from pelangi.console import JsonOption, emit_json, fail, stderr, stdout, table

CONFIG: Final = Path("/etc/pelangi/agent.yaml")
EXIT_NO_CARD: Final = 1

Config = Annotated[
    Path, typer.Option("--config", "-c", help="The agent's configuration file.", dir_okay=False)
]


def live_read_command(
    reader: Annotated[str, typer.Argument(help="A reader id from the configuration.")],
    config: Config = CONFIG,
    count: Annotated[int, typer.Option(min=1, help="Stop after this many taps.")] = 1,
    timeout: Annotated[float, typer.Option(min=0.1, help="Give up after this many seconds.")] = 30,
    as_json: JsonOption = False,
) -> None:
    """Read cards live from one configured reader, as the agent decodes them.

    Example: pelangi-agent test-read rfid-lobby --count 3 --timeout 60
    """
    settings = load_or_exit(config, AgentSettings)
    chosen = next((r for r in settings.readers if r.id == reader), None)
    if chosen is None:
        known = ", ".join(r.id for r in settings.readers) or "none"
        raise fail(f"no reader {reader!r} in {config} (readers: {known})", "name one of them")
    if not as_json:
        stdout().print(
            f"listening on {chosen.port} ({chosen.kind}, {chosen.baudrate} baud) for up to "
            f"{timeout:g} s: tap a card",
            markup=False,
        )
    cards = []
    try:
        for card in read_cards(
            chosen,
            count=count,
            timeout_s=timeout,
            on_bad=lambda e: stderr().print(f"bad data ignored: {e}", markup=False),
        ):
            cards.append(card)
            if not as_json:
                printed = f"  printed {card['printed']}" if card["printed"] else ""
                stdout().print(
                    f"{card['time']}  uid {card['uid']}{printed}  w26 {card['wiegand26']}",
                    markup=False,
                )
    except PortProblem as problem:
        raise fail(problem.message, problem.fix) from None
    if as_json:
        emit_json({"reader": chosen.id, "port": chosen.port, "cards": cards})
    if not cards:
        raise fail(
            f"no card read on {chosen.port} within {timeout:g} s",
            "hold the card flat on the reader; if it still reads nothing, check the reader's "
            "power, its TX wire, and its kind and baud rate (pelangi-agent init can sniff them)",
            code=EXIT_NO_CARD,
        )


def snmp_check_command(  # noqa: PLR0913, PLR0917 - one option per SNMP setting
    target: Annotated[
        str, typer.Argument(help="A switch id from the configuration, or HOST[:PORT].")
    ],
    config: Config = CONFIG,
    community: Annotated[str | None, typer.Option(help="SNMP v2c community (for a HOST).")] = None,
    version: Annotated[Literal["2c"], typer.Option(help="SNMP version for a HOST.")] = "2c",
    timeout: Annotated[float, typer.Option(min=0.1, max=30, help="Seconds per try.")] = 2.0,
    rates: Annotated[
        float | None,
        typer.Option(min=1, max=300, help="Poll twice this many seconds apart and show rates."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Poll one switch once over SNMP and print its ports.

    Example: pelangi-agent snmp-check sw-lantai1, or a host not yet configured:
    pelangi-agent snmp-check 10.0.0.2 --community public
    """
    settings = _switch(target, config, community, version, timeout)
    try:
        checked = snmp.poll_once(settings, rates_over_s=rates)
    except snmp.CheckProblem as problem:
        raise fail(problem.message, problem.fix) from None
    poll = checked.poll
    if as_json:
        emit_json(
            {
                "switch": settings.id,
                "address": settings.address,
                "sys_name": poll.sys_name,
                "uptime_s": poll.uptime_ticks / 100,
                "interfaces": snmp.rows(checked),
            }
        )
        return
    title = (
        f"{settings.address} ({poll.sys_name or 'no sysName'}), up {poll.uptime_ticks / 100:,.0f} s"
    )
    headers = [*snmp.HEADERS, *(snmp.RATE_HEADERS if rates else ())]
    table(headers, snmp.table_rows(checked), title=title)


def _switch(
    target: str, config: Path, community: str | None, version: Literal["2c"], timeout: float
) -> SwitchSettings:
    """The configured switch ``target``, or one built from a HOST[:PORT] and --community."""
    if community is None:
        if not config.exists():
            raise fail(
                f"{target!r}: no configuration at {config} to look the switch up in",
                "pass --config FILE, or --community C to poll a HOST directly",
            )
        settings = load_or_exit(config, AgentSettings)
        found = next((s for s in settings.switches if s.id == target), None)
        if found is None:
            known = ", ".join(s.id for s in settings.switches) or "none"
            raise fail(
                f"no switch {target!r} in {config} (switches: {known})",
                "name a configured switch, or give a HOST with --community",
            )
        return found.model_copy(update={"timeout_s": timeout})
    host, _, port = target.rpartition(":") if target.count(":") == 1 else (target, "", "")
    try:
        return SwitchSettings(
            id="snmp-check",
            host=host or target,
            port=int(port) if port else 161,
            version=version,
            community=SecretStr(community),
            timeout_s=timeout,
        )
    except (ValidationError, ValueError):
        raise fail(
            f"{target!r} is not HOST or HOST:PORT", "e.g. 10.0.0.2 or 10.0.0.2:161"
        ) from None
