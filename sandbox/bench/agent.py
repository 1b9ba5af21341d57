"""Agent benchmark: the outbox, replay through the broker, live latency, footprint, outage soak.

Targets (issue 4, on 2 cores):

- replay >= 20,000 readings/s (to PUBACK) after a 1-hour backlog at pilot rate;
- a live tap -> PUBACK p99 <= 50 ms while a backlog replays;
- agent RSS <= 50 MB and CPU <= 1 % of a core at pilot load (2 readers, 10 doors, two
  48-port switches polled every 60 s);
- a week of pilot telemetry <= 1 GB of outbox.

Parts:

``outbox``
    :func:`sandbox.bench.outbox.run_benchmark`: the outbox alone (durable appends/s,
    replay with an instant ack, bytes per reading, a week's size).
``replay``
    a backlog built on disk (1 hour, and 2 days, of the pilot's readings), then the real
    store-and-forward publisher (:class:`edge_agent.uplink.publisher.MqttPublisher`, in this
    process) against a private Mosquitto, with a collector announced online and a QoS 1
    subscriber (``mosquitto_sub``, another process) taking the messages: readings/s from
    the first take to the last PUBACK.
``live``
    during the 2-day replay, a card tap every 10 ms submitted as a reader thread does:
    time from ``submit()`` to the PUBACK of the message that carried it.
``footprint``
    ``pelangi-agent run`` at pilot load for a few minutes: RSS and CPU from ``/proc``.
``outage``
    :mod:`sandbox.bench.outage` with the issue's 2-minute broker outage (the test
    suite runs it for 20 s).
"""

from __future__ import annotations

import json
import os
import statistics
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import yaml

from edge_agent.config import AgentSettings
from edge_agent.uplink.publisher import MqttPublisher
from pelangi.card import em4100
from pelangi.payloads import SCHEMA_VERSION, CardRead, Envelope
from sandbox.bench.outage import OutagePlan, OutageReport, run_outage
from sandbox.bench.outbox import build_backlog, run_benchmark
from sandbox.bench.report import BenchResult, Check, Table, count
from sandbox.bench.snmp import SimulatedSwitch
from sandbox.card_frames import rdm6300_frame
from sandbox.probes import announce_collector
from sandbox.processes import ChildProcess, find_program, venv_program
from sandbox.servers import InfluxDB, Mosquitto, SerialPty
from sandbox.servers.snmpd import COMMUNITY
from sandbox.waiting import wait_until

if TYPE_CHECKING:
    from pathlib import Path

    from edge_agent.outbox import Outbox, OutboxBatch
    from edge_agent.uplink.connection import MqttConnection
    from edge_agent.uplink.fallback import Fallback

NAME: Final = "agent"
SITE: Final = "bench-site"
GATEWAY: Final = "gw-bench"
OUTAGE_S: Final = 120.0
"""The issue's outage; ``tests/test_agent_store_forward.py`` runs 20 s."""
QUICK_OUTAGE_S: Final = 20.0
FOOTPRINT_S: Final = 180.0
"""Three switch polls at 60 s."""
QUICK_FOOTPRINT_S: Final = 30.0
TAP_EVERY_S: Final = 0.01
DOORS: Final = 10
TARGET_REPLAY_PER_S: Final = 20_000
TARGET_LIVE_P99_MS: Final = 50.0
TARGET_RSS_BYTES: Final = 50 * 1000 * 1000
TARGET_CPU_PERCENT: Final = 1.0
TARGET_WEEK_BYTES: Final = 1000**3


# -- replay and live latency -------------------------------------------------------------


class _TimedPublisher(MqttPublisher):
    """The real publisher, noting when each reading was PUBACKed (instrumentation only)."""

    def __init__(
        self,
        settings: AgentSettings,
        *,
        outbox: Outbox,
        connection: MqttConnection,
        fallback: Fallback,
    ) -> None:
        super().__init__(settings, outbox=outbox, connection=connection, fallback=fallback)
        self.lock = threading.Lock()
        self.acked_readings = 0
        self.first_take: float | None = None
        self.last_ack = 0.0
        self.sizes: dict[int, int] = {}  # batch id -> readings
        self.live_seqs: dict[int, list[int]] = {}  # batch id -> seqs of live card reads
        self.acked_at: dict[int, float] = {}  # seq -> PUBACK time

    def _send(self, batch: OutboxBatch, generation: int) -> None:
        with self.lock:
            if self.first_take is None:
                self.first_take = time.perf_counter()
            self.sizes[batch.id] = len(batch)
            if not batch.historical and batch.device == "rfid-lobby":
                self.live_seqs[batch.id] = [json.loads(r)["seq"] for r in batch.readings]
        super()._send(batch, generation)

    def delivered(self, token: int, refusal: str | None) -> None:
        now = time.perf_counter()
        super().delivered(token, refusal)
        with self.lock:
            self.acked_readings += self.sizes.pop(token, 0)
            self.last_ack = now
            for seq in self.live_seqs.pop(token, ()):
                self.acked_at.setdefault(seq, now)


@dataclass
class ReplayRun:
    """One replay through the broker."""

    label: str
    backlog: int
    seconds: float = 0.0
    taps: dict[int, float] = field(default_factory=dict)
    """Live tap seq -> submit time (perf_counter)."""
    latencies_ms: list[float] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        """Readings/s from the first take to the last PUBACK."""
        return self.backlog / self.seconds if self.seconds else 0.0

    def quantile(self, q: int) -> float | None:
        """The ``q``-th percentile of the live latencies (ms), None without enough taps."""
        if len(self.latencies_ms) < 2:
            return None
        return statistics.quantiles(self.latencies_ms, n=100, method="inclusive")[q - 1]


def _replay(workdir: Path, label: str, minutes: int, *, taps: bool) -> ReplayRun:
    state = workdir / f"state-{label}"
    state.mkdir(parents=True)
    backlog = build_backlog(state / "outbox.db", minutes, sync="normal")
    run = ReplayRun(label, backlog)
    with Mosquitto(workdir / f"mosquitto-{label}") as broker:
        announce_collector(broker, "collector-1", online=True)
        sink = ChildProcess(
            [
                find_program("mosquitto_sub"),
                *("-h", broker.host, "-p", str(broker.port), "-V", "mqttv5", "-q", "1"),
                *("-i", "bench-sub", "-t", "pelangi/#", "-F", "%l"),
            ],
            log_path=workdir / f"sub-{label}.log",
            name="mosquitto_sub",
        )
        with sink:
            wait_until(
                lambda: broker.has_subscribed("bench-sub", "pelangi/#"),
                timeout=10,
                what="the subscriber (the collector's stand-in) has subscribed",
            )
            settings = AgentSettings.model_validate(
                {
                    "site": SITE,
                    "gateway": GATEWAY,
                    "mqtt": {"host": broker.host, "port": broker.port},
                    "state_dir": str(state),
                }
            )
            publisher = _TimedPublisher.build(settings)
            stop = threading.Event()
            tapper = threading.Thread(target=_tap, args=(publisher, run, stop), daemon=True)
            try:
                publisher.start()
                if taps:
                    tapper.start()
                wait_until(
                    lambda: publisher.acked_readings >= backlog,
                    timeout=600,
                    what=f"the {label} backlog of {backlog} readings is acknowledged",
                    interval=0.05,
                )
            except TimeoutError as exc:
                run.lost.append(f"{label}: {exc}")
            finally:
                stop.set()
                if tapper.is_alive():
                    tapper.join()
                with publisher.lock:
                    first, last = publisher.first_take, publisher.last_ack
                run.seconds = last - first if first is not None else 0.0
                wait_until(
                    lambda: all(seq in publisher.acked_at for seq in run.taps),
                    timeout=30,
                    what="every live tap is acknowledged",
                )
                run.latencies_ms = [
                    (publisher.acked_at[seq] - at) * 1000 for seq, at in run.taps.items()
                ]
                publisher.close(10)
    return run


def _tap(publisher: MqttPublisher, run: ReplayRun, stop: threading.Event) -> None:
    """A card every TAP_EVERY_S, submitted as a reader's thread does."""
    card = em4100(bytes.fromhex("01001293D8"))
    seq = 10**12
    while not stop.wait(TAP_EVERY_S):
        seq += 1
        read = CardRead(seq=seq, ts=time.time_ns(), card=card)
        envelope = Envelope(
            v=SCHEMA_VERSION, site=SITE, gateway=GATEWAY, device="rfid-lobby", readings=(read,)
        )
        run.taps[seq] = time.perf_counter()
        publisher.submit(envelope)


# -- footprint at pilot load -------------------------------------------------------------


@dataclass
class Footprint:
    """RSS and CPU of ``pelangi-agent run`` over a window at pilot load."""

    seconds: float = 0.0
    rss_max: int = 0
    rss_end: int = 0
    cpu_percent: float = 0.0
    lost: list[str] = field(default_factory=list)


def _proc_rss(pid: int) -> int:
    with open(f"/proc/{pid}/status", encoding="ascii") as status:  # noqa: PTH123 - tiny read
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def _proc_cpu_s(pid: int) -> float:
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:  # noqa: PTH123 - tiny read
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _footprint(workdir: Path, window_s: float, switch_interval_s: float) -> Footprint:
    result = Footprint()
    with (
        Mosquitto(workdir / "mosquitto-pilot") as broker,
        SerialPty(workdir / "pty", "ttyLOBBY") as lobby,
        SerialPty(workdir / "pty", "ttySIDE") as side,
        SerialPty(workdir / "pty", "ttyDOORS") as doors,
        SimulatedSwitch(workdir / "switch-1") as switch_1,
        SimulatedSwitch(workdir / "switch-2") as switch_2,
    ):
        announce_collector(broker, "collector-1", online=True)
        config: dict[str, Any] = {
            "site": SITE,
            "gateway": GATEWAY,
            "mqtt": {"host": broker.host, "port": broker.port},
            "readers": [
                {"id": "rfid-lobby", "port": str(lobby.device)},
                {"id": "rfid-side", "port": str(side.device)},
            ],
            "doors": [
                {
                    "id": f"door-{n}",
                    "source": "serial",
                    "port": str(doors.device),
                    "remote_id": f"d{n}",
                }
                for n in range(1, DOORS + 1)
            ],
            "switches": [
                {
                    "id": f"sw-{n}",
                    "host": switch.host,
                    "port": switch.port,
                    "community": COMMUNITY,
                    "interval_s": switch_interval_s,
                }
                for n, switch in ((1, switch_1), (2, switch_2))
            ],
            "state_dir": str(workdir / "state-pilot"),
        }
        config_path = workdir / "agent-pilot.yaml"
        config_path.write_text(yaml.safe_dump(config), encoding="utf-8")
        agent = ChildProcess(
            [venv_program("pelangi-agent"), "run", "--config", config_path],
            log_path=workdir / "agent-pilot.log",
            name="pelangi-agent",
        )
        with agent:
            client_id = AgentSettings.model_validate(config).client_id
            wait_until(
                lambda: broker.has_connected(client_id), timeout=30, what="the agent connects"
            )
            # Warm-up: the first polls and the first health reading are done.
            pause = threading.Event()
            pause.wait(5.0)
            started, cpu_start = time.monotonic(), _proc_cpu_s(agent.pid)
            rss: list[int] = []
            n = 0
            while time.monotonic() - started < window_s:
                rss.append(_proc_rss(agent.pid))
                if len(rss) % 20 == 0:  # a tap and a door change now and then
                    n += 1
                    lobby.write(rdm6300_frame(f"01E{n:07X}"))
                    doors.write(f"DOOR d{n % DOORS + 1} {'OPEN' if n % 2 else 'CLOSED'}\n".encode())
                pause.wait(1.0)
            result.seconds = time.monotonic() - started
            result.cpu_percent = 100 * (_proc_cpu_s(agent.pid) - cpu_start) / result.seconds
            result.rss_max, result.rss_end = max(rss), rss[-1]
            if not agent.running:
                result.lost.append(f"the agent {agent.describe_exit()} during the footprint run")
    return result


# -- the benchmark -----------------------------------------------------------------------


def run(workdir: Path, *, quick: bool = False) -> BenchResult:
    """Run every part in ``workdir`` (see the module docstring)."""
    outbox = run_benchmark(workdir / "outbox")
    hour = _replay(workdir, "1-hour", 60, taps=False)
    days = _replay(
        workdir, "2-days" if not quick else "6-hours", 6 * 60 if quick else 48 * 60, taps=True
    )
    footprint = _footprint(
        workdir, QUICK_FOOTPRINT_S if quick else FOOTPRINT_S, 10.0 if quick else 60.0
    )
    outage_s = QUICK_OUTAGE_S if quick else OUTAGE_S
    with InfluxDB(workdir / "influxdb") as influx:
        outage = run_outage(workdir / "outage", influx, OutagePlan(outage_s=outage_s))
    return _result(outbox, hour, days, footprint, outage, quick=quick)


def _result(  # noqa: PLR0913 - one argument per part
    outbox: dict[str, float],
    hour: ReplayRun,
    days: ReplayRun,
    footprint: Footprint,
    outage: OutageReport,
    *,
    quick: bool,
) -> BenchResult:
    p50, p99 = days.quantile(50), days.quantile(99)
    live_max = max(days.latencies_ms) if days.latencies_ms else None
    tables = (
        Table(
            "Outbox alone (sandbox.bench.outbox, sync full)",
            ("figure", "value"),
            tuple(
                (name, count(value) if value >= 100 else f"{value:.2f}")
                for name, value in outbox.items()
            ),
        ),
        Table(
            "Replay through Mosquitto (real publisher, QoS 1, a collector online)",
            (
                "backlog",
                "readings",
                "seconds",
                "readings/s",
                "live taps",
                "p50 ms",
                "p99 ms",
                "max ms",
            ),
            tuple(
                (
                    run.label,
                    count(run.backlog),
                    f"{run.seconds:.2f}",
                    count(run.rate),
                    count(len(run.latencies_ms)),
                    _ms(run.quantile(50)),
                    _ms(run.quantile(99)),
                    _ms(max(run.latencies_ms) if run.latencies_ms else None),
                )
                for run in (hour, days)
            ),
        ),
        Table(
            "pelangi-agent run at pilot load (2 readers, 10 doors, two 48-port switches)",
            ("window s", "RSS max MB", "RSS end MB", "CPU % of a core"),
            (
                (
                    f"{footprint.seconds:.0f}",
                    _mb(footprint.rss_max),
                    _mb(footprint.rss_end),
                    f"{footprint.cpu_percent:.2f}",
                ),
            ),
        ),
        Table(
            "Broker outage through the whole chain (agent, Mosquitto, collector, InfluxDB)",
            (
                "outage s",
                "taps",
                "during outage",
                "rows",
                "missing",
                "duplicated",
                "out of order",
                "catch-up s",
            ),
            (
                (
                    f"{outage.outage_s:.0f}",
                    count(outage.taps),
                    count(outage.tapped_during_outage),
                    count(outage.stored_rows),
                    count(len(outage.missing)),
                    count(len(outage.duplicated)),
                    count(len(outage.out_of_order)),
                    f"{outage.catch_up_s:.1f}",
                ),
            ),
        ),
    )
    checks = (
        Check(
            "replay after a 1-hour pilot backlog",
            f">= {TARGET_REPLAY_PER_S:,} readings/s",
            f"{hour.rate:,.0f}",
            hour.rate >= TARGET_REPLAY_PER_S,
        ),
        Check(
            f"replay of the {days.label} backlog",
            f">= {TARGET_REPLAY_PER_S:,} readings/s",
            f"{days.rate:,.0f}",
            days.rate >= TARGET_REPLAY_PER_S,
        ),
        Check(
            "live tap -> PUBACK during replay, p99",
            f"<= {TARGET_LIVE_P99_MS:.0f} ms",
            _ms(p99),
            None if p99 is None else p99 <= TARGET_LIVE_P99_MS,
        ),
        Check(
            "agent RSS at pilot load (max)",
            f"<= {_mb(TARGET_RSS_BYTES)} MB",
            _mb(footprint.rss_max),
            footprint.rss_max <= TARGET_RSS_BYTES,
        ),
        Check(
            "agent CPU at pilot load",
            f"<= {TARGET_CPU_PERCENT:.0f} % of a core",
            f"{footprint.cpu_percent:.2f} %",
            footprint.cpu_percent <= TARGET_CPU_PERCENT,
        ),
        Check(
            "a week of pilot telemetry in the outbox",
            "<= 1,000 MB",
            _mb(int(outbox["week_bytes"])),
            outbox["week_bytes"] <= TARGET_WEEK_BYTES,
        ),
        Check(
            f"{outage.outage_s:.0f} s broker outage",
            "every tap once, in order",
            "yes" if outage.ok else "NO",
            outage.ok,
        ),
    )
    figures: dict[str, Any] = {
        "outbox": outbox,
        "replay": {
            run.label: {
                "readings": run.backlog,
                "seconds": run.seconds,
                "readings_per_s": run.rate,
                "live_taps": len(run.latencies_ms),
                "live_p50_ms": run.quantile(50),
                "live_p99_ms": run.quantile(99),
            }
            for run in (hour, days)
        },
        "live_max_ms": live_max,
        "live_p50_ms": p50,
        "footprint": {
            "seconds": footprint.seconds,
            "rss_max_bytes": footprint.rss_max,
            "rss_end_bytes": footprint.rss_end,
            "cpu_percent": footprint.cpu_percent,
        },
        "outage": {
            "outage_s": outage.outage_s,
            "taps": outage.taps,
            "tapped_during_outage": outage.tapped_during_outage,
            "stored_rows": outage.stored_rows,
            "missing": len(outage.missing),
            "duplicated": len(outage.duplicated),
            "out_of_order": outage.out_of_order,
            "catch_up_s": outage.catch_up_s,
        },
    }
    notes = (
        (
            "Replay: readings/s from the publisher's first take to the last PUBACK, backlog built "
            "on disk beforehand with the pilot's mix (sandbox.bench.outbox); default settings "
            "(the backlog is paced at 30,000 readings/s, 100 readings or 64 KiB a message, "
            "at most 19 messages in flight: Mosquitto's Receive Maximum of 20, one slot kept "
            "for births); mosquitto_sub stands in for the collector (QoS 1)."
        ),
        (
            f"Live: a card every {TAP_EVERY_S * 1000:.0f} ms submitted like a reader thread "
            "(durable append, fsync included) during the second replay; latency = submit() to "
            "the PUBACK of the message carrying it, measured in the publisher's process."
        ),
        "Footprint: /proc of the pelangi-agent process after a 5 s warm-up; a tap and a door "
        "change every 20 s; "
        + (
            "switches polled every 10 s (quick run: busier than the pilot)."
            if quick
            else "switches polled every 60 s as in the pilot."
        ),
        (
            f"Outage: readers tap {2 * 10} new cards a second (over 10x the pilot's whole "
            "rate) through the whole chain; make test runs the same scenario with a 20 s outage."
        ),
    )
    lost = [*hour.lost, *days.lost, *footprint.lost, *outage.problems()]
    return BenchResult(
        name=NAME,
        title="store and forward: outbox, replay through the broker, live latency, footprint",
        parameters={"quick": quick, "outage_s": outage.outage_s, "footprint_s": footprint.seconds},
        tables=tables,
        checks=checks,
        figures=figures,
        notes=notes,
        lost=tuple(lost),
    )


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def _mb(value: int) -> str:
    return f"{value / 1e6:.1f}"
