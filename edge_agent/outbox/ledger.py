"""The outbox's in-flight ledger: which stored readings are handed out, and what to scan next.

Pure: no SQLite, no threads, no clock of its own. The store keeps one :class:`Ledger`
under its lock, feeds it the rows it read and ``now`` (monotonic seconds), and carries out
what it answers (rows to delete). Tested without a database (``tests/test_outbox_ledger.py``).

Order
    Rows get increasing ids in commit order (``AUTOINCREMENT``: an id is never reused,
    even after the newest row is deleted). :meth:`Ledger.start_take` plans a round in two
    lanes: *live* (rows committed within the last ``live_window_s``, see
    :class:`~edge_agent.outbox.policy.LiveBoundary`), served first, and *historical* (the
    backlog, including everything found on disk at start). Each lane has a cursor, the
    last row id it scanned. Within a lane, each device's readings are handed out in id
    order, batch after batch, and the batches of one round are listed in that order. A
    live reading may overtake its device's backlog; the collector tells them apart by
    ``historical`` and orders by ``ts``. A batch that is released goes back to waiting:
    both cursors move back below its first row, so it goes out after batches taken
    before the release, and redelivery can repeat older readings after newer ones.

Windows and pacing
    Batches handed out and not yet answered stay *in flight*; they count against
    ``max_in_flight_messages``, of which the backlog may not use the last eighth
    (:func:`~edge_agent.outbox.policy.slots`), so a card tap during a long replay still
    finds a free slot. The backlog is paced (:class:`~edge_agent.outbox.policy.ReplayPacer`).

A row is *in use* while it is in flight, or answered and not yet deleted from the file:
the size and age limits never evict it and no round hands it out again.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import count
from typing import TYPE_CHECKING

from edge_agent.outbox._values import OutboxBatch
from edge_agent.outbox.policy import (
    BatchPlan,
    LiveBoundary,
    ReplayPacer,
    Row,
    Slots,
    plan_batches,
    slots,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

    from edge_agent.outbox.settings import OutboxSettings

__all__ = ["Ledger", "Scan", "TakeRound"]

_NOTHING = BatchPlan(batches=(), cursor=None, complete=True)


@dataclass(frozen=True, slots=True)
class Lease:
    """What the ledger keeps of a batch in flight: its rows, not their bodies."""

    id: int
    device: str
    historical: bool
    reading_ids: tuple[int, ...]
    event_flags: tuple[bool, ...]

    def __len__(self) -> int:
        """How many readings the batch holds."""
        return len(self.reading_ids)

    def rows(self) -> list[tuple[int, bool]]:
        """``(id, is_event)`` of each reading: what a delete needs."""
        return list(zip(self.reading_ids, self.event_flags, strict=True))


@dataclass(frozen=True, slots=True)
class Scan:
    """Rows to read for a round: ``after < id < before`` (None: no bound), in id order."""

    after: int
    before: int | None
    limit: int


class TakeRound:
    """One call of ``take()``: which rows to read, and the batches planned from them.

    Made by :meth:`Ledger.start_take` from a snapshot of the ledger, so the rows can be
    read without holding the store's lock; :meth:`Ledger.finish_take` then hands the
    batches out. Ask :meth:`live_scan` first and :meth:`offer_live` what it found, then
    the same for the historical lane.
    """

    def __init__(  # noqa: PLR0913 - one snapshot of the ledger, named field by field
        self,
        *,
        now: float,
        limit: int,
        epoch: int,
        release_gen: int,
        boundary: int | None,
        allowance: int,
        free: Slots,
        cursors: tuple[int, int],
        in_use: frozenset[int],
        settings: OutboxSettings,
    ) -> None:
        """Snapshot the ledger for one round (see :meth:`Ledger.start_take`)."""
        self.now = now
        self.limit = limit
        self.epoch = epoch
        self.release_gen = release_gen
        self.boundary = boundary
        self.allowance = allowance
        self.free = free
        self.live_cursor, self.hist_cursor = cursors
        self._in_use = in_use
        self._settings = settings
        self.live_rows: list[Row] = []
        self.live = _NOTHING
        self.hist_rows: list[Row] = []
        self.hist = _NOTHING

    def live_scan(self) -> Scan | None:
        """The live rows to read, or None when no row is live or no slot is free."""
        if self.boundary is None or self.free.live <= 0:
            return None
        return Scan(after=max(self.live_cursor, self.boundary - 1), before=None, limit=self.limit)

    def offer_live(self, rows: list[Row]) -> None:
        """The rows :meth:`live_scan` named."""
        self.live_rows = rows
        self.live = self._plan(rows, self.free.live)

    @property
    def hist_budget(self) -> int:
        """Historical batches this round may hand out (after the live ones)."""
        return min(self.free.historical, self.free.live - len(self.live.batches))

    @property
    def hist_wanted(self) -> int:
        """Historical rows this round would read if the pacer allowed."""
        return self.limit - len(self.live_rows)

    @property
    def hist_limit(self) -> int:
        """Historical rows this round reads: what is wanted, within the pacer's allowance."""
        return min(self.hist_wanted, self.allowance)

    def historical_scan(self) -> Scan | None:
        """The backlog rows to read, or None when the window or the pacer says wait."""
        if self.hist_budget <= 0 or self.hist_limit <= 0:
            return None
        return Scan(after=self.hist_cursor, before=self.boundary, limit=self.hist_limit)

    def offer_historical(self, rows: list[Row]) -> None:
        """The rows :meth:`historical_scan` named."""
        self.hist_rows = rows
        self.hist = self._plan(rows, self.hist_budget)

    def _plan(self, rows: list[Row], max_batches: int) -> BatchPlan:
        return plan_batches(
            rows,
            exclude=self._in_use,
            max_batches=max_batches,
            max_per_message=self._settings.max_per_message,
            max_message_bytes=self._settings.max_message_bytes,
        )


class Ledger:
    """Batches in flight, the lanes' cursors, pacing and the live boundary (see the module).

    Not thread-safe: the store calls it with its lock held.
    """

    def __init__(self, settings: OutboxSettings) -> None:
        """An empty ledger: nothing in flight, both lanes at the start of the file."""
        self.settings = settings
        self.epoch = 0
        """Bumped by :meth:`reset`: rounds and batches of an older file mean nothing."""
        self.acknowledged = 0
        """Readings acknowledged (PUBACK) since the outbox was opened."""
        self._leases: dict[int, Lease] = {}
        self._ids = count(1)
        self._in_use: set[int] = set()
        self._in_flight = {False: 0, True: 0}  # messages per lane (historical?)
        self._hist_cursor = self._live_cursor = 0
        self._release_gen = 0
        self._boundary = LiveBoundary(settings.live_window_s)
        self._pacer = ReplayPacer(settings.replay_max_readings_per_s, settings.take_max_readings)
        self._paced_until: float | None = None  # the backlog waits for the pacer until then
        self._work = False

    # Handing out.

    def start_take(self, now: float, limit: int) -> TakeRound:
        """Snapshot what a round of ``take()`` needs at ``now`` (at most ``limit`` rows)."""
        return TakeRound(
            now=now,
            limit=limit,
            epoch=self.epoch,
            release_gen=self._release_gen,
            boundary=self._boundary.boundary(now),
            allowance=self._pacer.available(now),
            free=self._free(),
            cursors=(self._live_cursor, self._hist_cursor),
            in_use=frozenset(self._in_use),
            settings=self.settings,
        )

    def _free(self) -> Slots:
        return slots(
            live_in_flight=self._in_flight[False],
            historical_in_flight=self._in_flight[True],
            max_in_flight=self.settings.max_in_flight_messages,
        )

    def finish_take(self, taken: TakeRound) -> list[OutboxBatch]:
        """Hand out the batches ``taken`` planned; they are in flight now.

        Returns nothing if the file was replaced since the round started.
        """
        if taken.epoch != self.epoch:
            return []
        released = self._release_gen != taken.release_gen
        self._live_cursor = _advance(self._live_cursor, taken.live.cursor, released=released)
        self._hist_cursor = _advance(self._hist_cursor, taken.hist.cursor, released=released)
        batches = self._lease(taken.live, historical=False)
        batches += self._lease(taken.hist, historical=True)
        self._pacer.spend(len(taken.hist_rows))
        hist_limit = taken.hist_limit
        more_hist = (
            taken.hist_budget > 0 and len(taken.hist_rows) == hist_limit and taken.hist.complete
        )
        if more_hist and hist_limit < taken.hist_wanted:  # the pacer stopped it, not the data
            self._paced_until = self._pacer.ready_at(taken.now, taken.hist_wanted)
        # A full page of rows means more may follow; a full window waits for answers.
        elif (len(taken.live_rows) == taken.limit and taken.live.complete) or (
            more_hist and hist_limit > 0
        ):
            self._work = True
        return batches

    def _lease(self, plan: BatchPlan, *, historical: bool) -> list[OutboxBatch]:
        batches = []
        for rows in plan.batches:
            batch = OutboxBatch(
                id=next(self._ids),
                device=rows[0].device,
                historical=historical,
                reading_ids=tuple(r.id for r in rows),
                readings=tuple(r.body for r in rows),
                event_flags=tuple(r.is_event for r in rows),
            )
            self._leases[batch.id] = Lease(
                batch.id, batch.device, historical, batch.reading_ids, batch.event_flags
            )
            self._in_use.update(batch.reading_ids)
            self._in_flight[historical] += 1
            batches.append(batch)
        return batches

    # Answers.

    def ack(self, batch_ids: Iterable[int]) -> list[tuple[int, bool]]:
        """The broker holds these batches: return their rows ``(id, is_event)`` to delete.

        The rows stay in use until :meth:`deleted`. Unknown ids are ignored.
        """
        deletes: list[tuple[int, bool]] = []
        for batch_id in batch_ids:
            lease = self._leases.pop(batch_id, None)
            if lease is None:
                continue
            self._in_flight[lease.historical] -= 1
            deletes += lease.rows()
            self.acknowledged += len(lease)
        self._work = True
        return deletes

    def release(self, batch_ids: Iterable[int]) -> None:
        """These batches were not delivered: their rows wait again. Unknown ids are ignored."""
        lowest: int | None = None
        for batch_id in batch_ids:
            lease = self._leases.pop(batch_id, None)
            if lease is None:
                continue
            self._in_flight[lease.historical] -= 1
            self._in_use.difference_update(lease.reading_ids)
            first = lease.reading_ids[0]
            lowest = first if lowest is None else min(lowest, first)
        if lowest is not None:
            # Both cursors: a released live row may be backlog by now.
            self._hist_cursor = min(self._hist_cursor, lowest - 1)
            self._live_cursor = min(self._live_cursor, lowest - 1)
            self._release_gen += 1
            self._work = True

    def release_all(self) -> None:
        """Release every batch in flight."""
        self.release(list(self._leases))

    # What the writer tells.

    def in_use(self) -> frozenset[int]:
        """Rows in flight or answered and not yet deleted: not to be evicted (a copy)."""
        return frozenset(self._in_use)

    def committed(self, first_id: int, at: float) -> None:
        """Rows from ``first_id`` on were committed at ``at``: they are live for a while."""
        self._boundary.record(first_id, at)
        self._work = True

    def deleted(self, ids: Iterable[int]) -> None:
        """These rows are gone from the file: their ids are free of the ledger."""
        self._in_use.difference_update(ids)

    def reset(self) -> None:
        """The file was replaced: forget every batch, cursor and commit."""
        self.epoch += 1
        self._leases.clear()
        self._in_use.clear()
        self._in_flight = {False: 0, True: 0}
        self._hist_cursor = self._live_cursor = 0
        self._boundary.clear()

    # Waking the sender.

    def wake(self) -> None:
        """Something may be ready to go out (e.g. the file was opened)."""
        self._work = True

    @property
    def has_work(self) -> bool:
        """Whether a round of ``take()`` may find something new."""
        return self._work

    def work_seen(self) -> None:
        """The sender woke for the work: wait for new work next time."""
        self._work = False

    def wake_at(self) -> float | None:
        """When the sender should look again even if nothing happens (the pacer's time)."""
        return self._paced_until

    def woke(self) -> None:
        """The sender waited until :meth:`wake_at`: that time is used up."""
        self._paced_until = None

    # Figures.

    @property
    def in_flight_messages(self) -> int:
        """Batches handed out and not yet answered."""
        return len(self._leases)

    @property
    def in_flight_readings(self) -> int:
        """Readings in those batches."""
        return sum(len(lease) for lease in self._leases.values())


def _advance(current: int, scanned_to: int | None, *, released: bool) -> int:
    """A lane's cursor after a take: past the rows scanned, unless a release moved it back.

    After a release during the take the lower value stands: those rows are scanned again.
    """
    if scanned_to is None:
        return current
    return min(current, scanned_to) if released else max(current, scanned_to)
