"""Backpressure without going silent: messages left with the broker, and when to take them back.

When the writer pool's caps are reached, a message that arrives is *deferred*: not
taken, not acked. The MQTT network thread never blocks, so it goes on answering
keepalives: the broker never drops the collector for a keepalive timeout, never fires
its Will, and its presence stays online (a blocked thread went silent: the broker dropped
the collector after 1.5 keepalives and every agent started holding its outbox).

What Mosquitto 2.0.11 does with deferred messages (measured, ``ReceiveMaximum`` 100, 3,000
queued): while no acks flow it sends exactly 100 and stops; once acks flow it goes on
sending and does not count the deferred ones against the limit (300 left unacked and it
still sent all 3,000). Either way it keeps every unacknowledged message in flight for the
session, and after a normal DISCONNECT and a reconnect with the same client id and
``clean_start=False`` it sends all of them again (DUP). So memory stays bounded by the
pool's caps (a deferred message is dropped from memory at once), and once the pool is
below half its caps (:attr:`collector.writer_pool.WriterPool.has_room`) the collector
reconnects deliberately to have the deferred messages sent again.

:class:`Deferrals` is that policy, pure (time passed in); the subscriber acts on it
(:mod:`collector.deferral`).
"""

from __future__ import annotations

from typing import Final

MIN_INTERVAL_S: Final = 5.0
"""Fewest seconds between two deliberate reconnects (each makes the broker send again
everything in flight, messages still held included)."""


class Deferrals:
    """Counts deferred messages; says when to reconnect to get them again."""

    def __init__(self, min_interval_s: float = MIN_INTERVAL_S) -> None:
        """Reconnect at most once every ``min_interval_s`` seconds."""
        self.min_interval_s = min_interval_s
        self.count = 0
        """Messages deferred since the last connect."""
        self._last_resume: float | None = None

    def defer(self) -> bool:
        """Count one deferred message; True if it is the first since the last connect."""
        self.count += 1
        return self.count == 1

    def connected(self) -> None:
        """A new connection: the broker sends everything in flight again, deferred or not."""
        self.count = 0

    def resume(self, now: float, *, has_room: bool) -> int:
        """How many deferred messages to get back by reconnecting now (0: not now)."""
        if not self.count or not has_room:
            return 0
        if self._last_resume is not None and now - self._last_resume < self.min_interval_s:
            return 0
        self._last_resume = now
        count, self.count = self.count, 0
        return count


__all__ = ["MIN_INTERVAL_S", "Deferrals"]
