"""The durable outbox: one SQLite file in WAL mode, one writer thread, one reader.

This module holds the public :class:`Outbox` and its sending side (take, ack, release,
stats); the writer thread, the checkpointer and the SQLite details sit in the private
modules beside it (see :mod:`edge_agent.outbox`). The guarantees below are the whole's.

Guarantee
    A reading is *accepted* when :meth:`Outbox.append` returns. From then on it survives
    ``kill -9`` of the agent and a power cut, because ``append()`` returns only after the
    SQLite transaction holding it has committed in WAL mode with ``synchronous=FULL``:
    the WAL frames carrying the reading were written and ``fsync()``-ed before COMMIT
    returned, and the folder holding the database and its WAL was ``fsync()``-ed after
    they were created, so their names survive too. On the next start SQLite replays the
    WAL. A reading leaves the outbox only through :meth:`Outbox.ack` (after the broker's
    PUBACK) or through an eviction, which is counted in the same transaction that
    deletes it. Deletes (acknowledgements and evictions) are committed lazily and
    without their own fsync: a crash or power cut before they are on disk brings those
    readings back, to be sent again (a duplicate, which the collector absorbs) or
    evicted and counted again, never lost. SQLite's WAL checksums make a power cut roll
    back only an unsynced tail of the WAL, never a commit that was synced before it.

    Limits of the promise: storage that reports an ``fsync()`` it has not done (SD cards
    and USB sticks with volatile caches) can still lose the last commits on a power cut;
    no software can fix that. With ``sync: normal`` the WAL is not synced per commit and
    the promise covers ``kill -9`` only. A damaged file is moved aside, not repaired
    (see Errors).

Group commit
    Appends from any number of threads join the group that the writer thread will
    commit next; each caller waits for its group's COMMIT. While one fsync runs, the
    next group fills, so under load many readings share one fsync, and a lone card tap
    waits for exactly one. Appends go first: acknowledged deletes follow in chunks of
    :data:`~edge_agent.outbox._writer.DELETE_CHUNK`, and the writer returns to waiting
    appends between chunks.
    Copying the WAL into the database (checkpointing) runs in a thread of its own, so
    no commit waits for it. The size limit is applied right after each commit: the
    file can exceed ``max_bytes`` by one commit's readings for a moment.

Order
    Rows get increasing ids in commit order (``AUTOINCREMENT``: an id is never reused,
    even after the newest row is deleted). :meth:`Outbox.take` hands rows out in two
    lanes: *live* (rows committed within the last ``live_window_s``), served first, and
    *historical* (the backlog, including everything found on disk at start). Within a
    lane, each device's readings are handed out in id order, batch after batch, and
    the batches of one call are listed in that order. A live reading may overtake its
    device's backlog; the collector tells them apart by ``historical`` and orders by
    ``ts``. A batch that is released and taken again goes out after batches taken
    before the release, so redelivery can repeat older readings after newer ones.

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
    - At shutdown: stop the pump, then :meth:`Outbox.close`.

Errors
    Nothing here raises a raw :mod:`sqlite3` error. A folder that cannot be created or
    written, a full disk or an I/O error make :meth:`Outbox.append` raise
    :class:`OutboxError` naming the file and the cause; the same text is in
    ``stats().error`` and in the log (throttled). The outbox keeps trying (with every
    append, and every ``retry_s``), so storing resumes by itself once space returns.
    A damaged database file is moved aside as ``outbox.db.corrupt-<UTC time>`` (with
    its WAL), logged as an error, counted in ``stats().quarantined``, and a new, empty
    outbox is started: no crash loop.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from typing import TYPE_CHECKING, Self

from edge_agent.outbox._errors import OutboxError, is_damaged
from edge_agent.outbox._sqlite import QUARANTINED, counter_name, oldest_ts
from edge_agent.outbox._values import OutboxBatch, OutboxEntry, OutboxStats, check_entry
from edge_agent.outbox._writer import OutboxWriter
from edge_agent.outbox.policy import BatchPlan, ReadingClass, Row, plan_batches, slots

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence
    from pathlib import Path
    from types import TracebackType

    from edge_agent.outbox.settings import OutboxSettings

__all__ = ["Outbox", "OutboxBatch", "OutboxEntry", "OutboxError", "OutboxStats"]

log = logging.getLogger(__name__)


class Outbox(OutboxWriter):
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
        super().__init__(path, settings, wall_ns=wall_ns, monotonic=monotonic)

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
        outbox._thread.start()
        outbox._opened.wait()
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
        with self._cond:
            if self._stop:
                raise OutboxError(self.path, "the outbox is closed")
            group = self._group
            start = len(group.entries)
            group.entries.extend(entries)
            self._cond.notify_all()
            self._cond.wait_for(lambda: group.done)
            if group.error is not None:
                raise group.error
            assert group.ids is not None  # noqa: S101 - set with done when error is None
            return group.ids[start : start + len(entries)]

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
        with self._read_lock:
            reader = self._reader
            if reader is None or limit <= 0:
                return []
            with self._cond:
                now = self._monotonic()
                boundary = self._boundary.boundary(now)
                allowance = self._pacer.available(now)
                free = slots(
                    live_in_flight=self._in_flight[False],
                    historical_in_flight=self._in_flight[True],
                    max_in_flight=self.settings.max_in_flight_messages,
                )
                hist_cursor, live_cursor = self._hist_cursor, self._live_cursor
                release_gen, epoch = self._release_gen, self._epoch
                exclude = frozenset(self._excluded)
            try:
                live_rows = []
                if boundary is not None and free.live > 0:
                    live_after = max(live_cursor, boundary - 1)
                    live_rows = self._scan(reader, after=live_after, before=None, limit=limit)
                live = self._batch(live_rows, exclude, free.live)
                hist_budget = min(free.historical, free.live - len(live.batches))
                hist_wanted = limit - len(live_rows)
                hist_limit = min(hist_wanted, allowance)
                hist_rows = []
                if hist_budget > 0 and hist_limit > 0:
                    hist_rows = self._scan(
                        reader, after=hist_cursor, before=boundary, limit=hist_limit
                    )
                hist = self._batch(hist_rows, exclude, hist_budget)
            except sqlite3.Error as exc:
                self._read_failed(exc, epoch)
                return []
            with self._cond:
                if self._epoch != epoch:  # the file was replaced meanwhile
                    return []
                released = self._release_gen != release_gen
                self._live_cursor = _advance(self._live_cursor, live.cursor, released=released)
                self._hist_cursor = _advance(self._hist_cursor, hist.cursor, released=released)
                batches = self._register(live, historical=False)
                batches += self._register(hist, historical=True)
                self._pacer.spend(len(hist_rows))
                more_hist = hist_budget > 0 and len(hist_rows) == hist_limit and hist.complete
                if more_hist and hist_limit < hist_wanted:  # the pacer stopped it, not the data
                    self._paced_until = self._pacer.ready_at(now, hist_wanted)
                # A full page of rows means more may follow; a full window waits for acks.
                elif (len(live_rows) == limit and live.complete) or (more_hist and hist_limit > 0):
                    self._work = True
                return batches

    def ack(self, batch_ids: Iterable[int], *, rejected: bool = False) -> None:
        """The broker holds these batches (PUBACK): delete their readings.

        Returns at once; the delete is committed with the writer's next transaction
        (until then the readings are not handed out again). With ``rejected=True`` the
        broker refused them: they are deleted too, and counted as rejected. Unknown
        ids (already acknowledged or released, or from a replaced file) are ignored.
        """
        with self._cond:
            for batch_id in batch_ids:
                batch = self._batches.pop(batch_id, None)
                if batch is None:
                    continue
                self._in_flight[batch.historical] -= 1
                self._deletes.extend(zip(batch.reading_ids, batch.event_flags, strict=True))
                self._acknowledged += len(batch)
                if rejected:
                    for is_event in batch.event_flags:
                        self._rejected_pending[ReadingClass.of(is_event=is_event)] += 1
            self._work = True
            self._cond.notify_all()

    def release(self, batch_ids: Iterable[int]) -> None:
        """These batches were not delivered (e.g. the connection dropped): send them again.

        Unknown ids are ignored.
        """
        with self._cond:
            lowest: int | None = None
            for batch_id in batch_ids:
                batch = self._batches.pop(batch_id, None)
                if batch is None:
                    continue
                self._in_flight[batch.historical] -= 1
                self._excluded.difference_update(batch.reading_ids)
                first = batch.reading_ids[0]
                lowest = first if lowest is None else min(lowest, first)
            if lowest is not None:
                # Both cursors: a released live row may be backlog by now.
                self._hist_cursor = min(self._hist_cursor, lowest - 1)
                self._live_cursor = min(self._live_cursor, lowest - 1)
                self._release_gen += 1
                self._work = True
                self._cond.notify_all()

    def release_all(self) -> None:
        """Release every batch in flight (call when the connection to the broker drops)."""
        with self._cond:
            in_flight = list(self._batches)
        self.release(in_flight)

    def wait_for_work(self, timeout: float) -> bool:
        """Wait until :meth:`take` may have something new.

        That is: an append, ack or release, or the replay pacer allowing the next round.
        Returns False on timeout. Meant for one sending thread; it may wake for nothing,
        so call take() and loop.
        """
        with self._cond:
            if self._paced_until is not None:
                pause = max(0.0, self._paced_until - self._monotonic())
                if pause <= timeout:
                    self._cond.wait_for(lambda: self._work or self._stop, pause)
                    self._work = False
                    self._paced_until = None
                    return True
            woke = self._cond.wait_for(lambda: self._work or self._stop, timeout)
            self._work = False
            return bool(woke)

    # Housekeeping.

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until acknowledgements and pending work so far are committed.

        Returns False on timeout (or when the outbox is closed first).
        """
        return self._request(limits=False, timeout=timeout)

    def enforce_limits(self, timeout: float = 10.0) -> bool:
        """Apply the size and age limits now (they are also applied on their own)."""
        return self._request(limits=True, timeout=timeout)

    def _request(self, *, limits: bool, timeout: float) -> bool:
        with self._cond:
            if self._stop:
                return False
            self._flush_requested += 1
            target = self._flush_requested
            self._limits_requested |= limits
            self._cond.notify_all()
            return self._cond.wait_for(lambda: self._flushed >= target or self._closed, timeout)

    def stats(self) -> OutboxStats:
        """A snapshot of counts, sizes, evictions and the latest error."""
        oldest: int | None = None
        with self._read_lock:
            if self._reader is not None:
                with self._cond:
                    epoch = self._epoch
                try:
                    oldest = oldest_ts(self._reader)
                except sqlite3.Error as exc:
                    self._read_failed(exc, epoch)
        with self._cond:
            persistent = self._persistent
            return OutboxStats(
                path=str(self.path),
                available=self._reader is not None,
                error=self._error,
                telemetry=self._counts[ReadingClass.TELEMETRY],
                events=self._counts[ReadingClass.EVENT],
                used_bytes=self._used_bytes,
                max_bytes=self.settings.max_bytes,
                oldest_age_s=None if oldest is None else (self._wall_ns() - oldest) / 1e9,
                in_flight_messages=len(self._batches),
                in_flight_readings=sum(len(b) for b in self._batches.values()),
                appended=self._appended,
                refused=self._refused,
                acknowledged=self._acknowledged,
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
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _read_failed(self, exc: sqlite3.Error, epoch: int) -> None:
        """Report a failed read of the file of ``epoch``; damage is left to the writer."""
        if is_damaged(exc):
            with self._cond:
                self._quarantine_cause = f"the file is damaged: {exc}"
                self._quarantine_epoch = epoch
                self._cond.notify_all()
            cause = f"the file is damaged: {exc}"
        else:
            cause = f"cannot read: {exc} ({getattr(exc, 'sqlite_errorname', '')})"
        self._read_trouble.log(logging.ERROR, "outbox %s: %s", self.path, cause)

    # Reading rows (reader connection, under _read_lock).

    def _scan(
        self, reader: sqlite3.Connection, *, after: int, before: int | None, limit: int
    ) -> list[Row]:
        """Rows with ``after < id < before``, in id order, at most ``limit``."""
        if before is None:
            raw = reader.execute(
                "SELECT id, device, event, body FROM reading WHERE id > ? ORDER BY id LIMIT ?",
                (after, limit),
            ).fetchall()
        else:
            raw = reader.execute(
                "SELECT id, device, event, body FROM reading WHERE id > ? AND id < ?"
                " ORDER BY id LIMIT ?",
                (after, before, limit),
            ).fetchall()
        return [Row(i, self._device_name(reader, d), bytes(b), bool(e)) for i, d, e, b in raw]

    def _batch(self, rows: list[Row], exclude: frozenset[int], max_batches: int) -> BatchPlan:
        return plan_batches(
            rows,
            exclude=exclude,
            max_batches=max_batches,
            max_per_message=self.settings.max_per_message,
            max_message_bytes=self.settings.max_message_bytes,
        )

    def _device_name(self, reader: sqlite3.Connection, device: int) -> str:
        name = self._device_names.get(device)
        if name is None:
            self._device_names = dict(reader.execute("SELECT id, name FROM device").fetchall())
            name = self._device_names[device]
        return name

    def _register(self, plan: BatchPlan, *, historical: bool) -> list[OutboxBatch]:
        """Record ``plan``'s batches as in flight (called with _cond held)."""
        batches = []
        for rows in plan.batches:
            batch = OutboxBatch(
                id=next(self._batch_ids),
                device=rows[0].device,
                historical=historical,
                reading_ids=tuple(r.id for r in rows),
                readings=tuple(r.body for r in rows),
                event_flags=tuple(r.is_event for r in rows),
            )
            self._batches[batch.id] = batch
            self._excluded.update(batch.reading_ids)
            self._in_flight[historical] += 1
            batches.append(batch)
        return batches


def _advance(current: int, scanned_to: int | None, *, released: bool) -> int:
    """A lane's cursor after a take: past the rows scanned, unless a release moved it back.

    After a release during the take the lower value stands: those rows are scanned again.
    """
    if scanned_to is None:
        return current
    return min(current, scanned_to) if released else max(current, scanned_to)


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172_800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86_400:.1f} days"
