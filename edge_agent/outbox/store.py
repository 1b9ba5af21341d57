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
      batch of ``outbox.take()``: publish ``batch.payload(site, gateway)`` at QoS 1 on
      the device's topic and remember ``mid -> batch.id``. take() keeps the in-flight
      window (``max_in_flight_messages``, far below paho's 65,535) and paces the backlog
      (``replay_max_readings_per_s``) so live readings find the process idle;
      wait_for_work() wakes the pump when the pacer allows the next round.
    - paho's ``on_publish``: ``outbox.ack([batch_id])`` on success; on a refusal,
      ``outbox.ack([batch_id], rejected=True)`` after logging it (it would be refused
      again), which counts it. ``ack`` never blocks on disk.
    - On disconnect: ``outbox.release_all()`` (everything in flight becomes eligible
      again; duplicates possible, loss not).
    - Health readings carry :meth:`Outbox.stats`; the statistics log :meth:`Outbox.summary`.
    - At shutdown: stop the pump, :meth:`Outbox.wait_until_idle` for the PUBACKs still
      due, then :meth:`Outbox.close`.

Locks: the reader's lock is taken before the condition variable the writer shares.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections import Counter
from typing import TYPE_CHECKING, Self

from edge_agent.outbox._errors import OutboxError, is_damaged
from edge_agent.outbox._reader import Reader
from edge_agent.outbox._sqlite import QUARANTINED, counter_name
from edge_agent.outbox._values import OutboxBatch, OutboxEntry, OutboxStats, check_entry
from edge_agent.outbox._writer import Writer
from edge_agent.outbox.ledger import Ledger
from edge_agent.outbox.policy import ReadingClass
from pelangi.throttle import ThrottledLog

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence
    from pathlib import Path
    from types import TracebackType

    from edge_agent.outbox.ledger import TakeRound
    from edge_agent.outbox.settings import OutboxSettings

__all__ = ["Outbox", "OutboxBatch", "OutboxEntry", "OutboxError", "OutboxStats"]

log = logging.getLogger(__name__)


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
        )
        self._queue = self._writer.queue
        self._read_trouble = ThrottledLog(log, burst=1, interval_s=300.0, clock=monotonic)

    @classmethod
    def open(
        cls,
        path: Path,
        settings: OutboxSettings,
        *,
        wall_ns: Callable[[], int] = time.time_ns,
        monotonic: Callable[[], float] = time.monotonic,
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
            monotonic: the clock for the live window and periodic checks.
        """
        outbox = cls(path, settings, wall_ns=wall_ns, monotonic=monotonic)
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

    def append(self, device: str, reading: bytes, *, is_event: bool, ts: int) -> int:
        """Store one reading durably; return its row id once it is accepted.

        Args:
            device: the device id (a valid identifier: it becomes part of a topic).
            reading: the JSON of one reading (an item of an envelope's ``readings``).
            is_event: True for events (card read, door or port change), kept until no
                telemetry is left; False for periodic telemetry, evicted first.
            ts: the reading's timestamp (ns since the epoch), for the age limit.

        Raises:
            UnsendableReadingError: the reading could never be sent (empty, too large,
                bad device id or ts); nothing was stored.
            OutboxError: the reading could not be stored (disk full, folder not
                writable, outbox closed); it was not accepted.
        """
        return self.append_many([OutboxEntry(device, reading, is_event, ts)])[0]

    def append_many(self, entries: Sequence[OutboxEntry]) -> list[int]:
        """Store several readings in one commit; all are accepted or none (see append)."""
        for entry in entries:
            check_entry(entry)
        if not entries:
            return []
        return self._writer.store(entries)

    # The sending side.

    def take(self, max_readings: int | None = None) -> list[OutboxBatch]:
        """Hand out per-device batches that are not in flight; they are in flight now.

        Live readings come first (``historical=False``), then the backlog, within the
        in-flight window (``max_in_flight_messages``, of which historical batches leave
        an eighth free for live ones) and up to ``max_readings`` rows looked at
        (default ``take_max_readings``). Returns an empty list when there is nothing to
        send, the window is full or the database is unavailable; never raises for disk
        trouble. Every batch must come back through :meth:`ack` or :meth:`release`.
        """
        limit = max_readings if max_readings is not None else self.settings.take_max_readings
        with self._reader.lock:
            if not self._reader.available or limit <= 0:
                return []
            with self._cond:
                taken = self._ledger.start_take(self._monotonic(), limit)
                generation = self._queue.generation
            try:
                self._read(taken)
            except sqlite3.Error as exc:
                self._read_failed(exc, generation)
                return []
            with self._cond:
                return self._ledger.finish_take(taken)

    def _read(self, taken: TakeRound) -> None:
        """Read the rows of both lanes for ``taken`` (reader lock held, not the condition)."""
        live = taken.live_scan()
        if live is not None:
            taken.offer_live(self._reader.rows(live))
        historical = taken.historical_scan()
        if historical is not None:
            taken.offer_historical(self._reader.rows(historical))

    def ack(self, batch_ids: Iterable[int], *, rejected: bool = False) -> None:
        """The broker holds these batches (PUBACK): delete their readings.

        Returns at once; the delete is committed with the writer's next transaction
        (until then the readings are not handed out again). With ``rejected=True`` the
        broker refused them: they are deleted too, and counted as rejected. Unknown
        ids (already acknowledged or released, or from a replaced file) are ignored.
        """
        with self._cond:
            deletes = self._ledger.ack(batch_ids)
            counted = None
            if rejected:
                counted = Counter(ReadingClass.of(is_event=flag) for _, flag in deletes)
            self._queue.delete(deletes, counted)
            self._cond.notify_all()

    def release(self, batch_ids: Iterable[int]) -> None:
        """These batches were not delivered (e.g. the connection dropped): send them again.

        Unknown ids are ignored.
        """
        with self._cond:
            self._ledger.release(batch_ids)
            self._cond.notify_all()

    def release_all(self) -> None:
        """Release every batch in flight (call when the connection to the broker drops)."""
        with self._cond:
            self._ledger.release_all()
            self._cond.notify_all()

    def wait_for_work(self, timeout: float) -> bool:
        """Wait until :meth:`take` may have something new.

        That is: an append, ack or release, or the replay pacer allowing the next round.
        Returns False on timeout. Meant for one sending thread; it may wake for nothing,
        so call take() and loop.
        """
        ledger = self._ledger
        with self._cond:
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
        """Wait until no batch is in flight (each was acknowledged or released).

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
        oldest: int | None = None
        with self._reader.lock:
            available = self._reader.available
            if available:
                with self._cond:
                    generation = self._queue.generation
                try:
                    oldest = self._reader.oldest_ts()
                except sqlite3.Error as exc:
                    self._read_failed(exc, generation)
        with self._cond:
            books = self._writer.books
            ledger = self._ledger
            persistent = books.persistent
            return OutboxStats(
                path=str(self.path),
                available=available,
                error=self._writer.error,
                telemetry=books.counts[ReadingClass.TELEMETRY],
                events=books.counts[ReadingClass.EVENT],
                used_bytes=books.used_bytes,
                max_bytes=self.settings.max_bytes,
                oldest_age_s=None if oldest is None else (self._wall_ns() - oldest) / 1e9,
                in_flight_messages=ledger.in_flight_messages,
                in_flight_readings=ledger.in_flight_readings,
                appended=books.appended,
                refused=books.refused,
                acknowledged=ledger.acknowledged,
                evicted_telemetry_size=persistent[counter_name(ReadingClass.TELEMETRY, "size")],
                evicted_telemetry_age=persistent[counter_name(ReadingClass.TELEMETRY, "age")],
                evicted_event_size=persistent[counter_name(ReadingClass.EVENT, "size")],
                evicted_event_age=persistent[counter_name(ReadingClass.EVENT, "age")],
                rejected=sum(persistent[counter_name(c, "rejected")] for c in ReadingClass),
                quarantined=persistent[QUARANTINED],
            )

    def summary(self) -> str:
        """One line for the periodic statistics log."""
        s = self.stats()
        if not s.available:
            return f"outbox {s.path} unavailable: {s.error}"
        oldest = "" if s.oldest_age_s is None else f", oldest {_duration(s.oldest_age_s)}"
        text = (
            f"outbox: {s.readings} stored ({s.telemetry} telemetry, {s.events} events), "
            f"{s.used_bytes / 1e6:.1f} of {s.max_bytes / 1e6:.0f} MB{oldest}; "
            f"{s.in_flight_readings} in flight"
        )
        if s.evicted:
            text += (
                f"; evicted {s.evicted} (telemetry {s.evicted_telemetry_size} size, "
                f"{s.evicted_telemetry_age} age; events {s.evicted_event_size} size, "
                f"{s.evicted_event_age} age)"
            )
        if s.error:
            text += f"; problem: {s.error}"
        return text

    def close(self, timeout: float = 30.0) -> None:
        """Commit what is pending, close the database and stop the writer (idempotent).

        Batches still in flight stay in the file and are sent again after the next
        start. Appends after close raise :class:`OutboxError`.
        """
        self._writer.close(timeout)

    def _read_failed(self, exc: sqlite3.Error, generation: int) -> None:
        """Report a failed read of the file of ``generation``; damage is left to the writer."""
        if is_damaged(exc):
            cause = f"the file is damaged: {exc}"
            self._queue.damaged(cause, generation)
        else:
            cause = f"cannot read: {exc} ({getattr(exc, 'sqlite_errorname', '')})"
        self._read_trouble.log(logging.ERROR, "outbox %s: %s", self.path, cause)


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172_800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86_400:.1f} days"
