"""Turn driver output into envelopes: sequence numbers, per-device clocks, one sink.

Every driver (card readers, doors, switches, the agent's own health) hands its readings
to one :class:`Emitter`, which stamps each with the agent's next sequence number and its
device's next timestamp (strictly increasing per device, see :mod:`edge_agent.clock`),
wraps them in one envelope per call and submits it to the sink.

The clocks take their time from the gateway's time base (:mod:`edge_agent.timebase`):
a reading stamped with the collectors' time instead of the gateway's own clock is marked
``clock_corrected``; a provisional one (stamped before any time signal) goes to the sink
with its monotonic time, so it can be corrected before it is sent.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Protocol

from edge_agent.clock import DeviceClock
from pelangi.payloads import SCHEMA_VERSION, Envelope

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from edge_agent.sink import ReadingSink
    from edge_agent.timebase import Stamp
    from pelangi.payloads import AnyReading


class ReadingFactory(Protocol):
    """Builds one reading once its sequence number and timestamp are known."""

    def __call__(self, seq: int, ts: int) -> AnyReading:
        """Return the reading stamped with ``seq`` and ``ts`` (ns, UTC)."""
        ...


class Emitter:
    """Stamps readings and submits them, one envelope per device and call."""

    def __init__(
        self,
        *,
        site: str,
        gateway: str,
        sink: ReadingSink,
        next_seq: Callable[[], int],
        clock_factory: Callable[[], DeviceClock] = DeviceClock,
    ) -> None:
        """Emit for gateway ``site/gateway`` into ``sink``, numbering with ``next_seq``."""
        self.site = site
        self.gateway = gateway
        self._sink = sink
        self._next_seq = next_seq
        self._clock_factory = clock_factory
        self._clocks: dict[str, DeviceClock] = {}
        self._lock = threading.Lock()

    def emit(self, device: str, factories: Sequence[ReadingFactory]) -> Envelope | None:
        """Build the readings of ``device`` and submit them as one envelope (None if empty)."""
        if not factories:
            return None
        with self._lock:  # seq and ts in the same order across threads
            clock = self._clocks.get(device)
            if clock is None:
                clock = self._clocks[device] = self._clock_factory()
            stamps = [(self._next_seq(), clock.next()) for _ in factories]
        readings = tuple(
            _stamped(make, seq, stamp) for make, (seq, stamp) in zip(factories, stamps, strict=True)
        )
        mono_ns = tuple(stamp.mono_ns for _, stamp in stamps)
        envelope = Envelope(
            v=SCHEMA_VERSION,
            site=self.site,
            gateway=self.gateway,
            device=device,
            readings=readings,
        )
        if any(mono is not None for mono in mono_ns):
            self._sink.submit(envelope, mono_ns)
        else:
            self._sink.submit(envelope)
        return envelope


def _stamped(make: ReadingFactory, seq: int, stamp: Stamp) -> AnyReading:
    reading = make(seq, stamp.ts)
    if stamp.corrected:
        # The factories are the drivers' and know nothing of clocks; the flag is a plain
        # bool, so a copy without validation cannot make the reading invalid.
        reading = reading.model_copy(update={"clock_corrected": True})
    return reading
