"""The seam between the drivers and delivery: where the agent hands its readings.

Today the sink is the MQTT publisher (:class:`edge_agent.publisher.MqttPublisher`),
which holds unacknowledged readings in memory while the broker is away. A durable
store-and-forward outbox will implement the same protocol and sit in front of it,
without the drivers or the agent's wiring changing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from pelangi.payloads import Envelope


class ReadingSink(Protocol):
    """Accepts envelopes for delivery."""

    def start(self) -> None:
        """Begin delivering in the background (connect); returns at once."""
        ...

    def submit(self, envelope: Envelope) -> None:
        """Take ``envelope`` for delivery; returns promptly, never raises for transport trouble.

        May be called from several reader threads at once.
        """
        ...

    def close(self, timeout: float) -> None:
        """Deliver what can be delivered within ``timeout`` seconds, then let go of resources."""
        ...

    def summary(self) -> str:
        """One line on the state of delivery, for the periodic statistics log."""
        ...
