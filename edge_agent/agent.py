"""Wires the agent together: serial ports -> decoders -> hold filter -> readings -> sink.

For each configured reader::

    SerialPortReader (thread) --bytes--> ReaderPipeline: decoder -> HoldFilter
        -> CardRead(seq, ts, card) -> Envelope(site, gateway, device) -> ReadingSink

Bad frames are counted by kind and logged (the first few in full, then a summary a
minute), never fatal. The main thread only waits for the stop signal, flushes those
summaries and logs a statistics line every few minutes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from edge_agent.clock import DeviceClock
from edge_agent.drivers import decoder_for
from edge_agent.drivers.serial_port import SerialPortReader
from edge_agent.errors import FrameError
from edge_agent.hold import HoldFilter
from edge_agent.publisher import MqttPublisher
from edge_agent.sequence import SequenceCounter
from edge_agent.throttle import LogThrottle
from pelangi.payloads import SCHEMA_VERSION, CardRead, Envelope

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

    def __init__(  # noqa: PLR0913 - the context a reading needs
        self,
        reader: ReaderSettings,
        *,
        site: str,
        gateway: str,
        sink: ReadingSink,
        next_seq: Callable[[], int],
        clock: DeviceClock | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """Prepare the pipeline of ``reader``; ``next_seq`` hands out sequence numbers."""
        self.reader = reader
        self._site = site
        self._gateway = gateway
        self._sink = sink
        self._next_seq = next_seq
        self._clock = clock or DeviceClock()
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
        read = CardRead(seq=self._next_seq(), ts=self._clock.next_ns(), card=card)
        printed = f" (printed {card.printed})" if card.printed else ""
        log.info("reader %s: card %s%s read, seq %d", self.reader.id, card.uid, printed, read.seq)
        self._sink.submit(
            Envelope(
                v=SCHEMA_VERSION,
                site=self._site,
                gateway=self._gateway,
                device=self.reader.id,
                readings=(read,),
            )
        )

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
    """The running agent: one pipeline and one serial thread per reader, one sink."""

    def __init__(self, settings: AgentSettings, sink: ReadingSink | None = None) -> None:
        """Prepare the agent; ``sink`` defaults to an MQTT publisher for ``settings.mqtt``.

        Raises:
            AgentError: the state directory cannot be used.
        """
        self.settings = settings
        self.sequence = SequenceCounter(settings.state_dir)  # first: fail before building more
        self.sink = sink or MqttPublisher(settings.mqtt, settings.client_id)
        self.pipelines = [
            ReaderPipeline(
                reader,
                site=settings.site,
                gateway=settings.gateway,
                sink=self.sink,
                next_seq=self.sequence.next,
            )
            for reader in settings.readers
        ]
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

    def start(self) -> None:
        """Connect the sink and start reading every port; returns at once."""
        readers = self.settings.readers
        listed = ", ".join(f"{r.id} on {r.port}" for r in readers)
        noun = "reader" if len(readers) == 1 else "readers"
        log.info(
            "agent %s/%s starting: %d %s%s, mqtt %s",
            self.settings.site,
            self.settings.gateway,
            len(readers),
            noun,
            f" ({listed})" if readers else "",
            self.settings.mqtt.address,
        )
        if not readers:
            log.warning("no readers are configured: there is nothing to read")
        self.sink.start()
        for port in self.ports:
            port.start()

    def tick(self, now: float) -> None:
        """Housekeeping: flush rate-limited log summaries (call about once a second)."""
        for pipeline in self.pipelines:
            pipeline.tick(now)

    def summary(self) -> str:
        """One statistics line: every reader, then delivery."""
        parts = [
            f"{p.stats().describe()}, port {'open' if port.is_open else 'closed'}"
            for p, port in zip(self.pipelines, self.ports, strict=True)
        ]
        return "; ".join([*parts, self.sink.summary()])

    def stop(self) -> None:
        """Stop the readers, then give the sink a bounded time to deliver what it holds."""
        for port in self.ports:
            port.stop()
        for port in self.ports:
            if not port.join(READER_STOP_TIMEOUT_S):
                log.warning("reader %s: did not stop in time", port.reader_id)
        self.sink.close(SINK_CLOSE_TIMEOUT_S)


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
