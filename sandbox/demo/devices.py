"""The doors, switch and health part of ``make demo``: a door opened and closed, a switch polled."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from edge_agent.config import AgentSettings
from sandbox.demo.output import bits, say, step, table, wita_time
from sandbox.demo.stage import ARRIVAL_TIMEOUT_S, DATABASE
from sandbox.servers import SerialPty, Snmpd
from sandbox.servers.snmpd import COMMUNITY
from sandbox.waiting import wait_until

if TYPE_CHECKING:
    from sandbox.demo.stage import Demo
    from sandbox.servers import InfluxDB

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


def plug_in_door_and_switch(demo: Demo) -> tuple[SerialPty, Snmpd]:
    """Start the door controller's pty and the snmpd standing in for a switch."""
    step("Plugging in a door controller (a microcontroller on a second pseudo-terminal)")
    door_pty = SerialPty(demo.work / "dev", "ttyDOORS")
    demo.start_server(door_pty, "socat doors")
    say(f"    it reports door {DOOR!r} as lines 'DOOR d1 OPEN|CLOSED' on {door_pty.device}")

    step("Starting a network switch stand-in: Net-SNMP snmpd serving this machine's ports")
    switch = Snmpd(demo.work / "snmpd", sys_name=SWITCH)
    demo.start_server(switch, "snmpd")
    say(f"    SNMP v2c on udp {switch.address}, polled every {SWITCH_INTERVAL_S} s as {SWITCH!r}")
    return door_pty, switch


def show_devices(demo: Demo, door_pty: SerialPty, influx: InfluxDB) -> None:
    """Open and close a door, then show the door, switch and health rows InfluxDB holds."""
    assert demo.deployment is not None  # noqa: S101 - set by run() before this is called
    step(f"Opening and closing door {DOOR!r}")
    for sent in DOOR_LINES:
        say(f"    the controller sends {sent.decode().strip()!r}")
    doors = open_and_close_door(
        door_pty, demo.deployment.agent.pid, influx, DATABASE, ARRIVAL_TIMEOUT_S
    )
    door_rows = [(wita_time(int(r["time"])), str(r["device"]), str(r["state"])) for r in doors]
    for line in table(("time (WITA)", "door", "state"), door_rows):
        say(line)

    step(f"Switch {SWITCH!r}: the latest poll per port (rates computed at the edge)")
    ports = wait_for_switch(influx, DATABASE, ARRIVAL_TIMEOUT_S)
    rows = [
        (
            str(r.get("port")),
            str(r.get("oper")),
            "-" if r.get("speed_mbps") is None else f"{r['speed_mbps']} Mb/s",
            bits(r.get("in_bps")),
            bits(r.get("out_bps")),
            str(r.get("discarded") or ""),
        )
        for r in sorted(ports, key=lambda r: str(r.get("port")))
    ]
    for line in table(("port", "status", "speed", "in", "out", "no rate because"), rows):
        say(line)
    say("    (a rate above 1.1x the port's speed is never published: Linux says lo runs at")
    say("    10 Mb/s, so loopback traffic beyond that is discarded as above_line_rate)")

    step("The agent's own health (published every 5 s in the demo, 60 s by default)")
    health = latest_health(influx, DATABASE, ARRIVAL_TIMEOUT_S, door_changes=len(DOOR_LINES))
    rss = health.get("rss_bytes")
    say(
        f"    uptime {health.get('uptime_s', 0):.0f} s, RSS "
        f"{'-' if rss is None else f'{rss / 2**20:.0f} MiB'}, CPU "
        f"{health.get('cpu_percent', 0) or 0:.1f} % of a core, "
        f"door changes {health.get('c.door_changes', 0)}"
    )
    offset = health.get("clock_offset_ms")
    say(
        "    the gateway's clock against the collectors': "
        + ("not checked yet" if offset is None else f"{offset:+d} ms")
        + f", NTP synchronized: {health.get('ntp_synchronized', 'unknown')}, readings "
        + (
            "stamped with the collectors' time"
            if health.get("c.clock.correcting")
            else "on its own clock"
        )
        + f" (beyond {AgentSettings.model_fields['clock_tolerance_s'].default:g} s they would be)"
    )
