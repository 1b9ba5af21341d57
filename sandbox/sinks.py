"""A reading sink for tests of the agent's drivers: it keeps what it is given."""

from __future__ import annotations

from typing import TYPE_CHECKING

from edge_agent.sink import DeliveryHealth

if TYPE_CHECKING:
    from pelangi.payloads import Envelope


class ListSink:
    """A sink that keeps what it is given (the agent's seam, as a test double).

    It keeps the monotonic times the emitter hands along with provisional readings.
    """

    def __init__(self) -> None:
        """Start empty."""
        self.envelopes: list[Envelope] = []
        self.mono_ns: list[tuple[int | None, ...] | None] = []

    def start(self) -> None:
        """Nothing to connect."""

    def submit(self, envelope: Envelope, mono_ns: tuple[int | None, ...] | None = None) -> None:
        """Keep ``envelope`` and the monotonic times of its provisional readings."""
        self.envelopes.append(envelope)
        self.mono_ns.append(mono_ns)

    def close(self, timeout: float) -> None:
        """Nothing to close."""
        del timeout

    def summary(self) -> str:
        """How many envelopes it holds."""
        return f"{len(self.envelopes)} kept"

    def health(self) -> DeliveryHealth:
        """One counter: envelopes kept."""
        return DeliveryHealth(counters={"kept": len(self.envelopes)})
