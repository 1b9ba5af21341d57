"""The outbox's in-flight ledger: which stored readings are out, and what to read next.

Pure: no SQLite, no threads, no clock of its own. The store keeps one :class:`Ledger`
under its lock, feeds it the rows it read and ``now`` (monotonic seconds), and carries out
what it answers (rows to delete). Tested without a database (``tests/test_outbox_ledger.py``).

Life of a batch
    :meth:`Ledger.finish_take` hands it out: *in flight*. The broker answers:

    - accepted, and a collector that sends receipts is there: :meth:`~Ledger.published`;
      it now *awaits a receipt*, keeping only its row ids, seqs and event flags (no
      bodies). :meth:`~Ledger.confirm` takes the rows a receipt names out of whatever
      batch holds them (a batch partly confirmed keeps only the rest) and returns them
      for deletion. A batch not confirmed within the confirm timeout goes back to
      waiting, to be sent again; the timeout then doubles until a receipt arrives
      (:class:`~edge_agent.outbox.policy.ConfirmTimer`).
    - accepted, and no confirming collector: :meth:`~Ledger.ack` returns its rows for
      deletion at once (as before receipts existed).
    - refused (e.g. the ACL denies the topic): :meth:`~Ledger.refused`; its rows go back
      to waiting and the device is held back (:class:`~edge_agent.outbox.policy.Backoff`):
      its rows are skipped until the hold ends, then read again. Nothing is deleted.
    - no answer (the connection dropped): :meth:`~Ledger.release`; back to waiting.

    A row is *in use* while a batch holds it, or once answered until the writer has
    deleted it: the size and age limits never evict it and no round hands it out again.

Order
    Rows get increasing ids in commit order (``AUTOINCREMENT``: an id is never reused,
    even after the newest row is deleted). :meth:`Ledger.start_take` plans a round in two
    lanes: *live* (rows committed within the last ``live_window_s``, see
    :class:`~edge_agent.outbox.policy.LiveBoundary`), served first, and *historical* (the
    backlog, including everything found on disk at start). Each lane has a cursor, the
    last row id it read. Within a lane, each device's readings are handed out in id
    order, batch after batch, and the batches of one round are listed in that order. A
    live reading may overtake its device's backlog; the collector tells them apart by
    ``historical`` and orders by ``ts``. A batch that goes back to waiting moves both
    cursors below its first row, so it goes out after batches taken before, and
    redelivery can repeat older readings after newer ones.

Windows and pacing
    Two windows bound what is out, each split between the lanes by
    :func:`~edge_agent.outbox.policy.slots` (the backlog may not use the last eighth, so
    a card tap during a long replay still goes out at once): ``max_in_flight_messages``
    (in flight) and ``max_unconfirmed_messages`` (in flight or awaiting a receipt: a
    slow collector slows its gateways). The backlog is also paced
    (:class:`~edge_agent.outbox.policy.ReplayPacer`).
"""

from __future__ import annotations

from itertools import count
from typing import TYPE_CHECKING

from edge_agent.outbox._awaiting import Awaiting
from edge_agent.outbox._holds import Holds
from edge_agent.outbox._leases import Lease, Leases
from edge_agent.outbox._round import Scan, TakeRound
from edge_agent.outbox._values import OutboxBatch
from edge_agent.outbox.policy import LiveBoundary, ReplayPacer, Slots, narrower, slots

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from edge_agent.outbox.policy import BatchPlan
    from edge_agent.outbox.settings import OutboxSettings

__all__ = ["Ledger", "Scan", "TakeRound"]


class Ledger:
    """Batches out, the lanes' cursors, windows, pacing and holds (see the module).

    Not thread-safe: the store calls it with its lock held.
    """

    def __init__(self, settings: OutboxSettings) -> None:
        """An empty ledger: nothing out, both lanes at the start of the file."""
        self.settings = settings
        self.epoch = 0
        """Bumped by :meth:`reset`: rounds and batches of an older file mean nothing."""
        self.acknowledged = self.confirmed = self.resent = self.refused_by_broker = 0
        """Readings acknowledged, confirmed (while out), sent again after a timeout, and
        refused by the broker, since the outbox was opened."""
        self._leases = Leases()
        self._waits = Awaiting(settings.confirm_timeout_s, settings.confirm_timeout_max_s)
        self._holds = Holds()
        self._ids = count(1)
        self._in_use: set[int] = set()
        self._hist_cursor = self._live_cursor = 0
        self._release_gen = 0
        self._boundary = LiveBoundary(settings.live_window_s)
        self._pacer = ReplayPacer(settings.replay_max_readings_per_s, settings.take_max_readings)
        self._paced_until: float | None = None  # the backlog waits for the pacer until then
        self._work = False

    # Handing out.

    def start_take(self, now: float, limit: int) -> TakeRound:
        """Snapshot what a round of ``take()`` needs at ``now`` (at most ``limit`` rows)."""
        self.tick(now)
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
            hold=self._holds.held(now),
            settings=self.settings,
        )

    def _free(self) -> Slots:
        in_flight, awaiting = self._leases.in_flight, self._leases.awaiting
        return narrower(
            slots(
                live_in_flight=in_flight[False],
                historical_in_flight=in_flight[True],
                max_in_flight=self.settings.max_in_flight_messages,
            ),
            slots(
                live_in_flight=in_flight[False] + awaiting[False],
                historical_in_flight=in_flight[True] + awaiting[True],
                max_in_flight=self.settings.max_unconfirmed_messages,
            ),
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
        for skipped in (taken.live.held, taken.hist.held):
            again = self._holds.skipped(skipped, taken.now)
            if again is not None:  # the hold ended while the round read
                self._rewind(again)
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
                seqs=tuple(r.seq for r in rows),
                mono_ns=tuple(r.mono_ns for r in rows),
            )
            self._leases.add(
                Lease(
                    batch.id,
                    batch.device,
                    historical,
                    batch.reading_ids,
                    batch.event_flags,
                    batch.seqs,
                )
            )
            self._in_use.update(batch.reading_ids)
            batches.append(batch)
        return batches

    # Answers.

    def published(self, batch_id: int, now: float) -> None:
        """The broker accepted the batch at ``now``: it awaits a receipt. Unknown: ignored."""
        lease = self._leases.get(batch_id)
        if lease is None or self._leases.is_awaiting(batch_id):
            return
        self._holds.accepted(lease.device)
        self._work = True  # a slot in flight is free
        if self._leases.published(batch_id):
            self._waits.add(batch_id, now)

    def ack(self, batch_ids: Iterable[int]) -> list[tuple[int, bool]]:
        """These batches are delivered (no receipts to wait for): their rows to delete.

        The rows stay in use until :meth:`deleted`. Unknown ids are ignored.
        """
        deletes: list[tuple[int, bool]] = []
        for batch_id in batch_ids:
            lease = self._drop(batch_id)
            if lease is None:
                continue
            self._holds.accepted(lease.device)
            deletes += lease.rows()
            self.acknowledged += len(lease)
        self._work = True
        return deletes

    def refused(self, batch_id: int, now: float) -> None:
        """The broker refused the batch at ``now``: its rows wait again, its device is held.

        Unknown ids, and batches the broker accepted already, are ignored.
        """
        if self._leases.is_awaiting(batch_id):
            return
        lease = self._drop(batch_id)
        if lease is None:
            return
        self.refused_by_broker += len(lease)
        self._holds.refused(lease.device, now)
        self._put_back([lease])

    def release(self, batch_ids: Iterable[int]) -> None:
        """These batches were not delivered: their rows wait again. Unknown ids are ignored."""
        self._put_back([lease for i in batch_ids if (lease := self._drop(i)) is not None])

    def release_all(self) -> None:
        """Release every batch out, in flight or awaiting a receipt."""
        self.release(list(self._leases))

    def confirm(self, ranges: Sequence[tuple[int, int]]) -> list[tuple[int, bool]]:
        """A receipt names these seq ranges (inclusive): take their rows out of the batches.

        Returns the rows ``(id, is_event)`` to delete (in use until :meth:`deleted`).
        Seqs no batch holds are the store's to find on disk, or unknown.
        """
        self._waits.timer.confirmed()
        deletes: list[tuple[int, bool]] = []
        for lease_id, seqs in self._leases.holding(ranges).items():
            deletes += self._leases.take_rows(lease_id, seqs)
            if self._leases.get(lease_id) is None:
                self._waits.remove(lease_id)  # nothing left to wait for
        self.confirmed += len(deletes)
        if deletes:
            self._work = True
        return deletes

    # Time passing.

    def tick(self, now: float) -> None:
        """Send again what waited too long for a receipt; end holds that are over."""
        overdue = []
        for lease_id in self._waits.overdue(now):
            lease = self._leases.drop(lease_id)
            if lease is not None:
                self.resent += len(lease)
                overdue.append(lease)
        self._put_back(overdue)
        again = self._holds.ended(now)
        if again is not None:
            self._rewind(again)

    def _drop(self, lease_id: int) -> Lease | None:
        """Forget a batch (its rows stay in use); None if unknown."""
        self._waits.remove(lease_id)
        return self._leases.drop(lease_id)

    def _put_back(self, leases: list[Lease]) -> None:
        """The rows of these (dropped) batches wait again."""
        lowest: int | None = None
        for lease in leases:
            self._in_use.difference_update(lease.reading_ids)
            if lease:
                first = lease.reading_ids[0]
                lowest = first if lowest is None else min(lowest, first)
        if lowest is not None:
            self._rewind(lowest)

    def _rewind(self, first: int) -> None:
        """Rows from ``first`` on are to be read again, in both lanes."""
        # Both cursors: a live row put back may be backlog by now.
        self._hist_cursor = min(self._hist_cursor, first - 1)
        self._live_cursor = min(self._live_cursor, first - 1)
        self._release_gen += 1
        self._work = True

    # What the writer tells.

    def in_use(self) -> frozenset[int]:
        """Rows out, or answered and not yet deleted: not to be evicted (a copy)."""
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
        self._waits.clear()
        self._holds.clear()
        self._in_use.clear()
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
        """When the sender should look again even if nothing happens.

        The pacer's time, the first receipt deadline, or the end of a hold.
        """
        times = (self._paced_until, self._waits.next_deadline(), self._holds.wake_at())
        return min((t for t in times if t is not None), default=None)

    def woke(self) -> None:
        """The sender waited until :meth:`wake_at`: the pacer's time is used up."""
        self._paced_until = None

    # Figures.

    @property
    def in_flight_messages(self) -> int:
        """Batches handed out and not yet answered by the broker."""
        return sum(self._leases.in_flight.values())

    @property
    def in_flight_readings(self) -> int:
        """Readings in those batches."""
        return self._leases.readings(awaiting=False)

    @property
    def awaiting_messages(self) -> int:
        """Batches awaiting a receipt."""
        return len(self._waits)

    @property
    def awaiting_readings(self) -> int:
        """Readings in those batches."""
        return self._leases.readings(awaiting=True)

    def oldest_wait_s(self, now: float) -> float | None:
        """How long the batch waiting longest for its receipt has waited at ``now``."""
        return self._waits.oldest_wait_s(now)

    @property
    def confirm_timeout_s(self) -> float:
        """The wait for a receipt that a batch published now is given."""
        return self._waits.timer.current_s


def _advance(current: int, scanned_to: int | None, *, released: bool) -> int:
    """A lane's cursor after a take: past the rows read, unless a release moved it back.

    After a release during the take the lower value stands: those rows are read again.
    """
    if scanned_to is None:
        return current
    return min(current, scanned_to) if released else max(current, scanned_to)
