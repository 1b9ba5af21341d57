"""The public :class:`Outbox`: a facade over the writer thread, the ledger and the reader.

The guarantees (durability, limits, errors) are stated in :mod:`edge_agent.outbox`; the
order in which rows go out in :mod:`edge_agent.outbox.ledger`; group commit in the writer
(``_writer``). Here: how the agent drives it.

Driving it (the agent's side)
    - Readers, pollers and the health sampler call :meth:`Outbox.append` (or
      :meth:`Outbox.append_many` for one poll's readings) from their own threads. If it
      raises :class:`OutboxError` the reading was *not* stored: log it (throttled), count
      it and hand it to the MQTT client in memory as before (not durable, but not lost
      while the process lives).
    - One pump thread loops: ``outbox.wait_for_work(1.0)``; while connected, for each
      batch of ``outbox.take()``: publish ``batch.payload(site, gateway)`` (or
      ``payload(site, gateway, rewrite)`` to correct readings that carry a ``mono_ns``)
      at QoS 1 on the device's topic and remember ``mid -> batch.id``. take() keeps the
      windows (``max_in_flight_messages``, far below paho's 65,535, and
      ``max_unconfirmed_messages``) and paces the backlog (``replay_max_readings_per_s``)
      so live readings find the process idle; wait_for_work() wakes the pump when the
      pacer allows the next round, a receipt is overdue or a hold ends.
    - paho's ``on_publish``: on success, ``outbox.published(batch_id)`` if a collector
      that sends receipts is there (the readings stay until :meth:`Outbox.confirm`), else
      ``outbox.ack([batch_id])`` (they are deleted now); on a refusal,
      ``outbox.refused(batch_id)`` after logging it: the readings stay, and their device
      is held back for a while. None of these blocks on disk.
    - A receipt (:mod:`pelangi.receipts`): ``outbox.confirm(receipt.seqs)``.
    - On disconnect: ``outbox.release_all()`` (everything out becomes eligible again;
      duplicates possible, loss not).
    - Health readings carry :meth:`Outbox.stats`; the statistics log :meth:`Outbox.summary`.
    - At shutdown: stop the pump, :meth:`Outbox.wait_until_idle` for the PUBACKs still
      due, then :meth:`Outbox.close`.

Locks: the reader's lock is taken before the condition variable the writer shares (see
``_reads``, the store's reads of the file).
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Self

from edge_agent.outbox._errors import OutboxError
from edge_agent.outbox._files import current_boot_id
from edge_agent.outbox._reader import Reader
from edge_agent.outbox._reads import Reads
from edge_agent.outbox._stats import gather
from edge_agent.outbox._values import OutboxBatch, OutboxEntry, OutboxStats, check_entry
from edge_agent.outbox._writer import Writer
from edge_agent.outbox.ledger import Ledger

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence
    from pathlib import Path
    from types import TracebackType

    from edge_agent.outbox.settings import OutboxSettings

__all__ = ["Outbox", "OutboxBatch", "OutboxEntry", "OutboxError", "OutboxStats"]


class Outbox:
    """The durable outbox of one gateway; see the module docstring for how to drive it.

    Thread-safe: append from any threads, take/ack/release from the sending side.
    """

    def __init__(
        self,
        path: Path,
        settings: OutboxSettings,
        *,
        wall_ns: Callable[[], int] = time.time_ns,
        monotonic: Callable[[], float] = time.monotonic,
        boot_id: str | None = None,
    ) -> None:
        """Prepare, but do not open: use :meth:`open`."""
        self.path = path
        self.settings = settings
        self._wall_ns = wall_ns
        self._monotonic = monotonic
        self._cond = threading.Condition()
        self._ledger = Ledger(settings)
        self._reader = Reader()
        self._writer = Writer(
            path,
            settings,
            cond=self._cond,
            sending=self._ledger,
            reader=self._reader,
            wall_ns=wall_ns,
            monotonic=monotonic,
            boot_id=boot_id if boot_id is not None else current_boot_id(),
        )
        self._queue = self._writer.queue
        self._reads = Reads(
            path, self._reader, self._ledger, self._queue, cond=self._cond, monotonic=monotonic
        )

    @classmethod
    def open(
        cls,
        path: Path,
        settings: OutboxSettings,
        *,
        wall_ns: Callable[[], int] = time.time_ns,
        monotonic: Callable[[], float] = time.monotonic,
        boot_id: str | None = None,
    ) -> Outbox:
        """Open (creating if needed) the outbox at ``path`` and start its writer thread.

        Never raises for disk trouble: if the file cannot be opened, the problem is
        logged and in ``stats().error``, appends raise :class:`OutboxError`, and opening
        is retried (with each append, and every ``settings.retry_s``). A damaged file
        is moved aside and a new one started. Returns once the first attempt is done.

        Args:
            path: the database file (see :meth:`OutboxSettings.resolve_path`).
            settings: limits and batching.
            wall_ns: the wall clock for reading ages (ns since the epoch, like ``ts``).
            monotonic: the clock for the live window, timeouts and periodic checks.
            boot_id: names the current boot (default: the kernel's), for ``mono_ns``.
        """
        outbox = cls(path, settings, wall_ns=wall_ns, monotonic=monotonic, boot_id=boot_id)
        outbox._writer.start()
        return outbox

    def __enter__(self) -> Self:
        """Use as a context manager: closes on exit."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Close the outbox."""
        self.close()

    # The storing side.

    def append(  # noqa: PLR0913 - the fields of one reading
        self,
        device: str,
        reading: bytes,
        *,
        is_event: bool,
        ts: int,
        seq: int,
        mono_ns: int | None = None,
    ) -> int:
        """Store one reading durably; return its row id once it is accepted.

        Args:
            device: the device id (a valid identifier: it becomes part of a topic).
            reading: the JSON of one reading (an item of an envelope's ``readings``).
            is_event: True for events (card read, door or port change), kept until no
                telemetry is left; False for periodic telemetry, evicted first.
            ts: the reading's timestamp (ns since the epoch), for the age limit.
            seq: the reading's ``seq`` (unique on the gateway): receipts name it.
            mono_ns: the monotonic clock (ns) when the reading was stamped, for readings
                stamped before the gateway knew its clock's offset; handed back with
                the batch while the gateway has not rebooted.

        Raises:
            UnsendableReadingError: the reading could never be sent (empty, too large,
                bad device id or ts); nothing was stored.
            OutboxError: the reading could not be stored (disk full, folder not
                writable, outbox closed); it was not accepted.
        """
        entry = OutboxEntry(device, reading, is_event, ts, seq, mono_ns)
        return self.append_many([entry])[0]

    def append_many(self, entries: Sequence[OutboxEntry]) -> list[int]:
        """Store several readings in one commit; all are accepted or none (see append)."""
        entries = list(entries)  # an iterator would be used up by the checks: nothing stored
        for entry in entries:
            check_entry(entry)
        if not entries:
            return []
        return self._writer.store(entries)

    # The sending side.

    def take(self, max_readings: int | None = None) -> list[OutboxBatch]:
        """Hand out per-device batches that are not in flight; they are in flight now.

        Live readings come first (``historical=False``), then the backlog, within the
        windows (``max_in_flight_messages`` and ``max_unconfirmed_messages``, of which
        historical batches leave an eighth free for live ones) and up to
        ``max_readings`` rows looked at (default ``take_max_readings``). Devices the
        broker refused lately are held back. Returns an empty list when there is
        nothing to send, a window is full or the database is unavailable; never raises
        for disk trouble. Every batch must come back through :meth:`published`,
        :meth:`ack`, :meth:`refused` or :meth:`release`.
        """
        limit = max_readings if max_readings is not None else self.settings.take_max_readings
        return self._reads.take(limit)

    def ack(self, batch_ids: Iterable[int]) -> None:
        """These batches are delivered and no receipt will come: delete their readings.

        For a PUBACK when no collector that sends receipts is there (and for batches
        awaiting a receipt the uplink gives up waiting for). Returns at once; the delete
        is committed with the writer's next transaction (until then the readings are not
        handed out again). Unknown ids (already answered or released, or from a
        replaced file) are ignored.
        """
        with self._cond:
            self._queue.delete(self._ledger.ack(batch_ids))
            self._cond.notify_all()

    def published(self, batch_id: int) -> None:
        """The broker accepted this batch (PUBACK): keep its readings until a receipt.

        It no longer counts as in flight, but against ``max_unconfirmed_messages``. If
        no receipt names its readings within the confirm timeout, they go out again
        (and the timeout doubles, up to ``confirm_timeout_max_s``, until a receipt
        comes). Unknown ids are ignored.
        """
        with self._cond:
            self._ledger.published(batch_id, self._monotonic())
            self._cond.notify_all()

    def refused(self, batch_id: int) -> None:
        """The broker refused this batch (a PUBACK with a failure reason, e.g. the ACL).

        Its readings stay and go out again, but their device is held back first: 1 s,
        doubling with each refusal, up to 60 s; an accepted publish of the device resets
        it. Counted in ``stats().refused_by_broker``. Unknown ids are ignored.
        """
        with self._cond:
            self._ledger.refused(batch_id, self._monotonic())
            self._cond.notify_all()

    def confirm(self, seq_ranges: Sequence[tuple[int, int]]) -> int:
        """A collector stored these readings (a receipt's inclusive seq ranges): delete them.

        Wherever they are: in flight, awaiting a receipt (a batch partly confirmed keeps
        only the rest), or waiting on disk (e.g. sent again after a timeout). Returns at
        once with how many of them were out (in flight or awaiting); the writer deletes
        them and those on disk with its next transactions, counting all in
        ``stats().confirmed``. Until then a confirmed reading waiting on disk may be
        handed out once more (a duplicate, never a loss). Resets the confirm timeout.
        Unknown seqs are ignored.
        """
        with self._cond:
            deletes = self._ledger.confirm(seq_ranges)
            self._queue.delete(deletes)
            self._queue.delete_confirmed(seq_ranges)
            self._cond.notify_all()
            return len(deletes)

    def release(self, batch_ids: Iterable[int]) -> None:
        """These batches were not delivered (e.g. the connection dropped): send them again.

        Unknown ids are ignored.
        """
        with self._cond:
            self._ledger.release(batch_ids)
            self._cond.notify_all()

    def release_all(self) -> None:
        """Release every batch out, in flight or awaiting a receipt (the connection dropped)."""
        with self._cond:
            self._ledger.release_all()
            self._cond.notify_all()

    def wait_for_work(self, timeout: float) -> bool:
        """Wait until :meth:`take` may have something new.

        That is: an append, an answer or a release, the replay pacer allowing the next
        round, a receipt overdue or a device's hold ending. Returns False on timeout.
        Meant for one sending thread; it may wake for nothing, so call take() and loop.
        """
        ledger = self._ledger
        with self._cond:
            ledger.tick(self._monotonic())
            wake_at = ledger.wake_at()
            if wake_at is not None:
                pause = max(0.0, wake_at - self._monotonic())
                if pause <= timeout:
                    self._cond.wait_for(lambda: ledger.has_work or self._queue.stopping, pause)
                    ledger.work_seen()
                    ledger.woke()
                    return True
            woke = self._cond.wait_for(lambda: ledger.has_work or self._queue.stopping, timeout)
            ledger.work_seen()
            return bool(woke)

    def wait_until_idle(self, timeout: float) -> bool:
        """Wait until no batch is in flight (each was answered by the broker or released).

        Batches awaiting a receipt do not count: they are not on the network.

        For a clean shutdown: the PUBACKs still due save duplicates after the next start.
        Returns False on timeout (or when the outbox is closed first).
        """
        with self._cond:
            return (
                self._cond.wait_for(
                    lambda: self._ledger.in_flight_messages == 0 or self._queue.stopping, timeout
                )
                and not self._queue.stopping
            )

    # Housekeeping.

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until acknowledgements and pending work so far are committed.

        Returns False on timeout (or when the outbox is closed first).
        """
        return self._queue.request(limits=False, timeout=timeout)

    def enforce_limits(self, timeout: float = 10.0) -> bool:
        """Apply the size and age limits now (they are also applied on their own)."""
        return self._queue.request(limits=True, timeout=timeout)

    def stats(self) -> OutboxStats:
        """A snapshot of counts, sizes, evictions and the latest error."""
        available, oldest = self._reads.oldest_ts()
        with self._cond:
            return gather(
                self.path,
                self.settings,
                self._writer.books,
                self._ledger,
                available=available,
                error=self._writer.error,
                oldest_age_s=None if oldest is None else (self._wall_ns() - oldest) / 1e9,
                now=self._monotonic(),
            )

    def summary(self) -> str:
        """One line for the periodic statistics log."""
        return self.stats().summary()

    def close(self, timeout: float = 30.0) -> None:
        """Commit what is pending, close the database and stop the writer (idempotent).

        Batches still in flight stay in the file and are sent again after the next
        start. Appends after close raise :class:`OutboxError`.
        """
        self._writer.close(timeout)
