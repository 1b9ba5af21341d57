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
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from edge_agent.snmp.ber import encode_get_bulk
from edge_agent.snmp.poller import client_for
from edge_agent.snmp.tracker import InterfaceReport, SwitchTracker
from edge_agent.snmp.transport import NO_RESPONSE, SCALARS, SnmpError

if TYPE_CHECKING:
    from edge_agent.snmp.client import SwitchPoll
    from edge_agent.snmp.settings import SwitchSettings
    from edge_agent.snmp.table import InterfaceRow

HEADERS: Final = ("ifIndex", "name", "alias", "admin", "oper", "speed", "in octets", "out octets")
RATE_HEADERS: Final = ("in b/s", "out b/s")


@dataclass(frozen=True, slots=True)
class CheckProblem(Exception):  # noqa: N818 - a problem to tell, not a bug
    """Why a switch could not be polled, in words, with the fix."""

    message: str
    fix: str


@dataclass(frozen=True, slots=True)
class Checked:
    """The last poll, and the rates since the one before when two were made."""

    poll: SwitchPoll
    rates: dict[int, InterfaceReport] | None


def poll_once(settings: SwitchSettings, *, rates_over_s: float | None = None) -> Checked:
    """Poll the switch of ``settings`` once (twice, ``rates_over_s`` apart, for rates).

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
        return asyncio.run(_poll(settings, rates_over_s))
    except SnmpError as exc:
        raise _explain(settings, str(exc)) from None


async def _poll(settings: SwitchSettings, rates_over_s: float | None) -> Checked:
    client = client_for(settings)
    tracker = SwitchTracker()  # the agent's own rate maths: wraps, resets, line-rate caps
    try:
        sent = time.monotonic()
        poll = await client.poll()
        tracker.update(poll, time.monotonic(), requested_at=sent)
        if rates_over_s is None:
            return Checked(poll, None)
        await asyncio.sleep(rates_over_s)  # the measuring interval itself, not a wait
        sent = time.monotonic()
        poll = await client.poll()
        reports, _ = tracker.update(poll, time.monotonic(), requested_at=sent)
        return Checked(poll, {report.index: report for report in reports})
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


def rows(checked: Checked) -> list[dict[str, Any]]:
    """The interfaces polled, one JSON-ready row per port (with rates when measured)."""
    return [_row(row, checked.rates) for row in checked.poll.interfaces.values()]


def _row(row: InterfaceRow, rates: dict[int, InterfaceReport] | None) -> dict[str, Any]:
    report = rates.get(row.index) if rates else None
    measured = {"in_bps": report.in_bps, "out_bps": report.out_bps} if report else {}
    return {
        **measured,
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


def table_rows(checked: Checked) -> list[list[object]]:
    """The printed table's cells (:data:`HEADERS`, then :data:`RATE_HEADERS` if measured)."""
    rate_cells = ["in_bps", "out_bps"] if checked.rates is not None else []
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
            *(_bps(r[cell]) for cell in rate_cells),
        ]
        for r in rows(checked)
    ]


def _speed(mbps: int | None) -> str:
    if not mbps:
        return "-"
    return f"{mbps // 1000} Gb/s" if mbps >= 1000 and mbps % 1000 == 0 else f"{mbps} Mb/s"


def _bps(value: float | None) -> str:
    if value is None:
        return "-"
    for unit, scale in (("Gb/s", 1e9), ("Mb/s", 1e6), ("kb/s", 1e3)):
        if value >= scale:
            return f"{value / scale:.1f} {unit}"
    return f"{value:.0f} b/s"


def _count(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"
