"""``pelangi-agent snmp-check SWITCH|HOST``: one poll, with the agent's own SNMP client.

The poll goes through :func:`edge_agent.snmp.poller.client_for`, exactly as the agent
polls, so a switch that answers here answers the agent. SNMP v2c gives no answer at all
to a wrong community, the same silence as a host that is down; when a poll times out,
one extra datagram tells the two apart where the host says "port unreachable" (ICMP):
then nothing listens there, and the community was never the problem.
"""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from edge_agent.snmp.ber import encode_get_bulk
from edge_agent.snmp.poller import client_for
from edge_agent.snmp.transport import NO_RESPONSE, SCALARS, SnmpError

if TYPE_CHECKING:
    from edge_agent.snmp.client import SwitchPoll
    from edge_agent.snmp.settings import SwitchSettings
    from edge_agent.snmp.table import InterfaceRow

HEADERS: Final = ("ifIndex", "name", "alias", "admin", "oper", "speed", "in octets", "out octets")


@dataclass(frozen=True, slots=True)
class CheckProblem(Exception):  # noqa: N818 - a problem to tell, not a bug
    """Why a switch could not be polled, in words, with the fix."""

    message: str
    fix: str


def poll_once(settings: SwitchSettings) -> SwitchPoll:
    """Poll the switch of ``settings`` once.

    Raises:
        CheckProblem: it did not answer usably; says why and what to do.
    """
    try:
        socket.getaddrinfo(settings.host, settings.port, type=socket.SOCK_DGRAM)
    except socket.gaierror as exc:
        raise CheckProblem(
            f"cannot resolve {settings.host!r}: {exc.strerror}",
            "check the switch's address (an IP address avoids depending on DNS)",
        ) from None
    try:
        return asyncio.run(_poll(settings))
    except SnmpError as exc:
        raise _explain(settings, str(exc)) from None


async def _poll(settings: SwitchSettings) -> SwitchPoll:
    client = client_for(settings)
    try:
        return await client.poll()
    finally:
        client.close()


def _explain(settings: SwitchSettings, error: str) -> CheckProblem:
    where = settings.address
    waited = settings.timeout_s * (settings.retries + 1)
    if NO_RESPONSE not in error:
        return CheckProblem(
            f"{where} answered with an SNMP error: {error}",
            "check the SNMP credentials (v3 user, keys, protocols) and the switch's SNMP view",
        )
    if settings.version == "2c" and _refused(settings):
        return CheckProblem(
            f"nothing listens for SNMP at {where} (the host says: port unreachable)",
            "enable SNMP on the switch, or check the address and port (usually 161)",
        )
    credentials = "community" if settings.version == "2c" else "SNMPv3 user or keys"
    return CheckProblem(
        f"no SNMP answer from {where} within {waited:g} s",
        f"a wrong {credentials} gets no answer at all: check it; else check that the "
        "switch allows SNMP from this gateway's address, that it is switched on and "
        f"reachable (ping {settings.host}), or raise timeout_s",
    )


def _refused(settings: SwitchSettings) -> bool:
    """Whether the host rejects an SNMP datagram outright (ICMP port unreachable)."""
    community = settings.community.get_secret_value() if settings.community else ""
    request = encode_get_bulk(community, 1, len(SCALARS), 1, list(SCALARS))
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as probe:
        probe.settimeout(settings.timeout_s)
        try:
            # A connected UDP socket is what receives the ICMP error, on the next call.
            probe.connect((settings.host, settings.port))
            probe.send(request)
            probe.recv(65535)
        except ConnectionRefusedError:
            return True
        except OSError:
            return False
    return False


def rows(poll: SwitchPoll) -> list[dict[str, Any]]:
    """The interfaces of ``poll``, one JSON-ready row per port."""
    return [_row(row) for row in poll.interfaces.values()]


def _row(row: InterfaceRow) -> dict[str, Any]:
    return {
        "if_index": row.index,
        "name": row.label,
        "alias": row.alias or "",
        "admin": row.admin,
        "oper": row.oper,
        "speed_mbps": row.high_speed,
        "in_octets": row.hc_in_octets,
        "out_octets": row.hc_out_octets,
        "in_errors": row.in_errors,
        "out_errors": row.out_errors,
    }


def table_rows(poll: SwitchPoll) -> list[list[object]]:
    """The interfaces of ``poll`` as the printed table's cells (see :data:`HEADERS`)."""
    return [
        [
            r["if_index"],
            r["name"],
            r["alias"],
            r["admin"] or "?",
            r["oper"] or "?",
            _speed(r["speed_mbps"]),
            _count(r["in_octets"]),
            _count(r["out_octets"]),
        ]
        for r in rows(poll)
    ]


def _speed(mbps: int | None) -> str:
    if not mbps:
        return "-"
    return f"{mbps // 1000} Gb/s" if mbps >= 1000 and mbps % 1000 == 0 else f"{mbps} Mb/s"


def _count(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"
