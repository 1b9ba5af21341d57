"""The doors, switch and health part of ``make demo`` (see :mod:`sandbox.demo`)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

from sandbox.servers.snmpd import COMMUNITY
from sandbox.waiting import wait_until

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import tzinfo

    from sandbox.servers import InfluxDB, SerialPty
    from sandbox.servers.snmpd import Snmpd

DOOR: Final = "pintu-utama"
DOOR_ON_WIRE: Final = "d1"
SWITCH: Final = "sw-lantai1"
SWITCH_INTERVAL_S: Final = 4
"""Net-SNMP caches interface counters for a few seconds: poll slower than that."""


def agent_devices(door_pty: SerialPty, switch: Snmpd) -> dict[str, Any]:
    """The agent configuration for one serial door controller and one switch."""
    return {
        "doors": [
            {
                "id": DOOR,
                "source": "serial",
                "port": str(door_pty.device),
                "remote_id": DOOR_ON_WIRE,
            }
        ],
        "switches": [
            {
                "id": SWITCH,
                "host": switch.host,
                "port": switch.port,
                "community": COMMUNITY,
                "interval_s": SWITCH_INTERVAL_S,
                "timeout_s": 1,
            }
        ],
        "health_interval_s": 5,
    }


DOOR_LINES: Final = (b"DOOR d1 OPEN\n", b"DOOR d1 CLOSED\n")


def open_and_close_door(
    door_pty: SerialPty, agent_pid: int, influx: InfluxDB, database: str, timeout: float
) -> list[dict[str, Any]]:
    """Send :data:`DOOR_LINES` from the door controller; return the stored changes."""
    wait_until(
        lambda: door_pty.is_open_by(agent_pid),
        timeout=timeout,
        what="the agent has the door controller's port open",
    )
    for line in DOOR_LINES:
        door_pty.write(line)
    return wait_until(
        lambda: len(rows := _changes(influx, database)) >= 2 and rows,
        timeout=timeout,
        what="both door changes are stored",
    )


def _changes(influx: InfluxDB, database: str) -> list[dict[str, Any]]:
    return influx.query("SELECT * FROM door WHERE change = true", db=database)


def wait_for_switch(influx: InfluxDB, database: str, timeout: float) -> list[dict[str, Any]]:
    """Wait for a second poll (the first is only a baseline); return its rows per port."""
    second = wait_until(
        lambda: influx.query(
            "SELECT * FROM interface WHERE in_bps >= 0 OR discarded != '' "
            "ORDER BY time DESC LIMIT 1",
            db=database,
        ),
        timeout=timeout,
        what="a poll with rates is stored (two polls are needed for a rate)",
    )
    seq = int(second[0]["seq"])
    # One poll = one envelope: its readings carry consecutive sequence numbers.
    return influx.query(
        f"SELECT * FROM interface WHERE seq > {seq - 64} AND seq < {seq + 64} "  # noqa: S608
        "GROUP BY port ORDER BY time DESC LIMIT 1",
        db=database,
    )


def latest_health(
    influx: InfluxDB, database: str, timeout: float, *, door_changes: int
) -> dict[str, Any]:
    """The newest agent_health row, once it counts ``door_changes`` door changes."""

    def newest() -> dict[str, Any] | None:
        rows = influx.query("SELECT * FROM agent_health ORDER BY time DESC LIMIT 1", db=database)
        return rows[0] if rows and (rows[0].get("c.door_changes") or 0) >= door_changes else None

    return wait_until(newest, timeout=timeout, what="the agent's health counts the door changes")


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Format rows as aligned text lines, header and rule first."""
    lines = [tuple(header), *(tuple(row) for row in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = []
    for n, line in enumerate(lines):
        cells = (cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        out.append(("    " + "  ".join(cells)).rstrip())
        if n == 0:
            out.append("    " + "  ".join("-" * width for width in widths))
    return out


def wita_time(ns: int, zone: tzinfo) -> str:
    """A timestamp (ns, UTC) as WITA wall-clock time with milliseconds."""
    when = datetime.fromtimestamp(ns / 1e9, tz=UTC).astimezone(zone)
    return when.strftime("%H:%M:%S.%f")[:-3]


def bits(value: object) -> str:
    """A bit rate for people."""
    if not isinstance(value, int | float):
        return "-"
    for unit, scale in (("Gb/s", 1e9), ("Mb/s", 1e6), ("kb/s", 1e3)):
        if value >= scale:
            return f"{value / scale:.1f} {unit}"
    return f"{value:.0f} b/s"
