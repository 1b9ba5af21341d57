"""Wires the agent together: devices -> drivers -> readings -> emitter -> sink.

For each configured card reader::

    SerialPortReader (thread) --bytes--> ReaderPipeline: decoder -> HoldFilter
        -> CardRead -> Emitter (seq, ts, envelope) -> ReadingSink

Doors (:mod:`edge_agent.doors.service`) and switches (:mod:`edge_agent.snmp.service`)
run their own sources and publish through the same emitter; the main loop publishes the
agent's own health every ``health_interval_s``. The sink is the store-and-forward
publisher (:mod:`edge_agent.publisher`): a reading is on the gateway's disk when
``submit`` returns. Bad frames are counted by kind and
logged (the first few in full, then a summary a minute), never fatal.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from edge_agent.config import HEALTH_DEVICE
from edge_agent.doors.service import DoorService
from edge_agent.drivers import decoder_for
from edge_agent.drivers.serial_port import SerialPortReader
from edge_agent.emitter import Emitter
from edge_agent.errors import FrameError
from edge_agent.health import HealthSampler
from edge_agent.hold import HoldFilter
from edge_agent.publisher import MqttPublisher
from edge_agent.sequence import SequenceCounter
from edge_agent.snmp.service import SwitchService
from pelangi.payloads import AgentHealth, CardRead
from pelangi.throttle import LogThrottle

if TYPE_CHECKING:
    from collections.abc import Callable

    from edge_agent.config import AgentSettings, ReaderSettings
    from edge_agent.sink import ReadingSink
    from pelangi.card import CardId

log = logging.getLogger(__name__)

TICK_S: Final = 1.0
"""How often the main thread wakes to flush rate-limited log summaries."""
STATS_INTERVAL_S: Final = 300.0
"""How often a statistics line is logged."""
READER_STOP_TIMEOUT_S: Final = 2.0
"""How long to wait for a reader thread at shutdown (a read times out in 0.2 s)."""
SINK_CLOSE_TIMEOUT_S: Final = 5.0
"""How long to wait at shutdown for the broker to acknowledge what was sent."""
MAX_COUNTERS: Final = 256
MAX_PROBLEMS: Final = 16
"""The contract's limits on a health reading's counters and problems."""
BAD_FRAME_BURST: Final = 5
BAD_FRAME_SUMMARY_S: Final = 60.0


@dataclass(frozen=True, slots=True)
class ReaderStats:
    """Counters of one reader since the agent started."""

    reader_id: str
    frames: int
    """Good frames decoded (a held card repeats its frame)."""
    taps: int
    """Distinct taps: readings published."""
    repeats: int
    """Good frames of a card still held on the reader (not published)."""
    errors: dict[str, int] = field(default_factory=dict)
    """Bad frames by kind (see :class:`edge_agent.errors.FrameErrorKind`)."""

    def describe(self) -> str:
        """One short phrase for the statistics line."""
        text = f"{self.reader_id} {self.taps} taps, {self.frames} frames, {self.repeats} repeats"
        if self.errors:
            kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(self.errors.items()))
            text += f", {sum(self.errors.values())} bad ({kinds})"
        return text


class ReaderPipeline:
    """Turns the bytes of one reader into readings for the sink."""

    def __init__(
        self,
        reader: ReaderSettings,
        emitter: Emitter,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """Prepare the pipeline of ``reader``, publishing through ``emitter``."""
        self.reader = reader
        self._emitter = emitter
        self._monotonic = monotonic
        self._decoder = decoder_for(reader)
        self._hold = HoldFilter(reader.hold_gap_ms / 1000)
        self._bad_log = LogThrottle(burst=BAD_FRAME_BURST, interval_s=BAD_FRAME_SUMMARY_S)
        self._lock = threading.Lock()
        self._frames = self._taps = self._repeats = 0
        self._errors: Counter[str] = Counter()

    def on_bytes(self, data: bytes) -> None:
        """Handle bytes as they came from the port (called from the reader's thread)."""
        now = self._monotonic()
        with self._lock:
            for item in self._decoder.feed(data):
                if isinstance(item, FrameError):
                    self._bad_frame(item, now)
                else:
                    self._frames += 1
                    if self._hold.is_new_tap(item, now):
                        self._taps += 1
                        self._publish(item)
                    else:
                        self._repeats += 1
            self._summarise_bad_frames(now)

    def tick(self, now: float) -> None:
        """Log the summary of suppressed bad frames if one is due (call regularly)."""
        with self._lock:
            self._summarise_bad_frames(now)

    def stats(self) -> ReaderStats:
        """A snapshot of the counters."""
        with self._lock:
            return ReaderStats(
                reader_id=self.reader.id,
                frames=self._frames,
                taps=self._taps,
                repeats=self._repeats,
                errors=dict(self._errors),
            )

    def _publish(self, card: CardId) -> None:
        envelope = self._emitter.emit(
            self.reader.id, [lambda seq, ts: CardRead(seq=seq, ts=ts, card=card)]
        )
        seq = envelope.readings[0].seq if envelope else -1
        printed = f" (printed {card.printed})" if card.printed else ""
        log.info("reader %s: card %s%s read, seq %d", self.reader.id, card.uid, printed, seq)

    def _bad_frame(self, error: FrameError, now: float) -> None:
        self._errors[error.kind.value] += 1
        if self._bad_log.allow(now, error.kind.value):
            log.warning("reader %s: ignored bad data: %s", self.reader.id, error)

    def _summarise_bad_frames(self, now: float) -> None:
        suppressed = self._bad_log.due(now)
        if suppressed:
            kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(suppressed.items()))
            log.warning(
                "reader %s: %d more bad frames in the last %.0f s (%s); if this goes on, "
                "check the reader's cable and power supply",
                self.reader.id,
                suppressed.total(),
                self._bad_log.interval_s,
                kinds,
            )


class Agent:
    """The running agent: card readers, doors, switches and its own health, one sink."""

    def __init__(self, settings: AgentSettings, sink: ReadingSink | None = None) -> None:
        """Prepare the agent; ``sink`` defaults to an MQTT publisher for ``settings.mqtt``.

        Raises:
            AgentError: the state directory cannot be used, or a door source is misconfigured.
        """
        self.settings = settings
        self.sequence = SequenceCounter(settings.state_dir)  # first: fail before building more
        self.sink = sink or MqttPublisher(settings)
        try:
            self._build(settings)
        except BaseException:
            self.sink.close(0)  # the outbox's threads and lock file
            raise

    def _build(self, settings: AgentSettings) -> None:
        self.emitter = Emitter(
            site=settings.site,
            gateway=settings.gateway,
            sink=self.sink,
            next_seq=self.sequence.next,
        )
        self.pipelines = [ReaderPipeline(reader, self.emitter) for reader in settings.readers]
        self.ports = [
            SerialPortReader(
                pipeline.reader.id,
                pipeline.reader.port,
                pipeline.on_bytes,
                baudrate=pipeline.reader.baudrate,
                reopen_max_s=pipeline.reader.reopen_max_s,
            )
            for pipeline in self.pipelines
        ]
        self.doors = DoorService(
            settings.doors, settings.door_options, self.emitter, client_id=settings.client_id
        )
        self.switches = SwitchService(settings.switches, self.emitter)
        self.health = HealthSampler(settings.state_dir)
        self._next_health = 0.0

    def start(self) -> None:
        """Connect the sink and start every device source; returns at once."""
        settings = self.settings
        log.info(
            "agent %s/%s starting: %s; mqtt %s",
            settings.site,
            settings.gateway,
            settings.inventory(),
            settings.mqtt.address,
        )
        if not settings.device_ids:
            log.warning("no devices are configured: there is nothing to read")
        self.sink.start()
        for port in self.ports:
            port.start()
        self.doors.start()
        self.switches.start()

    def tick(self, now: float) -> None:
        """Housekeeping (call about once a second): log summaries, doors, health."""
        for pipeline in self.pipelines:
            pipeline.tick(now)
        self.doors.tick()
        if now >= self._next_health:
            self._next_health = now + self.settings.health_interval_s
            self.publish_health()

    def publish_health(self) -> None:
        """Publish the agent's health, delivery's and every driver's counters as one reading.

        Delivery comes first (outbox size, evictions by class and reason, fallback, MQTT):
        if the contract's 256 counters are not enough, drivers' counters are cut, not those.
        """
        sample = self.health.sample()
        delivery = self.sink.health()
        counters: Counter[str] = Counter(delivery.counters)
        for pipeline in self.pipelines:
            stats = pipeline.stats()
            prefix = f"reader.{stats.reader_id}"
            counters[f"{prefix}.taps"] = stats.taps
            counters[f"{prefix}.frames"] = stats.frames
            counters[f"{prefix}.errors"] = sum(stats.errors.values())
        counters.update(self.doors.counters)
        counters.update(self.switches.counters)
        names = {_counter_name(name): value for name, value in counters.items()}
        self.emitter.emit(
            HEALTH_DEVICE,
            [
                lambda seq, ts: AgentHealth(
                    seq=seq,
                    ts=ts,
                    cpu_percent=sample.cpu_percent,
                    rss_bytes=sample.rss_bytes,
                    disk_free_bytes=sample.disk_free_bytes,
                    uptime_s=sample.uptime_s,
                    counters=dict(list(names.items())[:MAX_COUNTERS]),
                    problems=delivery.problems[:MAX_PROBLEMS],
                )
            ],
        )

    def summary(self) -> str:
        """One statistics line: every reader, then delivery."""
        parts = [
            f"{p.stats().describe()}, port {'open' if port.is_open else 'closed'}"
            for p, port in zip(self.pipelines, self.ports, strict=True)
        ]
        if self.settings.doors:
            parts.append("doors " + ", ".join(f"{d} {s}" for d, s in self.doors.states().items()))
        return "; ".join([*parts, self.sink.summary()])

    def stop(self) -> None:
        """Stop every source, then give the sink a bounded time to deliver what it holds."""
        for port in self.ports:
            port.stop()
        for port in self.ports:
            if not port.join(READER_STOP_TIMEOUT_S):
                log.warning("reader %s: did not stop in time", port.reader_id)
        self.doors.stop()
        self.switches.stop()
        self.sink.close(SINK_CLOSE_TIMEOUT_S)


def _counter_name(name: str) -> str:
    """Counter names become field keys: keep them to the contract's character set."""
    return "".join(c if c.isalnum() or c in "_." else "_" for c in name.lower())[:64]


def run(settings: AgentSettings, stop: threading.Event) -> None:
    """Run the agent until ``stop`` is set.

    Raises:
        AgentError: the agent cannot start (e.g. the state directory is not writable).
    """
    agent = Agent(settings)
    try:
        agent.start()
        next_stats = time.monotonic() + STATS_INTERVAL_S
        while not stop.wait(TICK_S):
            now = time.monotonic()
            agent.tick(now)
            if now >= next_stats:
                log.info("stats: %s", agent.summary())
                next_stats = now + STATS_INTERVAL_S
    finally:
        log.info("agent %s/%s stopping", settings.site, settings.gateway)
        agent.stop()
        log.info("agent stopped; totals: %s", agent.summary())
