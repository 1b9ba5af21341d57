"""The writer's books: how many readings the file holds, its size, and the counters.

Kept by the writer thread, read by ``stats()``; guarded by the store's shared lock.
The persistent counters (evictions, quarantines, and rejections by older agents) mirror the file's
``counter`` table, bumped in the same transactions.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from edge_agent.outbox._sqlite import counter_name
from edge_agent.outbox.policy import ReadingClass

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from edge_agent.outbox._sqlite import Loaded
    from edge_agent.outbox.policy import EvictionReason


class Books:
    """Counts per class, bytes in use, persistent counters, appends done and failed."""

    def __init__(self) -> None:
        """Empty books (nothing opened yet)."""
        self.counts: dict[ReadingClass, int] = dict.fromkeys(ReadingClass, 0)
        self.used_bytes = 0
        self.persistent: Counter[str] = Counter()
        self.appended = 0
        """Readings accepted since the outbox was opened."""
        self.refused = 0
        """Readings append() could not store since the outbox was opened."""
        self.confirmed = 0
        """Rows waiting on disk that a receipt confirmed, deleted since the outbox was opened."""

    @property
    def rows(self) -> int:
        """Readings stored."""
        return sum(self.counts.values())

    def opened(self, loaded: Loaded) -> None:
        """The file was opened: take its figures."""
        self.counts = dict(loaded.counts)
        self.persistent = Counter(loaded.counters)
        self.used_bytes = loaded.used_bytes

    def cleared(self) -> None:
        """The file was replaced by an empty one."""
        self.counts = dict.fromkeys(ReadingClass, 0)
        self.persistent = Counter()

    def stored(self, event_flags: Iterable[bool]) -> None:
        """Readings were appended."""
        for is_event in event_flags:
            self.counts[ReadingClass.of(is_event=is_event)] += 1
            self.appended += 1

    def deleted(self, deleted: Mapping[ReadingClass, int]) -> None:
        """Rows left the file."""
        for cls, n in deleted.items():
            self.counts[cls] -= n

    def bumped(self, counters: Iterable[tuple[str, int]]) -> None:
        """Persistent counters were bumped in the file."""
        for name, n in counters:
            self.persistent[name] += n

    def evicted(self, deleted: Mapping[ReadingClass, int], reason: EvictionReason) -> None:
        """Rows were evicted and counted under ``reason`` in the file."""
        self.deleted(deleted)
        self.bumped((counter_name(cls, reason), n) for cls, n in deleted.items())
