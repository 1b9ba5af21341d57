"""Readings the outbox could not store (disk full, folder unwritable), held in memory.

Not durable, but not lost while the process lives: the publisher sends them like outbox
batches (their ids are negative, so the two never mix up) and moves them into the outbox
as soon as it stores again. In receipt mode a PUBACK (:meth:`Fallback.published`) keeps
them until a receipt names their seqs (:meth:`Fallback.confirm`); what no receipt names
within ``confirm_timeout_s`` waits to be sent again. Bounded by ``max_readings``: when
full, the oldest held readings make room, telemetry before events, and every one dropped
is counted. Pure apart from a lock (appenders and the sending loop run in different threads).
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass
from itertools import count
from typing import TYPE_CHECKING, Final

from edge_agent.outbox import OutboxBatch, OutboxError, ReadingClass, UnsendableReadingError

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from edge_agent.outbox import Outbox, OutboxEntry

FALLBACK_IN_FLIGHT: Final = 16
"""Messages from the in-memory fallback in flight at once."""


@dataclass(frozen=True, slots=True)
class Held:
    """One envelope's readings, as the sink received them."""

    order: int
    device: str
    entries: tuple[OutboxEntry, ...]
    since: float
    """Monotonic time it was put here: older than the live window means historical."""

    @property
    def has_event(self) -> bool:
        """Whether any of its readings is an event (those go last when room is needed)."""
        return any(e.is_event for e in self.entries)


@dataclass(frozen=True, slots=True)
class FallbackStats:
    """Counters of the fallback since the agent started."""

    held: int
    """Readings in memory now (waiting or in flight)."""
    accepted: int
    dropped_telemetry: int
    dropped_events: int
    delivered: int
    """Readings acknowledged by the broker straight from memory."""
    moved: int
    """Readings moved into the outbox once it stored again."""

    @property
    def dropped(self) -> int:
        """Readings dropped for room, both classes."""
        return self.dropped_telemetry + self.dropped_events


class Fallback:
    """A bounded FIFO of envelopes, with the outbox's take/ack/release cycle."""

    def __init__(self, max_readings: int, confirm_timeout_s: float = 30.0) -> None:
        """Hold at most ``max_readings``; wait ``confirm_timeout_s`` for a receipt."""
        self.max_readings = max_readings
        self.confirm_timeout_s = confirm_timeout_s
        self._lock = threading.Lock()
        self._waiting: list[Held] = []  # in order; small: only filled while the disk fails
        self._in_flight: dict[int, Held] = {}
        self._awaiting: dict[int, tuple[Held, float]] = {}  # id -> (held, published at)
        self._orders = count(1)
        self._held = self._accepted = self._delivered = self._moved = 0
        self._dropped: Counter[ReadingClass] = Counter()

    def __len__(self) -> int:
        """Envelopes waiting to be sent (not in flight)."""
        with self._lock:
            return len(self._waiting)

    def put(self, device: str, entries: Sequence[OutboxEntry], now: float) -> int:
        """Hold one envelope's readings; return how many older readings were dropped for room."""
        item = Held(next(self._orders), device, tuple(entries), now)
        with self._lock:
            self._accepted += len(item.entries)
            self._waiting.append(item)
            self._held += len(item.entries)
            return self._make_room()

    def _make_room(self) -> int:
        dropped = 0
        for events in (False, True):
            index = 0
            while self._held > self.max_readings and index < len(self._waiting):
                item = self._waiting[index]
                if item.has_event and not events:
                    index += 1
                    continue
                del self._waiting[index]
                self._held -= len(item.entries)
                dropped += len(item.entries)
                for entry in item.entries:
                    self._dropped[ReadingClass.of(is_event=entry.is_event)] += 1
        return dropped

    def take(self, max_batches: int, now: float, live_window_s: float) -> list[OutboxBatch]:
        """Hand out up to ``max_batches`` waiting envelopes as batches; they are in flight now.

        Envelopes that awaited a receipt for longer than ``confirm_timeout_s`` wait again
        first (``now`` is the monotonic clock, as for :meth:`put`).
        """
        with self._lock:
            overdue = [
                i for i, (_, at) in self._awaiting.items() if now - at > self.confirm_timeout_s
            ]
            if overdue:
                back = [self._awaiting.pop(i)[0] for i in overdue]
                self._waiting = sorted([*back, *self._waiting], key=lambda h: h.order)
            items, self._waiting = self._waiting[:max_batches], self._waiting[max_batches:]
            batches = []
            for item in items:
                self._in_flight[-item.order] = item
                batches.append(
                    OutboxBatch(
                        id=-item.order,
                        device=item.device,
                        historical=now - item.since > live_window_s,
                        reading_ids=(),
                        readings=tuple(e.reading for e in item.entries),
                        event_flags=tuple(e.is_event for e in item.entries),
                        seqs=tuple(e.seq for e in item.entries),
                        mono_ns=tuple(e.mono_ns for e in item.entries),  # held by this process
                    )
                )
            return batches

    def ack(self, batch_id: int) -> None:
        """The broker holds this batch and no receipt will come: forget it.

        Unknown ids are ignored.
        """
        with self._lock:
            item = self._in_flight.pop(batch_id, None)
            if item is not None:
                self._held -= len(item.entries)
                self._delivered += len(item.entries)

    def published(self, batch_id: int, now: float) -> None:
        """The broker holds this batch (receipt mode): keep it until a receipt names it."""
        with self._lock:
            item = self._in_flight.pop(batch_id, None)
            if item is not None:
                self._awaiting[batch_id] = (item, now)

    def confirm(self, seq_ranges: Sequence[tuple[int, int]]) -> int:
        """A collector stored these seqs: forget those readings; return how many."""
        done = 0
        with self._lock:
            for batch_id, (item, at) in list(self._awaiting.items()):
                rest, gone = _without(item, seq_ranges)
                done += gone
                if rest is None:
                    del self._awaiting[batch_id]
                elif gone:
                    self._awaiting[batch_id] = (rest, at)
            for batch_id, item in list(self._in_flight.items()):
                rest, gone = _without(item, seq_ranges)
                done += gone
                if rest is None:
                    del self._in_flight[batch_id]
                elif gone:
                    self._in_flight[batch_id] = rest
            self._held -= done
            self._delivered += done
        return done

    def release(self, batch_ids: Iterable[int]) -> None:
        """These batches were not delivered: they wait again, in their original order."""
        with self._lock:
            back = [self._in_flight.pop(i) for i in batch_ids if i in self._in_flight]
            if back:
                self._waiting = sorted([*back, *self._waiting], key=lambda h: h.order)

    def release_all(self) -> None:
        """Release every batch in flight (the connection dropped).

        Batches awaiting a receipt stay: a receipt may still come on the next connection
        (the timeout sends them again otherwise).
        """
        with self._lock:
            ids = list(self._in_flight)
        self.release(ids)

    def take_waiting(self) -> list[Held]:
        """Remove and return every envelope not on the network (to move into the outbox).

        Waiting ones, and those awaiting a receipt: once on disk, a receipt that comes
        later still deletes them there (by seq), and one that never comes is covered by
        the outbox's own confirm timeout, even while no collector is there to send to.
        """
        with self._lock:
            awaiting = [held for held, _ in self._awaiting.values()]
            self._awaiting.clear()
            items = sorted([*self._waiting, *awaiting], key=lambda h: h.order)
            self._waiting = []
            self._held -= sum(len(i.entries) for i in items)
            return items

    def moved(self, items: Sequence[Held]) -> None:
        """Count envelopes from :meth:`take_waiting` that the outbox now holds."""
        with self._lock:
            self._moved += sum(len(i.entries) for i in items)

    def put_back(self, items: Sequence[Held]) -> None:
        """Return envelopes from :meth:`take_waiting` the outbox could not take after all."""
        with self._lock:
            self._waiting = sorted([*items, *self._waiting], key=lambda h: h.order)
            self._held += sum(len(i.entries) for i in items)
            self._make_room()

    def move_into(self, outbox: Outbox) -> int:
        """Store the waiting envelopes in ``outbox``; return how many readings moved.

        Stops at the first that the outbox cannot take; those wait here again.
        """
        items = self.take_waiting()
        stored: list[Held] = []
        try:
            for item in items:
                outbox.append_many(item.entries)
                stored.append(item)
        except (OutboxError, UnsendableReadingError):
            self.put_back(items[len(stored) :])
        self.moved(stored)
        return sum(len(i.entries) for i in stored)

    def stats(self) -> FallbackStats:
        """A snapshot of the counters."""
        with self._lock:
            return FallbackStats(
                held=self._held,
                accepted=self._accepted,
                dropped_telemetry=self._dropped[ReadingClass.TELEMETRY],
                dropped_events=self._dropped[ReadingClass.EVENT],
                delivered=self._delivered,
                moved=self._moved,
            )


def _without(item: Held, seq_ranges: Sequence[tuple[int, int]]) -> tuple[Held | None, int]:
    """``item`` without the readings these ranges name (None if none is left), and how many."""
    rest = tuple(
        e for e in item.entries if not any(first <= e.seq <= last for first, last in seq_ranges)
    )
    gone = len(item.entries) - len(rest)
    if not rest:
        return None, gone
    return (Held(item.order, item.device, rest, item.since) if gone else item), gone
