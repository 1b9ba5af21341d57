"""The agent's device checks: serial ports present and usable, a read per reader, SNMP."""

from __future__ import annotations

import asyncio
import grp
import os
import socket
import time
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Final

import serial

from edge_agent.doors.settings import SerialDoor
from edge_agent.errors import FrameError
from edge_agent.readers.decoders import decoder_for
from edge_agent.snmp.poller import client_for
from edge_agent.snmp.transport import SnmpError
from pelangi.doctor import Check, Finding, failed, passed, warned

if TYPE_CHECKING:
    from collections.abc import Callable

    from edge_agent.config import AgentSettings
    from edge_agent.readers.settings import ReaderSettings
    from edge_agent.snmp.client import SwitchPoll
    from edge_agent.snmp.settings import SwitchSettings

_REFUSAL_WAIT_S: Final = 0.3
"""How long an ICMP port-unreachable may take to come back on the local network."""


def port_check_name(port: str) -> str:
    """The name of the check of serial port ``port`` (reader reads depend on it)."""
    return f"serial port {port}"


def serial_ports(settings: AgentSettings) -> list[tuple[str, str]]:
    """Every configured serial port and what uses it, in configuration order."""
    used = [(r.port, f"reader {r.id}") for r in settings.readers]
    used += [(d.port, f"door {d.id}") for d in settings.doors if isinstance(d, SerialDoor)]
    return used


def port_usable(port: str, user: str, access: Callable[[str, int], bool] = os.access) -> Finding:
    """Whether ``port`` exists and this user may read and write it (pyserial opens it so).

    ``access`` is a seam: root passes every :func:`os.access`, so tests of the refusal
    run as root hand in a stand-in.
    """
    path = Path(port)
    if not path.exists():
        return failed(
            f"{port} does not exist",
            "plug the device in, or correct the port in the configuration; ls -l "
            "/dev/serial/by-id/ lists the serial devices by a name that survives reboots",
        )
    if not access(port, os.R_OK | os.W_OK):
        group = _group_of(path)
        # Serial adapters belong to dialout on Debian; a port of root's group was changed by hand.
        join = "dialout" if group == "root" else group
        return failed(
            f"{port} exists but this user ({user}) may not read and write it (group {group})",
            f"add the service user to the {join} group (serial ports belong to dialout on "
            f"Debian): sudo usermod -aG {join} {user}, then log in again or restart the service",
        )
    return passed(f"{port} present, readable and writable by {user}")


def _group_of(path: Path) -> str:
    try:
        return grp.getgrgid(path.stat().st_gid).gr_name
    except (KeyError, OSError):
        return "dialout"


def read_card(reader: ReaderSettings, seconds: float) -> Finding:
    """Open the reader's port and wait up to ``seconds`` for one card, decoded as the agent does."""
    decoder = decoder_for(reader)
    errors: list[FrameError] = []
    try:
        with serial.Serial(reader.port, reader.baudrate, timeout=0.1, exclusive=True) as port:
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                for item in decoder.feed(port.read(64)):
                    if not isinstance(item, FrameError):
                        return passed(f"read card {item} from {reader.port}")
                    errors.append(item)
    except (serial.SerialException, OSError) as exc:
        return failed(
            f"cannot open {reader.port}: {exc}",
            "stop the agent first (sudo systemctl stop pelangi-agent): doctor and the agent "
            "cannot hold the port at once",
        )
    if errors:
        return failed(
            f"{len(errors)} bad frame(s) from {reader.port}, no card: {errors[0]}",
            f"check the reader's kind ({reader.kind}) and baudrate ({reader.baudrate}) in "
            "the configuration against the reader's label, and its wiring",
        )
    return warned(
        f"no card read from {reader.port} within {seconds:g} s",
        "hold a card on the reader while doctor runs; if nothing arrives, check the wiring "
        "and the reader's power",
    )


def poll_switch(switch: SwitchSettings) -> Finding:
    """One SNMP poll of ``switch`` with its configured credentials, by the agent's client."""
    if _refused(switch.host, switch.port):
        return failed(
            f"nothing answers SNMP at {switch.address} (port unreachable)",
            "check the switch's address and port in the configuration and that its SNMP "
            "agent is enabled",
        )
    try:
        poll = asyncio.run(_poll(switch))
    except SnmpError as exc:
        credential = "community" if switch.version == "2c" else "v3 user and keys"
        return failed(
            f"no SNMP answer from {switch.address}: {exc}",
            f"check that the switch is up (ping {switch.host}), that it allows SNMP from "
            f"this gateway, and that the {credential} in the configuration is the switch's: "
            "an agent ignores a wrong one without a word",
        )
    uptime_h = poll.uptime_ticks / 100 / 3600
    return passed(
        f"{switch.address} answers SNMP v{switch.version}: sysName {poll.sys_name!r}, "
        f"up {uptime_h:.1f} h, {len(poll.interfaces)} interfaces"
    )


async def _poll(switch: SwitchSettings) -> SwitchPoll:
    client = client_for(switch)
    try:
        return await client.poll()
    finally:
        client.close()


def _refused(host: str, port: int) -> bool:
    """Whether the host says nothing listens on UDP ``port`` (an ICMP port unreachable).

    A switch that merely ignores us (down, filtered, a wrong community) says nothing: only
    this tells "nothing there" from "not answering us".
    """
    try:
        with socket.socket(
            socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM
        ) as udp:
            udp.settimeout(_REFUSAL_WAIT_S)
            udp.connect((host, port))
            udp.send(b"\x30\x00")  # an empty BER sequence: an SNMP agent drops it
            udp.recv(1)
    except ConnectionRefusedError:
        return True
    except OSError:
        return False
    return False


def device_checks(
    settings: AgentSettings, user: str, read_timeout_s: float, reader: str | None
) -> list[Check]:
    """Serial ports, optional reads, then switches."""
    checks = [
        Check(port_check_name(port), partial(port_usable, port, user), 5.0)
        for port, _ in dict.fromkeys(serial_ports(settings))
    ]
    if read_timeout_s > 0:
        checks += [
            Check(
                f"reader {r.id} read",
                partial(read_card, r, read_timeout_s),
                read_timeout_s + 5,
                (port_check_name(r.port),),
            )
            for r in settings.readers
            if reader is None or r.id == reader
        ]
    checks += [
        Check(
            f"switch {s.id} SNMP",
            partial(poll_switch, s),
            (s.timeout_s + 1) * (s.retries + 1) * 4,
        )
        for s in settings.switches
    ]
    return checks
