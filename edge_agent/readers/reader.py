"""One card reader: the bytes of its port in, one reading per tap out.

::

    bytes (serial thread) -> decoder (frames -> cards | frame errors) -> HoldFilter
        -> CardRead -> Emitter (seq, ts, envelope) -> sink

Bad frames are counted by kind and logged (the first few in full, then a summary a
minute), never fatal: the stream goes on.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from edge_agent.errors import FrameError
from edge_agent.readers.decoders import decoder_for
from edge_agent.readers.hold import HoldFilter
from pelangi.payloads import CardRead
from pelangi.throttle import ThrottledLog

if TYPE_CHECKING:
    from collections.abc import Callable

    from edge_agent.emitter import Emitter
    from edge_agent.readers.settings import ReaderSettings
    from pelangi.card import CardId

log = logging.getLogger(__name__)

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


class CardReader:
    """Turns the bytes of one reader into readings for the emitter."""

    def __init__(
        self,
        reader: ReaderSettings,
        emitter: Emitter,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """Prepare the decoding of ``reader``, publishing through ``emitter``."""
        self.reader = reader
        self._emitter = emitter
        self._monotonic = monotonic
        self._decoder = decoder_for(reader)
        self._hold = HoldFilter(reader.hold_gap_ms / 1000)
        self._bad_log = ThrottledLog(
            log,
            burst=BAD_FRAME_BURST,
            interval_s=BAD_FRAME_SUMMARY_S,
            hint="if this goes on, check the reader's cable and power supply",
            clock=monotonic,
        )
        self._lock = threading.Lock()
        self._frames = self._taps = self._repeats = 0
        self._errors: Counter[str] = Counter()

    def on_bytes(self, data: bytes) -> None:
        """Handle bytes as they came from the port (called from the reader's thread)."""
        now = self._monotonic()
        with self._lock:
            for item in self._decoder.feed(data):
                if isinstance(item, FrameError):
                    self._bad_frame(item)
                else:
                    self._frames += 1
                    if self._hold.is_new_tap(item, now):
                        self._taps += 1
                        self._publish(item)
                    else:
                        self._repeats += 1
        self._bad_log.flush()

    def tick(self, _now: float) -> None:
        """Log the summary of suppressed bad frames if one is due (call regularly)."""
        self._bad_log.flush()

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

    def _bad_frame(self, error: FrameError) -> None:
        self._errors[error.kind.value] += 1
        self._bad_log.log(
            logging.WARNING,
            "reader %s: ignored bad data: %s",
            self.reader.id,
            error,
            key=error.kind.value,
        )
