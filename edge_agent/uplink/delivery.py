"""What the connection tells the publisher, and the connection's counters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from pelangi.receipts import StoredReceipt


class Delivery(Protocol):
    """The publisher's side of the connection (called from paho's network thread)."""

    def delivered(self, token: int, refusal: str | None, topic: str) -> None:
        """The broker answered the message of ``token`` on ``topic``: accepted or refused."""
        ...

    def stored(self, receipt: StoredReceipt) -> None:
        """A collector confirms that it stored these readings (a receipt)."""
        ...

    def connection_lost(self) -> None:
        """The connection dropped: messages not acknowledged by now never will be."""
        ...


@dataclass(frozen=True, slots=True)
class ConnectionStats:
    """Counters of the connection since the agent started."""

    connected: bool
    attempts: int
    connections: int
    births: int
    bdseq: int
    """The ``bdseq`` of the current (or latest) connection attempt."""
    receipts: int
    """Receipts received (valid ones)."""
    receipt_mode: bool
    """Whether a PUBACK still deletes nothing (see :mod:`edge_agent.uplink.presence`)."""
