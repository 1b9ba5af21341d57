"""Replay through the broker: a backlog on disk sent by the real publisher, live taps meanwhile."""

from __future__ import annotations

import json
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Final

from edge_agent.config import AgentSettings
from edge_agent.uplink.publisher import MqttPublisher
from pelangi.card import em4100
from pelangi.payloads import SCHEMA_VERSION, CardRead, Envelope
from pelangi.topics import reading_filter
from sandbox.bench.agent.confirmer import COLLECTOR
from sandbox.bench.outbox import build_backlog
from sandbox.probes import announce_collector
from sandbox.processes import ChildProcess, find_program
from sandbox.servers import Mosquitto
from sandbox.waiting import wait_until

if TYPE_CHECKING:
    from edge_agent.outbox import Outbox, OutboxBatch
    from edge_agent.uplink.connection import MqttConnection
    from edge_agent.uplink.fallback import Fallback
    from edge_agent.uplink.publisher import Rewrite
    from pelangi.receipts import StoredReceipt

SITE: Final = "bench-site"
GATEWAY: Final = "gw-bench"
"""The gateway every part of the agent benchmark plays (the footprint run too)."""
TAP_EVERY_S: Final = 0.01
CHECKOUT: Final = Path(__file__).resolve().parents[3]
"""The checkout the confirmer's ``python -m sandbox...`` runs from."""


class _TimedPublisher(MqttPublisher):
    """The real publisher, noting when each reading was answered (instrumentation only).

    Answered: PUBACKed, or in receipt mode named by a receipt.
    """

    def __init__(
        self,
        settings: AgentSettings,
        *,
        outbox: Outbox,
        connection: MqttConnection,
        fallback: Fallback,
        rewrite: Rewrite | None = None,
    ) -> None:
        super().__init__(
            settings, outbox=outbox, connection=connection, fallback=fallback, rewrite=rewrite
        )
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

    def delivered(self, token: int, refusal: str | None, topic: str) -> None:
        now = time.perf_counter()
        super().delivered(token, refusal, topic)
        if self.gate.receipt_mode:
            return  # answered by the receipt
        with self.lock:
            self.acked_readings += self.sizes.pop(token, 0)
            self.last_ack = now
            for seq in self.live_seqs.pop(token, ()):
                self.acked_at.setdefault(seq, now)

    def stored(self, receipt: StoredReceipt) -> None:
        now = time.perf_counter()
        super().stored(receipt)
        with self.lock:
            self.acked_readings += receipt.count()
            self.last_ack = now
            for seqs in self.live_seqs.values():
                for seq in seqs:
                    if seq not in self.acked_at and receipt.covers(seq):
                        self.acked_at[seq] = now


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


def run_replay(
    workdir: Path, label: str, minutes: int, *, taps: bool, receipts: bool = False
) -> ReplayRun:
    """Replay ``minutes`` of the pilot's readings through a private Mosquitto; time it.

    The backlog is built on disk first (:func:`sandbox.bench.outbox.build_backlog`), then
    the real publisher sends it with a collector announced online, ``mosquitto_sub``
    taking the messages at QoS 1. With ``taps``, a card is submitted every
    :data:`TAP_EVERY_S` meanwhile and its submit -> PUBACK latency recorded. With
    ``receipts``, a confirming collector's stand-in (:mod:`sandbox.bench.agent.confirmer`)
    takes the messages instead and the clock stops at the last receipt: submit -> receipt.
    Server folders and the outbox go under ``workdir``, named after ``label``.
    """
    state = workdir / f"state-{label}"
    state.mkdir(parents=True)
    backlog = build_backlog(state / "outbox.db", minutes, sync="normal")
    run = ReplayRun(label, backlog)
    with Mosquitto(workdir / f"mosquitto-{label}") as broker:
        if receipts:
            sink = ChildProcess(
                [
                    sys.executable,
                    "-m",
                    "sandbox.bench.agent.confirmer",
                    broker.host,
                    f"{broker.port}",
                ],
                log_path=workdir / f"confirmer-{label}.log",
                name="confirmer",
                cwd=CHECKOUT,
            )
            client_id, topic_filter = f"pelangi-collector-{COLLECTOR}", reading_filter()
        else:
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
            client_id, topic_filter = "bench-sub", "pelangi/#"
        with sink:
            wait_until(
                lambda: broker.has_subscribed(client_id, topic_filter),
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
