"""The collector's own counters: thread-safe, per instance, summarised in one log line.

The MQTT thread and the storage thread both count; a :class:`Metrics` instance is shared
by the two through the service, never through module or class state. The next issue
writes these counters into InfluxDB as well; :meth:`Metrics.snapshot` is that seam.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

    from pelangi.errors import RejectReason


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The counters at one moment (totals since start, except ``unacked``).

    Attributes:
        messages_received: MQTT messages that arrived, valid or not.
        messages_rejected: invalid messages by reason (acknowledged and discarded).
        readings_written: readings InfluxDB confirmed as stored.
        writes: successful write requests.
        storage_retries: writes that failed for a retryable reason and were retried.
        points_rejected: readings InfluxDB refused (or that could not be expressed as a
            point) and that were dropped.
        messages_acked: messages acknowledged to the broker after storage (or rejection).
        unacked: messages held right now, received but not yet acknowledged.
    """

    messages_received: int = 0
    messages_rejected: Mapping[RejectReason, int] = field(
        default_factory=lambda: MappingProxyType({})
    )
    readings_written: int = 0
    writes: int = 0
    storage_retries: int = 0
    points_rejected: int = 0
    messages_acked: int = 0
    unacked: int = 0

    @property
    def rejected_total(self) -> int:
        """All rejected messages, whatever the reason."""
        return sum(self.messages_rejected.values())

    def summary(self) -> str:
        """One plain-words line for the periodic log."""
        reasons = ", ".join(f"{reason} {n}" for reason, n in sorted(self.messages_rejected.items()))
        rejected = f"{self.rejected_total} rejected" + (f" ({reasons})" if reasons else "")
        return (
            f"{self.messages_received} messages received, {rejected}; "
            f"{self.readings_written} readings stored in {self.writes} writes, "
            f"{self.points_rejected} readings refused by storage, "
            f"{self.storage_retries} write retries; "
            f"{self.unacked} messages waiting for storage"
        )


class Metrics:
    """Counters shared by the MQTT and storage threads; every method is thread-safe."""

    def __init__(self) -> None:
        """Start every counter at zero."""
        self._lock = threading.Lock()
        self._received = 0
        self._rejected: Counter[RejectReason] = Counter()
        self._readings_written = 0
        self._writes = 0
        self._storage_retries = 0
        self._points_rejected = 0
        self._acked = 0
        self._unacked = 0

    def message_received(self) -> None:
        """Count one arriving MQTT message."""
        with self._lock:
            self._received += 1

    def message_rejected(self, reason: RejectReason) -> None:
        """Count one message rejected for ``reason``."""
        with self._lock:
            self._rejected[reason] += 1

    def write_succeeded(self, readings: int) -> None:
        """Count one successful write of ``readings`` points."""
        with self._lock:
            self._writes += 1
            self._readings_written += readings

    def storage_retry(self) -> None:
        """Count one failed write that will be retried."""
        with self._lock:
            self._storage_retries += 1

    def point_rejected(self) -> None:
        """Count one reading dropped because storage refused it."""
        with self._lock:
            self._points_rejected += 1

    def messages_acked(self, count: int = 1) -> None:
        """Count ``count`` messages acknowledged to the broker."""
        with self._lock:
            self._acked += count

    def set_unacked(self, count: int) -> None:
        """Record how many messages are held unacknowledged right now."""
        with self._lock:
            self._unacked = count

    def snapshot(self) -> Snapshot:
        """Return all counters, consistent with each other."""
        with self._lock:
            return Snapshot(
                messages_received=self._received,
                messages_rejected=MappingProxyType(dict(self._rejected)),
                readings_written=self._readings_written,
                writes=self._writes,
                storage_retries=self._storage_retries,
                points_rejected=self._points_rejected,
                messages_acked=self._acked,
                unacked=self._unacked,
            )

    def summary(self) -> str:
        """One plain-words line for the periodic log (see :meth:`Snapshot.summary`)."""
        return self.snapshot().summary()


__all__ = ["Metrics", "Snapshot"]
