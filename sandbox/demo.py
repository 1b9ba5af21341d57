"""``make demo``: the whole chain on this machine, from a tapped card to a row in InfluxDB.

Run as ``python -m sandbox.demo``. It starts a private Mosquitto and InfluxDB on
free loopback ports and a simulated RDM6300 reader (a socat pseudo-terminal), all in a
temporary folder; runs ``pelangi-collector setup-db``, ``pelangi-collector run`` and
``pelangi-agent run`` with generated configurations; taps a few cards (one held, one with a
broken checksum, some line noise); waits until InfluxDB holds them and prints them. At the
end, even on failure or Ctrl-C, it stops everything it started, checks that nothing is
left running and removes the folder. Exit status 0 means every check passed.
"""

from __future__ import annotations

import re
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sandbox.card_frames import LINE_NOISE, card_printed, card_uid, hold_card, rdm6300_frame
from sandbox.demo_devices import (
    DOOR,
    DOOR_LINES,
    SWITCH,
    SWITCH_INTERVAL_S,
    agent_devices,
    bits,
    latest_health,
    open_and_close_door,
    table,
    wait_for_switch,
    wita_time,
)
from sandbox.demo_resilience import broker_outage, dead_letters, retained
from sandbox.deployment import Deployment, DeploymentSettings, Reader
from sandbox.logbook import LogBook
from sandbox.processes import ChildProcess, SandboxError
from sandbox.servers import InfluxDB, Mosquitto, SerialPty, Server
from sandbox.servers.snmpd import Snmpd
from sandbox.waiting import wait_until

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

SITE: Final = "bukit-pelangi"
GATEWAY: Final = "gw-kantor-bupati"
READER: Final = "rfid-lobby"
DATABASE: Final = "pelangi"
HOLD_GAP_MS: Final = 300
ARRIVAL_TIMEOUT_S: Final = 20.0

EXIT_FAILED: Final = 1
EXIT_INTERRUPTED: Final = 130

# Log lines worth showing after the run: problems, rejections, the agent's totals.
_NOTABLE = re.compile(
    r" (WARNING|ERROR|CRITICAL) |reject|bad|ignored|garbage|noise|totals|stored|wrote|stopped",
    re.IGNORECASE,
)


def _wita() -> tzinfo:
    """Central Indonesia time (Kutai Timur); UTC+8 all year, so a fixed offset will do."""
    try:
        return ZoneInfo("Asia/Makassar")
    except ZoneInfoNotFoundError:
        return timezone(timedelta(hours=8), "WITA")


def say(text: str = "") -> None:
    """Print one line of the demo's story (flushed, so it interleaves well with make)."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def step(text: str) -> None:
    """Announce a step."""
    say()
    say(f"==> {text}")


class DemoFailedError(SandboxError):
    """Something the demo checks did not hold."""


@dataclass
class Demo:
    """What the demo started, so that it can all be stopped, whatever happens."""

    work: Path
    log_book: LogBook = field(default_factory=LogBook)
    servers: list[Server] = field(default_factory=list)
    deployment: Deployment | None = None

    def processes(self) -> list[ChildProcess]:
        """Every child process the demo has started (running or not)."""
        found = [server.process for server in self.servers if server.started]
        if self.deployment is not None:
            found += [self.deployment.agent, self.deployment.collector]
        return [process for process in found if process.started]

    def start_server(self, server: Server, label: str) -> None:
        """Start ``server``, remembering it for the final clean-up."""
        self.servers.append(server)
        self.log_book.add(label, server)
        server.start()

    def stop_all(self) -> list[str]:
        """Stop the agent and collector, then the servers (newest first); return leftovers.

        Each stop is tried even if an earlier one failed: a failure is reported, not fatal.
        """
        stoppers: list[tuple[str, Callable[[], object]]] = []
        if self.deployment is not None:
            stoppers.append(("the agent and the collector", self.deployment.stop))
        stoppers += [(server.name, server.stop) for server in reversed(self.servers)]
        for name, stop in stoppers:
            try:
                stop()
            except (OSError, SandboxError) as exc:
                say(f"    could not stop {name}: {exc}")
        return [
            f"{process.name} (PID {process.pid})"
            for process in self.processes()
            if process.running or Path(f"/proc/{process.pid}").exists()
        ]


def run(demo: Demo) -> None:
    """The demo's story; raises on the first thing that does not work."""
    work = demo.work
    say("Pelangi demo: RFID reader -> edge agent -> MQTT -> collector -> InfluxDB, all on this")
    say(f"machine, in the temporary folder {work}")

    step("Starting a private MQTT broker (Mosquitto)")
    broker = Mosquitto(work / "mosquitto")
    demo.start_server(broker, "mosquitto")
    say(f"    listening on {broker.address}, PID {broker.pid}")

    step("Starting a private InfluxDB 1.6 database server")
    influx = InfluxDB(work / "influxdb")
    demo.start_server(influx, "influxd")
    say(f"    HTTP API at {influx.url}, PID {influx.pid}")

    step("Plugging in a simulated RDM6300 card reader (a socat pseudo-terminal)")
    pty = SerialPty(work / "dev", "ttyRFID0")
    demo.start_server(pty, "socat")
    say(f"    the agent will open {pty.device} as if it were /dev/ttyUSB0")

    door_pty, switch = plug_in_door_and_switch(demo)

    deployment = Deployment(
        work / "pelangi",
        broker=broker,
        influx=influx,
        database=DATABASE,
        readers=[Reader(READER, pty, hold_gap_ms=HOLD_GAP_MS)],
        settings=DeploymentSettings(
            site=SITE,
            gateway=GATEWAY,
            batch_max_delay_ms=100,
            agent_extra=agent_devices(door_pty, switch),
        ),
    )
    demo.deployment = deployment
    demo.log_book.add("pelangi-agent", deployment.agent)
    demo.log_book.add("pelangi-collector", deployment.collector)

    step("Writing the configuration files")
    deployment.write_configs()
    say(f"    {deployment.agent_config_path}")
    say(f"    {deployment.collector_config_path}")

    step(f"Creating the database {DATABASE!r}: pelangi-collector setup-db")
    for line in deployment.setup_db().splitlines():
        say(f"    {line}")

    step("Starting the collector: pelangi-collector run")
    deployment.start_collector()
    say(f"    PID {deployment.collector.pid}, subscribed at the broker")

    step("Starting the agent: pelangi-agent run")
    deployment.start_agent()
    say(f"    PID {deployment.agent.pid}, connected to the broker, reader port open")

    time_one_tap(pty, influx)
    expected = tap_cards(pty, broker, deployment)

    step("Waiting until InfluxDB holds every tap")
    rows = wait_for_rows(influx, expected)
    print_table(rows)
    check_rows(rows, expected)

    show_devices(demo, door_pty, influx)
    show_resilience(broker, pty, influx)

    step("Stopping the agent and the collector (SIGTERM)")
    for name, status in deployment.stop().items():
        say(f"    {name} exited with status {status}")
    show_notable_lines(deployment)


@dataclass(frozen=True)
class Expected:
    """What InfluxDB should hold after the taps: card -> number of rows."""

    counts: dict[str, int]
    absent: list[str]


FIRST_CARD: Final = "01001293D8"


def time_one_tap(pty: SerialPty, influx: InfluxDB) -> None:
    """Tap one card and measure how long until InfluxDB answers a query with it."""
    step("Tapping one card and timing its way into InfluxDB")
    uid = card_uid(FIRST_CARD)
    say(f"    tap card {uid} (printed {card_printed(FIRST_CARD)})")
    tapped = time.monotonic()
    pty.write(rdm6300_frame(FIRST_CARD))
    wait_until(
        lambda: any(row.get("uid") == uid for row in _stored(influx)),
        timeout=ARRIVAL_TIMEOUT_S,
        what=f"card {uid} is stored",
        interval=0.01,
    )
    say(
        f"    queryable in InfluxDB {time.monotonic() - tapped:.3f} s after the tap (target: < 1 s)"
    )


def tap_cards(pty: SerialPty, broker: Mosquitto, deployment: Deployment) -> Expected:
    """Tap the cards of the story and say what each should lead to."""
    step("Tapping more cards")
    plain = ["62E3086CED", "0A00C0FFEE"]
    held, broken, last = "0400ABCDEF", "0B0BADF00D", "1F00123456"

    for card in plain:
        say(f"    tap card {card_uid(card)} (printed {card_printed(card)})")
        pty.write(rdm6300_frame(card))
        # A person takes a moment between taps; a reader never sees two cards at once.
        time.sleep(0.2)

    say(f"    hold card {card_uid(held)} on the reader for 1 s: the reader repeats its frame")
    frames = hold_card(pty.write, rdm6300_frame(held), seconds=1.0)
    say(f"      ({frames} identical frames; the agent should store ONE tap)")

    say(f"    a frame for card {card_uid(broken)} with a broken checksum: should be rejected")
    pty.write(rdm6300_frame(broken, bad_checksum=True))
    say(f"    line noise ({len(LINE_NOISE)} bytes of garbage): should be ignored")
    pty.write(LINE_NOISE)

    topic = deployment.topic(READER)
    say("    a malformed message published straight to the broker on the reader's topic")
    say(f"      {topic}: the collector should reject it")
    broker.publish(topic, b"this is not a Pelangi envelope")

    say(f"    tap card {card_uid(last)} after all that: should arrive as usual")
    pty.write(rdm6300_frame(last))
    return Expected(counts=dict.fromkeys([FIRST_CARD, *plain, held, last], 1), absent=[broken])


def _stored(influx: InfluxDB) -> list[dict[str, Any]]:
    return influx.query("SELECT * FROM card_read", db=DATABASE)


def wait_for_rows(influx: InfluxDB, expected: Expected) -> list[dict[str, Any]]:
    """Wait until every expected card is stored; return all rows."""
    uids = {card_uid(card) for card in expected.counts}
    # Readings of one reader arrive in order: once the last tap is stored, so is the rest.
    return wait_until(
        lambda: (rows := _stored(influx)) and uids <= {row.get("uid") for row in rows} and rows,
        timeout=ARRIVAL_TIMEOUT_S,
        what=f"InfluxDB holds cards {sorted(uids)}",
        interval=0.05,
    )


def print_table(rows: Sequence[dict[str, Any]]) -> None:
    """Print the stored rows as a table, times in WITA."""
    step(f"InfluxDB now holds (database {DATABASE!r}, measurement card_read):")
    wita = _wita()
    header = ("time (WITA)", "site", "gateway", "reader", "uid", "printed", "seq")
    lines = [header]
    for row in sorted(rows, key=lambda r: int(r["time"])):
        when = datetime.fromtimestamp(int(row["time"]) / 1e9, tz=UTC).astimezone(wita)
        lines.append(
            (
                when.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3],
                str(row.get("site")),
                str(row.get("gateway")),
                str(row.get("device")),
                str(row.get("uid")),
                str(row.get("printed")),
                str(row.get("seq")),
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for n, line in enumerate(lines):
        cells = (cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        say(("    " + "  ".join(cells)).rstrip())
        if n == 0:
            say("    " + "  ".join("-" * width for width in widths))


def check_rows(rows: Sequence[dict[str, Any]], expected: Expected) -> None:
    """Check each card was stored exactly as often as expected, with the right identity."""
    step("Checking")
    problems = []
    for card, count in expected.counts.items():
        found = [row for row in rows if row.get("uid") == card_uid(card)]
        if len(found) != count:
            problems.append(f"card {card_uid(card)}: stored {len(found)} times, expected {count}")
        elif found[0].get("printed") != card_printed(card):
            problems.append(f"card {card_uid(card)}: printed {found[0].get('printed')!r}")
    stored_uids = {row.get("uid") for row in rows}
    problems += [
        f"card {card_uid(card)} (broken checksum) was stored"
        for card in expected.absent
        if card_uid(card) in stored_uids
    ]
    if len(rows) != sum(expected.counts.values()):
        problems.append(f"{len(rows)} rows stored, expected {sum(expected.counts.values())}")
    if problems:
        raise DemoFailedError("; ".join(problems))
    say(f"    OK: {len(rows)} taps stored once each, the held card once, the broken frame")
    say("    and the noise dropped, the malformed MQTT message kept out")


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
    wita = _wita()
    step(f"Opening and closing door {DOOR!r}")
    for sent in DOOR_LINES:
        say(f"    the controller sends {sent.decode().strip()!r}")
    doors = open_and_close_door(
        door_pty, demo.deployment.agent.pid, influx, DATABASE, ARRIVAL_TIMEOUT_S
    )
    door_rows = [
        (wita_time(int(r["time"]), wita), str(r["device"]), str(r["state"])) for r in doors
    ]
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


def show_resilience(broker: Mosquitto, pty: SerialPty, influx: InfluxDB) -> None:
    """Dead letters, liveness messages, and a card tapped while the broker is down."""
    step("The malformed MQTT message was dead-lettered, not lost (measurement dead_letter)")
    for row in dead_letters(influx, DATABASE, ARRIVAL_TIMEOUT_S):
        say(f"    reason {row.get('reason')}, topic {row.get('topic')}")

    step("Liveness: retained birth certificates and collector presence on the broker")
    for line in retained(broker, "pelangi/+/+/status") + retained(broker, "pelangi-host/+/state"):
        say(f"    {line[:150]}")

    step("Broker outage: stop Mosquitto, tap a card, start Mosquitto again")
    say("    the agent keeps the tap in its outbox on disk until the broker is back")
    row = broker_outage(broker, pty, influx, DATABASE)
    say(
        f"    card {row.get('uid')} stored after the outage (seq {row.get('seq')}, "
        f"historical: {bool(row.get('historical'))})"
    )


def show_notable_lines(deployment: Deployment, limit: int = 12) -> None:
    """Print the log lines of the agent and collector worth a look."""
    for process in (deployment.agent, deployment.collector):
        step(f"Notable lines from the {process.name} log ({process.log_path})")
        notable = [line for line in process.log_text().splitlines() if _NOTABLE.search(line)]
        for line in notable[-limit:] or ["(none)"]:
            say(f"    {line}")


def main() -> int:
    """Run the demo; always clean up; return the exit status."""
    demo = Demo(Path(tempfile.mkdtemp(prefix="pelangi-demo-")))
    status = EXIT_FAILED
    try:
        run(demo)
        status = 0
    except KeyboardInterrupt:
        say()
        say("Interrupted: cleaning up.")
        status = EXIT_INTERRUPTED
    except (SandboxError, TimeoutError) as exc:
        say()
        say(f"DEMO FAILED: {exc}")
        say()
        say("The last lines of each log:")
        say(demo.log_book.render(30))
    finally:
        # A second Ctrl-C must not cut the clean-up short.
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            step("Stopping everything the demo started")
            leftovers = demo.stop_all()
            names = ", ".join(f"{p.name} (PID {p.pid})" for p in demo.processes()) or "nothing"
            if leftovers:
                say(f"    STILL RUNNING: {', '.join(leftovers)}")
                status = EXIT_FAILED
            else:
                say(f"    stopped: {names}; nothing is left running")
        finally:
            shutil.rmtree(demo.work, ignore_errors=True)
            say(f"    removed {demo.work}")
            signal.signal(signal.SIGINT, previous)
    say()
    say(_OUTCOME.get(status, "Demo did not pass."))
    return status


_OUTCOME: Final = {0: "Demo finished: all checks passed.", EXIT_INTERRUPTED: "Demo interrupted."}


if __name__ == "__main__":
    sys.exit(main())
