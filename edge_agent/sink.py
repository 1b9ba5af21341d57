"""The seam between the drivers and delivery: where the agent hands its readings.

The sink is the store-and-forward publisher (:class:`edge_agent.uplink.publisher.MqttPublisher`):
``submit`` returns once the readings are in the durable outbox, and a sending loop takes
them from there to the broker. Tests of the drivers use a list as the sink.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from pelangi.payloads import Envelope


@dataclass(frozen=True, slots=True)
class DeliveryHealth:
    """What the sink adds to the agent's health reading."""

    counters: dict[str, int] = field(default_factory=dict)
    """Counter name (``[a-z0-9_.]``, at most 64 characters) -> value (never negative)."""
    problems: tuple[str, ...] = ()
    """What is wrong right now, one short sentence each."""


class ReadingSink(Protocol):
    """Accepts envelopes for delivery."""

    def start(self) -> None:
        """Begin delivering in the background (connect); returns at once."""
        ...

    def submit(self, envelope: Envelope, mono_ns: tuple[int | None, ...] | None = None) -> None:
        """Take ``envelope`` for delivery; returns promptly, never raises for transport trouble.

        ``mono_ns``, if given, holds per reading the monotonic time (ns) of a provisional
        reading (stamped before the gateway knew its clock's offset; see
        :mod:`edge_agent.timebase`), None for the others: the sink keeps it with the
        reading, so its ``ts`` can be corrected before it is sent. May be called from
        several reader threads at once.
        """
        ...

    def close(self, timeout: float) -> None:
        """Deliver what can be delivered within ``timeout`` seconds, then let go of resources."""
        ...

    def summary(self) -> str:
        """One line on the state of delivery, for the periodic statistics log."""
        ...

    def health(self) -> DeliveryHealth:
        """Counters and problems of delivery, for the agent's health reading."""
        ...
