"""The collector's own counters: thread-safe, per instance, logged and written to InfluxDB.

The MQTT thread and the writer threads all count; a :class:`Metrics` instance is shared
through the service, never through module or class state. :meth:`Snapshot.summary` is
the periodic log line; :func:`collector.selfstats.stats_line` turns a snapshot into a
``collector_stats`` point.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The counters at one moment (totals since start, except the ``unacked`` gauges).

    Attributes:
        messages_received: MQTT messages that arrived, valid or not.
        messages_rejected: invalid messages by reason (dead-lettered and acknowledged).
        readings_refused: readings of valid messages not stored, by reason (timestamp
            out of window, unstorable, refused by InfluxDB).
        readings_written: points InfluxDB confirmed as stored.
        writes: successful write requests.
        write_seconds: total time of the successful writes.
        write_seconds_max: the slowest successful write.
        batch_points_max: the largest successful write, in points.
        storage_retries: writes that failed for a retryable reason and were retried.
        points_rejected: points InfluxDB refused on their own (dropped, dead-lettered).
        messages_acked: messages acknowledged to the broker after storage.
        readings_confirmed: readings confirmed to their gateways in receipts (stored,
            or dead-lettered), duplicates included.
        messages_deferred: messages left unacknowledged with the broker because the
            caps were reached (sent again after a deliberate reconnect).
        reconnects_to_resume: those deliberate reconnects.
        unacked: messages held right now, received but not yet acknowledged.
        unacked_points: points held right now.
    """

    messages_received: int = 0
    messages_rejected: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    readings_refused: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))
    readings_written: int = 0
    writes: int = 0
    write_seconds: float = 0.0
    write_seconds_max: float = 0.0
    batch_points_max: int = 0
    storage_retries: int = 0
    points_rejected: int = 0
    messages_acked: int = 0
    readings_confirmed: int = 0
    messages_deferred: int = 0
    reconnects_to_resume: int = 0
    unacked: int = 0
    unacked_points: int = 0

    @property
    def rejected_total(self) -> int:
        """All rejected messages, whatever the reason."""
        return sum(self.messages_rejected.values())

    def summary(self) -> str:
        """One plain-words line for the periodic log."""
        reasons = ", ".join(f"{reason} {n}" for reason, n in sorted(self.messages_rejected.items()))
        rejected = f"{self.rejected_total} rejected" + (f" ({reasons})" if reasons else "")
        refused = sum(self.readings_refused.values())
        return (
            f"{self.messages_received} messages received, {rejected}; "
            f"{self.readings_written} points stored in {self.writes} writes, "
            f"{refused} readings refused, "
            f"{self.points_rejected} points refused by storage, "
            f"{self.storage_retries} write retries, "
            f"{self.messages_deferred} messages deferred while full; "
            f"{self.unacked} messages ({self.unacked_points} points) waiting for storage"
        )


class Metrics:
    """Counters shared by the MQTT and writer threads; every method is thread-safe."""

    def __init__(self) -> None:
        """Start every counter at zero."""
        self._lock = threading.Lock()
        self._received = 0
        self._rejected: Counter[str] = Counter()
        self._refused: Counter[str] = Counter()
        self._readings_written = 0
        self._writes = 0
        self._write_seconds = 0.0
        self._write_seconds_max = 0.0
        self._batch_max = 0
        self._storage_retries = 0
        self._points_rejected = 0
        self._acked = 0
        self._confirmed = 0
        self._deferred = 0
        self._resumes = 0
        self._unacked = 0
        self._unacked_points = 0

    def message_received(self) -> None:
        """Count one arriving MQTT message."""
        with self._lock:
            self._received += 1

    def message_rejected(self, reason: str) -> None:
        """Count one message rejected for ``reason``."""
        with self._lock:
            self._rejected[reason] += 1

    def reading_refused(self, reason: str) -> None:
        """Count one reading of a valid message not stored, for ``reason``."""
        with self._lock:
            self._refused[reason] += 1

    def write_succeeded(self, points: int, seconds: float = 0.0) -> None:
        """Count one successful write of ``points`` points that took ``seconds``."""
        with self._lock:
            self._writes += 1
            self._readings_written += points
            self._write_seconds += seconds
            self._write_seconds_max = max(self._write_seconds_max, seconds)
            self._batch_max = max(self._batch_max, points)

    def storage_retry(self) -> None:
        """Count one failed write that will be retried."""
        with self._lock:
            self._storage_retries += 1

    def point_rejected(self) -> None:
        """Count one point dropped because storage refused it."""
        with self._lock:
            self._points_rejected += 1

    def messages_acked(self, count: int = 1) -> None:
        """Count ``count`` messages acknowledged to the broker."""
        with self._lock:
            self._acked += count

    def readings_confirmed(self, count: int) -> None:
        """Count ``count`` readings confirmed to their gateways."""
        with self._lock:
            self._confirmed += count

    def message_deferred(self) -> None:
        """Count one message left with the broker because the caps were reached."""
        with self._lock:
            self._deferred += 1

    def reconnected_to_resume(self) -> None:
        """Count one deliberate reconnect to have deferred messages sent again."""
        with self._lock:
            self._resumes += 1

    def set_unacked(self, messages: int, points: int = 0) -> None:
        """Record how many messages (and points) are held unacknowledged right now."""
        with self._lock:
            self._unacked = messages
            self._unacked_points = points

    def snapshot(self) -> Snapshot:
        """Return all counters, consistent with each other."""
        with self._lock:
            return Snapshot(
                messages_received=self._received,
                messages_rejected=MappingProxyType(dict(self._rejected)),
                readings_refused=MappingProxyType(dict(self._refused)),
                readings_written=self._readings_written,
                writes=self._writes,
                write_seconds=self._write_seconds,
                write_seconds_max=self._write_seconds_max,
                batch_points_max=self._batch_max,
                storage_retries=self._storage_retries,
                points_rejected=self._points_rejected,
                messages_acked=self._acked,
                readings_confirmed=self._confirmed,
                messages_deferred=self._deferred,
                reconnects_to_resume=self._resumes,
                unacked=self._unacked,
                unacked_points=self._unacked_points,
            )

    def summary(self) -> str:
        """One plain-words line for the periodic log (see :meth:`Snapshot.summary`)."""
        return self.snapshot().summary()


__all__ = ["Metrics", "Snapshot"]
