"""The durable outbox's IO: one SQLite file in WAL mode, one writer thread, one reader.

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
    :data:`DELETE_CHUNK`, and the writer returns to waiting appends between chunks.
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

import contextlib
import errno
import fcntl
import logging
import os
import shutil
import sqlite3
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import count
from pathlib import Path
from typing import TYPE_CHECKING, Final, Literal, Self

from edge_agent.errors import AgentError
from edge_agent.outbox.policy import (
    BatchPlan,
    EvictionReason,
    LiveBoundary,
    ReadingClass,
    ReplayPacer,
    Row,
    Victims,
    age_cutoff_ns,
    choose_size_victims,
    expired,
    plan_batches,
    rows_to_evict,
    slots,
)
from edge_agent.outbox.settings import ENVELOPE_MARGIN_BYTES
from pelangi.payloads import MAX_PAYLOAD_BYTES, SCHEMA_VERSION
from pelangi.throttle import LogThrottle
from pelangi.topics import check_ident

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Sequence
    from types import TracebackType

    from edge_agent.outbox.settings import OutboxSettings

log = logging.getLogger(__name__)

STORE_VERSION: Final = 1
"""``PRAGMA user_version`` of the file layout below."""
WAL_LIMIT_BYTES: Final = 8 * 1024 * 1024
"""The WAL is truncated back to this after a checkpoint (it is reused, not regrown)."""
CHECKPOINT_BYTES: Final = 4 * 1024 * 1024
"""WAL size at which the background checkpointer is asked to copy it into the database."""
CHECKPOINT_URGENT_BYTES: Final = 64 * 1024 * 1024
"""WAL size at which the writer checkpoints itself (the background one fell behind)."""
AGE_CHECK_S: Final = 60.0
"""How often the writer looks for readings past their age limit."""
AGE_SCAN_ROWS: Final = 1000
MAX_EVICTION_ROUNDS: Final = 50
"""Size eviction measures again after each round; this bounds a bad estimate."""
MAX_READING_BYTES: Final = MAX_PAYLOAD_BYTES - ENVELOPE_MARGIN_BYTES
BUSY_TIMEOUT_S: Final = 5.0
DELETE_CHUNK: Final = 1000
"""Acknowledged rows deleted per transaction: bounds how long an append may wait."""

_SCHEMA: Final = (
    "CREATE TABLE IF NOT EXISTS device (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)",
    # AUTOINCREMENT: ids are never reused, so a row stored after the newest one was
    # acknowledged cannot land behind a cursor. ``device`` is a number: saves ~15 B/row.
    (
        "CREATE TABLE IF NOT EXISTS reading (id INTEGER PRIMARY KEY AUTOINCREMENT,"
        " device INTEGER NOT NULL, event INTEGER NOT NULL, ts INTEGER NOT NULL,"
        " body BLOB NOT NULL)"
    ),
    # (event, rowid) order: oldest telemetry / oldest events without a scan, ~10 B/row.
    "CREATE INDEX IF NOT EXISTS reading_by_class ON reading (event)",
    (
        "CREATE TABLE IF NOT EXISTS counter (name TEXT PRIMARY KEY, value INTEGER NOT NULL)"
        " WITHOUT ROWID"
    ),
)
_INSERT: Final = "INSERT INTO reading (device, event, ts, body) VALUES (?, ?, ?, ?)"
IN_LIST: Final = 250
"""Ids per DELETE statement (old SQLite builds allow 999 parameters)."""
_DELETE: Final = f"DELETE FROM reading WHERE id IN ({', '.join('?' * IN_LIST)})"  # noqa: S608 - placeholders only
_BUMP: Final = (
    "INSERT INTO counter (name, value) VALUES (?, ?)"
    " ON CONFLICT (name) DO UPDATE SET value = value + excluded.value"
)
_QUARANTINED: Final = "quarantined"


class OutboxError(AgentError):
    """The outbox cannot store (or open) readings.

    Attributes:
        path: the database file.
        cause: what went wrong, in words (e.g. "the disk is full (0 B free)").
    """

    def __init__(self, path: Path, cause: str) -> None:
        """Create the error for ``path``; the message reads ``outbox <path>: <cause>``."""
        self.path = path
        self.cause = cause
        super().__init__(f"outbox {path}: {cause}")


class _DamagedError(Exception):
    """The database file is damaged (internal: leads to quarantine, never escapes)."""


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """One reading to store: see :meth:`Outbox.append` for the fields."""

    device: str
    reading: bytes
    is_event: bool
    ts: int


@dataclass(frozen=True, slots=True)
class OutboxBatch:
    """Readings of one device, oldest first, to be sent as one message.

    Attributes:
        id: names the batch in :meth:`Outbox.ack` and :meth:`Outbox.release` (unique for
            the life of the process).
        device: the device the readings belong to.
        historical: True for the backlog lane (stored more than ``live_window_s`` ago):
            the collector stores these but raises no alarms.
        reading_ids: the outbox's row ids, ascending.
        readings: each reading's JSON, as appended.
        event_flags: per reading, whether it was appended as an event.
    """

    id: int
    device: str
    historical: bool
    reading_ids: tuple[int, ...]
    readings: tuple[bytes, ...]
    event_flags: tuple[bool, ...]

    def __len__(self) -> int:
        """How many readings the batch holds."""
        return len(self.readings)

    def payload(self, site: str, gateway: str) -> bytes:
        """The MQTT payload: an :class:`pelangi.payloads.Envelope` holding the readings.

        Built by joining the stored JSON rather than re-validating every reading: replay
        runs at tens of thousands of readings a second. Identifiers are checked, so
        nothing here can break the JSON.
        """
        check_ident(site, "site")
        check_ident(gateway, "gateway")
        head = (
            f'{{"v":{SCHEMA_VERSION},"site":"{site}","gateway":"{gateway}",'
            f'"device":"{self.device}","historical":{"true" if self.historical else "false"},'
            '"readings":['
        )
        return head.encode() + b",".join(self.readings) + b"]}"


@dataclass(frozen=True, slots=True)
class OutboxStats:
    """A snapshot of the outbox, for health readings and the statistics log.

    Eviction and rejection counts are kept in the database: they survive restarts.
    """

    path: str
    available: bool
    """False while the database cannot be opened (see ``error``)."""
    error: str | None
    """The latest problem storing readings; None once storing works again."""
    telemetry: int
    events: int
    used_bytes: int
    """Bytes of database pages in use (the file itself never shrinks)."""
    max_bytes: int
    oldest_age_s: float | None
    """Age of the oldest stored reading by its ``ts`` (None when empty)."""
    in_flight_messages: int
    in_flight_readings: int
    appended: int
    """Readings accepted since this outbox was opened."""
    refused: int
    """Readings append() could not store since this outbox was opened."""
    acknowledged: int
    """Readings acknowledged since this outbox was opened."""
    evicted_telemetry_size: int
    evicted_telemetry_age: int
    evicted_event_size: int
    evicted_event_age: int
    rejected: int
    """Readings the broker refused (acked with ``rejected=True``), all time."""
    quarantined: int
    """Damaged database files moved aside, all time (since the last one)."""

    @property
    def readings(self) -> int:
        """Readings stored (telemetry and events)."""
        return self.telemetry + self.events

    @property
    def evicted(self) -> int:
        """Readings evicted, all classes and reasons, all time."""
        return (
            self.evicted_telemetry_size
            + self.evicted_telemetry_age
            + self.evicted_event_size
            + self.evicted_event_age
        )


@dataclass(eq=False)
class _Group:
    """Appends that will share one commit."""

    entries: list[OutboxEntry] = field(default_factory=list)
    ids: list[int] | None = None
    error: OutboxError | None = None
    done: bool = False


@dataclass(frozen=True, slots=True)
class _Job:
    """What the writer does in one round."""

    group: _Group | None
    deletes: list[tuple[int, bool]]
    rejected: Counter[ReadingClass]
    limits: bool
    flush: int
    stop: bool
    epoch: int
    """The file the deletes refer to: they are dropped if it was replaced meanwhile."""


def _counter_name(
    cls: ReadingClass, reason: EvictionReason | Literal["size", "age", "rejected"]
) -> str:
    """Name of a persistent counter, e.g. ``size.telemetry``."""
    return f"{reason}.{cls}"


class _Checkpointer:
    """Copies the WAL into the database file from its own thread and connection.

    SQLite's automatic checkpoint runs inside whichever commit crosses the threshold:
    a card tap's commit could wait ~100 ms for 4 MB to be copied and synced. Here the
    writer only asks, and commits go on while the copy runs (PASSIVE mode never blocks
    them). Its syncs follow ``synchronous=FULL``: WAL before copying, database after.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._wake = threading.Event()
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="outbox-checkpoint", daemon=True)
        self._thread.start()

    def poke(self) -> None:
        """Ask for a checkpoint soon."""
        self._wake.set()

    def stop(self) -> None:
        """Finish the running checkpoint, if any, and close the connection."""
        self._stop = True
        self._wake.set()
        self._thread.join()

    def _run(self) -> None:
        db: sqlite3.Connection | None = None
        while True:
            self._wake.wait()
            self._wake.clear()
            if self._stop:
                break
            try:
                if db is None:
                    db = _connect(self._path)
                    db.execute("PRAGMA synchronous = FULL")
                db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            except sqlite3.Error as exc:
                # The writer meets the same trouble and reports it; it checkpoints itself
                # if the WAL keeps growing.
                log.debug("outbox checkpoint failed: %s", exc)
                _close(db)
                db = None
        _close(db)


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
        self._read_lock = threading.Lock()  # the reader connection; taken before _cond
        self._opened = threading.Event()
        self._thread = threading.Thread(target=self._run, name="outbox-writer", daemon=True)
        # Writer thread only.
        self._db: sqlite3.Connection | None = None
        self._checkpointer: _Checkpointer | None = None
        self._wal_path = Path(f"{path}-wal")
        self._lock_fd: int | None = None
        self._device_ids: dict[str, int] = {}
        self._next_age_check = 0.0
        self._next_retry = 0.0
        self._opened_before = False
        # Reader side (under _read_lock).
        self._reader: sqlite3.Connection | None = None
        self._device_names: dict[int, str] = {}
        # Shared state, under _cond.
        self._group = _Group()
        self._deletes: list[tuple[int, bool]] = []
        self._rejected_pending: Counter[ReadingClass] = Counter()
        self._limits_requested = False
        self._quarantine_cause: str | None = None
        self._quarantine_epoch = 0  # the file the cause was found in (ignored once replaced)
        self._flush_requested = self._flushed = 0
        self._stop = False
        self._closed = False
        self._error: str | None = None
        self._failing = False  # the last open or write failed: background work waits for retry
        self._quarantines = 0  # files moved aside, not yet counted in the new database
        self._counts: dict[ReadingClass, int] = dict.fromkeys(ReadingClass, 0)
        self._used_bytes = 0
        self._persistent: Counter[str] = Counter()
        self._appended = self._refused = self._acknowledged = 0
        self._batches: dict[int, OutboxBatch] = {}
        self._batch_ids = count(1)
        self._excluded: set[int] = set()  # in flight, or acknowledged and not yet deleted
        self._in_flight = {False: 0, True: 0}  # messages per lane (historical?)
        self._hist_cursor = self._live_cursor = 0  # last row id scanned, per lane
        self._release_gen = 0
        self._epoch = 0  # bumped when the database is replaced: old batches mean nothing
        self._boundary = LiveBoundary(settings.live_window_s)
        self._pacer = ReplayPacer(settings.replay_max_readings_per_s, settings.take_max_readings)
        self._paced_until: float | None = None  # the backlog waits for the pacer until then
        self._work = False
        self._write_trouble = LogThrottle(burst=1, interval_s=300.0)
        self._read_trouble = LogThrottle(burst=1, interval_s=300.0)
        self._evictions = LogThrottle(burst=3, interval_s=300.0)

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
            OutboxError: the reading could not be stored (disk full, folder not
                writable, outbox closed); it was not accepted.
        """
        return self.append_many([OutboxEntry(device, reading, is_event, ts)])[0]

    def append_many(self, entries: Sequence[OutboxEntry]) -> list[int]:
        """Store several readings in one commit; all are accepted or none (see append)."""
        for entry in entries:
            _check_entry(entry)
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
                    oldest = self._oldest_ts(self._reader)
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
                evicted_telemetry_size=persistent[_counter_name(ReadingClass.TELEMETRY, "size")],
                evicted_telemetry_age=persistent[_counter_name(ReadingClass.TELEMETRY, "age")],
                evicted_event_size=persistent[_counter_name(ReadingClass.EVENT, "size")],
                evicted_event_age=persistent[_counter_name(ReadingClass.EVENT, "age")],
                rejected=sum(persistent[_counter_name(c, "rejected")] for c in ReadingClass),
                quarantined=persistent[_QUARANTINED],
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

    # The writer thread.

    def _run(self) -> None:
        try:
            self._attempt_open()
        except Exception:  # a bug must not leave open() waiting forever
            log.exception("outbox %s: opening failed unexpectedly", self.path)
        finally:
            self._opened.set()
        while True:
            job = self._next_job()
            try:
                self._do(job)
            except Exception as exc:  # a bug must not leave appenders waiting forever
                log.exception("outbox writer failed unexpectedly")
                self._fail(job, OutboxError(self.path, f"internal error: {exc!r}"))
            if job.stop:
                break
        self._shutdown()

    def _next_job(self) -> _Job:
        with self._cond:
            while True:
                now = self._monotonic()
                urgent = (
                    bool(self._group.entries)  # every append is an attempt, failing or not
                    or self._flush_requested > self._flushed
                    or self._limits_requested
                    or self._quarantine_cause is not None
                    or self._stop
                )
                if self._failing:
                    # Deletes and periodic checks wait for the retry time: no busy loop
                    # while the disk is full.
                    due = self._next_retry
                    ready = urgent or now >= due
                else:
                    due = self._next_age_check
                    background = bool(self._deletes or self._rejected_pending)
                    ready = urgent or background or now >= due
                if ready:
                    group = self._group if self._group.entries else None
                    if group is not None:
                        self._group = _Group()
                    job = _Job(
                        group=group,
                        deletes=self._deletes,
                        rejected=self._rejected_pending,
                        limits=self._limits_requested,
                        flush=self._flush_requested,
                        stop=self._stop,
                        epoch=self._epoch,
                    )
                    self._deletes = []
                    self._rejected_pending = Counter()
                    self._limits_requested = False
                    return job
                self._cond.wait(max(0.0, due - now))

    def _do(self, job: _Job) -> None:
        if not self._ready(job):
            return
        wrote = False
        if job.group is not None:
            error = self._store_or_recover(job.group)
            if error is not None:
                self._fail(job, error)
                return
            wrote = True
        if job.deletes or job.rejected:
            try:
                wrote |= self._apply_acks(job)
            except _DamagedError as exc:
                wrote = False
                with self._cond:
                    self._quarantine_cause = str(exc)
                    self._quarantine_epoch = self._epoch
            except OutboxError as exc:
                wrote = False  # the error stands until a write succeeds
                self._complain(exc)  # the deletes not done were put back
        self._after_commit(job, wrote=wrote)

    def _ready(self, job: _Job) -> bool:
        """Replace a file found damaged and open the database; fail ``job`` if it cannot."""
        with self._cond:
            cause, self._quarantine_cause = self._quarantine_cause, None
            if self._quarantine_epoch != self._epoch:
                cause = None  # found in a file already replaced
        if cause is not None:
            self._replace_damaged(cause)
        if self._db is None:
            self._attempt_open()
        if self._db is None:
            self._fail(job, OutboxError(self.path, self._error or "cannot open"), complain=False)
            return False
        return True

    def _err(self, exc: Exception) -> OutboxError:
        return OutboxError(self.path, str(exc))

    def _store_or_recover(self, group: _Group) -> OutboxError | None:
        """Store ``group``; if the file turns out damaged, replace it and store it there."""
        try:
            self._store(group)
        except OutboxError as exc:
            return exc
        except _DamagedError as exc:
            self._replace_damaged(str(exc))
            self._attempt_open()
            if self._db is None:
                return OutboxError(self.path, self._error or str(exc))
            try:
                self._store(group)
            except OutboxError as again:
                return again
            except _DamagedError as again:
                return self._err(again)
        return None

    def _store(self, group: _Group) -> None:
        """Insert the group in one transaction (fsync-ed with sync=full), then release it.

        Appenders are released before acknowledged deletes are applied: a card tap never
        waits behind a replay's deletes. Raises OutboxError or _DamagedError.
        """
        db = self._db
        assert db is not None  # noqa: S101 - checked by _ready
        new_devices: dict[str, int] = {}
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                first_id = self._insert(db, group.entries, new_devices)
                db.execute("COMMIT")
            except BaseException:
                _rollback(db)
                raise
        except sqlite3.Error as exc:
            raise self._write_error(exc) from None
        self._checkpoint_if_due()
        self._device_ids.update(new_devices)
        with self._cond:
            group.ids = list(range(first_id, first_id + len(group.entries)))
            group.done = True
            self._boundary.record(first_id, self._monotonic())
            for entry in group.entries:
                self._counts[ReadingClass.of(is_event=entry.is_event)] += 1
            self._appended += len(group.entries)
            self._work = True
            self._cond.notify_all()

    def _insert(
        self, db: sqlite3.Connection, entries: list[OutboxEntry], new_devices: dict[str, int]
    ) -> int:
        """Insert ``entries`` (inside a transaction); return the first new row id."""
        rows = []
        for entry in entries:
            device = self._device_ids.get(entry.device, new_devices.get(entry.device))
            if device is None:
                cur = db.execute("INSERT INTO device (name) VALUES (?)", (entry.device,))
                device = _rowid(cur)
                new_devices[entry.device] = device
            rows.append((device, int(entry.is_event), entry.ts, entry.reading))
        db.executemany(_INSERT, rows)
        # One writer, one transaction, AUTOINCREMENT: the new ids are consecutive.
        return _scalar(db, "SELECT last_insert_rowid()") - len(rows) + 1

    def _apply_acks(self, job: _Job) -> bool:
        """Delete acknowledged rows in chunks, yielding to waiting appends between chunks.

        Returns True if anything was written. What is left undone goes back to the
        pending deletes (also when a chunk fails; then the error is raised).
        """
        if job.epoch != self._epoch:
            return False  # they name rows of a file that was replaced
        done = 0
        rejected = job.rejected
        try:
            while done < len(job.deletes) or rejected:
                chunk = job.deletes[done : done + DELETE_CHUNK]
                self._delete_chunk(chunk, rejected)
                done += len(chunk)
                rejected = Counter()
                with self._cond:
                    if self._group.entries:
                        break
        finally:
            with self._cond:
                self._deletes[:0] = job.deletes[done:]
                self._rejected_pending.update(rejected)
        return True

    def _delete_chunk(self, chunk: list[tuple[int, bool]], rejected: Counter[ReadingClass]) -> None:
        db = self._db
        assert db is not None  # noqa: S101 - checked by _ready
        try:
            with self._relaxed(db):
                db.execute("BEGIN IMMEDIATE")
                try:
                    deleted = _delete(db, chunk)
                    bumps = [(_counter_name(c, "rejected"), n) for c, n in rejected.items()]
                    db.executemany(_BUMP, bumps)
                    db.execute("COMMIT")
                except BaseException:
                    _rollback(db)
                    raise
        except sqlite3.Error as exc:
            raise self._write_error(exc) from None
        self._checkpoint_if_due()
        with self._cond:
            for cls, n in deleted.items():
                self._counts[cls] -= n
            for cls, n in rejected.items():
                self._persistent[_counter_name(cls, "rejected")] += n
            self._excluded.difference_update(i for i, _ in chunk)

    @contextlib.contextmanager
    def _relaxed(self, db: sqlite3.Connection) -> Iterator[None]:
        """Commit without fsync: for deletes, whose loss costs a duplicate, never a reading.

        Safe in WAL mode: the frames of a later synced commit, or of a checkpoint (which
        syncs the WAL first), make these durable too; a power cut can only roll back the
        unsynced tail of the WAL, never an earlier synced commit.
        """
        if self.settings.sync != "full":
            yield
            return
        db.execute("PRAGMA synchronous = NORMAL")
        try:
            yield
        finally:
            db.execute("PRAGMA synchronous = FULL")

    def _after_commit(self, job: _Job, *, wrote: bool) -> None:
        recovered = False
        with self._cond:
            if wrote:  # a transaction went through: writing works
                self._failing = False
                if self._error is not None:
                    recovered = True
                    self._error = None
        if recovered:
            self._write_trouble.reset()
            log.info("outbox %s stores readings again", self.path)
        try:
            now = self._monotonic()
            # (After a failed delete the database may be closed: the next round reopens it.)
            if self._db is not None and (job.group is not None or job.limits):
                self._enforce_size()
            if self._db is not None and (job.limits or now >= self._next_age_check):
                self._next_age_check = now + AGE_CHECK_S
                self._enforce_age()
        except _DamagedError as exc:
            with self._cond:
                self._quarantine_cause = str(exc)
                self._quarantine_epoch = self._epoch
        except OutboxError as exc:
            self._complain(exc)
        with self._cond:
            self._flushed = max(self._flushed, job.flush)
            self._cond.notify_all()

    def _fail(self, job: _Job, error: OutboxError, *, complain: bool = True) -> None:
        """The job could not be done: fail its appends, keep its deletes for later."""
        if complain:
            self._complain(error)
        with self._cond:
            if job.group is not None and not job.group.done:
                job.group.error = error
                job.group.done = True
                self._refused += len(job.group.entries)
            if job.epoch == self._epoch:
                self._deletes[:0] = job.deletes
                self._rejected_pending.update(job.rejected)
            self._flushed = max(self._flushed, job.flush)
            self._cond.notify_all()

    def _complain(self, error: OutboxError) -> None:
        now = self._monotonic()
        with self._cond:
            self._error = error.cause
            self._failing = True
            self._next_retry = now + self.settings.retry_s
        if self._write_trouble.allow(now):
            log.error("%s; readings cannot be stored durably until this is fixed", error)
        missed = self._write_trouble.due(now).total()
        if missed:
            log.error("%s (%d more failures)", error, missed)

    # Limits.

    def _enforce_size(self) -> None:
        db = self._db
        assert db is not None  # noqa: S101 - only called with an open database
        for _ in range(MAX_EVICTION_ROUNDS):
            try:
                used = _used_bytes(db)
            except sqlite3.Error as exc:
                raise self._write_error(exc) from None
            with self._cond:
                self._used_bytes = used
                rows = sum(self._counts.values())
                exclude = frozenset(self._excluded)
            wanted = rows_to_evict(used_bytes=used, max_bytes=self.settings.max_bytes, rows=rows)
            if wanted == 0:
                return
            limit = wanted + len(exclude)
            try:
                telemetry = _oldest_ids(db, is_event=False, limit=limit)
                events = _oldest_ids(db, is_event=True, limit=limit)
            except sqlite3.Error as exc:
                raise self._write_error(exc) from None
            victims = choose_size_victims(telemetry, events, wanted, exclude)
            if not victims:
                log.warning(
                    "outbox %s is over its limit (%d of %d bytes) but every reading in it "
                    "is in flight; evicting again after the broker answers",
                    self.path,
                    used,
                    self.settings.max_bytes,
                )
                return
            self._evict(victims, EvictionReason.SIZE)

    def _enforce_age(self) -> None:
        db = self._db
        assert db is not None  # noqa: S101 - only called with an open database
        now_ns = self._wall_ns()
        limits = (
            (ReadingClass.TELEMETRY, self.settings.max_age_s),
            (ReadingClass.EVENT, self.settings.event_max_age_s),
        )
        for cls, max_age_s in limits:
            cutoff = age_cutoff_ns(now_ns, max_age_s)
            after = 0
            while True:
                try:
                    rows = db.execute(
                        "SELECT id, ts FROM reading WHERE event = ? AND id > ? ORDER BY id LIMIT ?",
                        (int(cls is ReadingClass.EVENT), after, AGE_SCAN_ROWS),
                    ).fetchall()
                except sqlite3.Error as exc:
                    raise self._write_error(exc) from None
                if not rows:
                    break
                with self._cond:
                    exclude = frozenset(self._excluded)
                victims = expired(rows, cutoff, exclude)
                if victims:
                    is_event = cls is ReadingClass.EVENT
                    self._evict(
                        Victims(
                            telemetry=() if is_event else tuple(victims),
                            events=tuple(victims) if is_event else (),
                        ),
                        EvictionReason.AGE,
                    )
                # ts grows with id: a page without expired rows means the rest is younger.
                if not victims or len(rows) < AGE_SCAN_ROWS:
                    break
                after = rows[-1][0]

    def _evict(self, victims: Victims, reason: EvictionReason) -> None:
        db = self._db
        assert db is not None  # noqa: S101 - only called with an open database
        deleted = dict.fromkeys(ReadingClass, 0)
        try:
            with self._relaxed(db):  # an eviction lost to a power cut is simply redone
                self._evict_in_transaction(db, victims, reason, deleted)
        except sqlite3.Error as exc:
            raise self._write_error(exc) from None
        self._checkpoint_if_due()
        with self._cond:
            for cls, n in deleted.items():
                self._counts[cls] -= n
                self._persistent[_counter_name(cls, reason)] += n
        self._report_eviction(deleted, reason)

    @staticmethod
    def _evict_in_transaction(
        db: sqlite3.Connection,
        victims: Victims,
        reason: EvictionReason,
        deleted: dict[ReadingClass, int],
    ) -> None:
        """Delete ``victims`` and count them, in one transaction (both or neither)."""
        db.execute("BEGIN IMMEDIATE")
        try:
            for cls, ids in (
                (ReadingClass.TELEMETRY, victims.telemetry),
                (ReadingClass.EVENT, victims.events),
            ):
                deleted[cls] = _delete_ids(db, ids)
            bumps = [(_counter_name(c, reason), n) for c, n in deleted.items() if n]
            db.executemany(_BUMP, bumps)
            db.execute("COMMIT")
        except BaseException:
            _rollback(db)
            raise

    def _report_eviction(self, deleted: dict[ReadingClass, int], reason: EvictionReason) -> None:
        telemetry, events = deleted[ReadingClass.TELEMETRY], deleted[ReadingClass.EVENT]
        now = self._monotonic()
        if self._evictions.allow(now, str(reason)):
            why = (
                f"it is over its size limit of {self.settings.max_bytes} bytes"
                if reason is EvictionReason.SIZE
                else "they are older than the age limit"
            )
            level = logging.ERROR if events else logging.WARNING
            log.log(
                level,
                "outbox %s evicted %d telemetry and %d event readings, oldest first, because %s",
                self.path,
                telemetry,
                events,
                why,
            )
        missed = self._evictions.due(now)
        if missed:
            log.warning(
                "outbox %s went on evicting (%s more rounds)",
                self.path,
                ", ".join(f"{n} for {k}" for k, n in sorted(missed.items())),
            )

    # Opening, closing and damaged files.

    def _attempt_open(self) -> None:
        if self._db is not None:
            return
        try:
            try:
                self._open_db()
            except _DamagedError as exc:
                self._replace_damaged(str(exc))
                self._open_db()
        except (OutboxError, _DamagedError) as exc:
            self._close_connections()
            self._complain(exc if isinstance(exc, OutboxError) else self._err(exc))

    def _open_db(self) -> None:
        """Open the database and its reader; raise OutboxError or _DamagedError."""
        folder = self.path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutboxError(
                self.path, f"cannot create the folder {folder}: {_os_cause(exc, folder)}"
            ) from None
        self._take_file_lock()
        db: sqlite3.Connection | None = None
        reader: sqlite3.Connection | None = None
        try:
            db = _connect(self.path)
            self._prepare(db)
            _fsync_dir(folder)  # the file and its WAL exist now: make their names durable
            loaded = _load(db)
            reader = _connect(self.path)
            reader.execute("PRAGMA query_only = 1")
        except sqlite3.Error as exc:
            _close(reader)
            _close(db)
            if _is_damaged(exc):
                raise _DamagedError(f"the file is damaged: {exc}") from None
            raise self._write_error(exc, opening=True) from None
        except OutboxError:
            _close(reader)
            _close(db)
            raise
        except OSError as exc:
            _close(reader)
            _close(db)
            raise OutboxError(self.path, f"cannot open: {_os_cause(exc, folder)}") from None
        self._db = db
        reopened, self._opened_before = self._opened_before, True
        self._checkpointer = _Checkpointer(self.path)
        self._quarantines = 0
        self._device_ids = loaded.devices
        with self._read_lock:
            self._reader = reader
            self._device_names = {}
        with self._cond:
            self._counts = loaded.counts
            self._persistent = loaded.counters
            self._used_bytes = loaded.used_bytes
            self._error = None
            self._failing = False
            self._work = True  # whatever is stored can go out
            self._cond.notify_all()
        self._write_trouble.reset()
        # Reopening after a write error is routine while a disk is full: not worth a line.
        log.log(
            logging.DEBUG if reopened else logging.INFO,
            "outbox %s open: %d telemetry and %d event readings waiting (%.1f MB)",
            self.path,
            loaded.counts[ReadingClass.TELEMETRY],
            loaded.counts[ReadingClass.EVENT],
            loaded.used_bytes / 1e6,
        )

    def _prepare(self, db: sqlite3.Connection) -> None:
        """Set WAL mode and durability, create or check the layout."""
        mode = _scalar_text(db, "PRAGMA journal_mode = WAL")
        if mode.lower() != "wal":
            raise OutboxError(self.path, f"cannot use WAL mode (journal_mode is {mode!r})")
        db.execute(f"PRAGMA synchronous = {self.settings.sync.upper()}")
        db.execute(f"PRAGMA journal_size_limit = {WAL_LIMIT_BYTES}")
        db.execute("PRAGMA wal_autocheckpoint = 0")  # see _Checkpointer
        version = _scalar(db, "PRAGMA user_version")
        if version > STORE_VERSION:
            raise OutboxError(
                self.path,
                f"the file was written by a newer agent (layout {version}; this agent "
                f"understands {STORE_VERSION}); move it aside or upgrade the agent",
            )
        db.execute("BEGIN IMMEDIATE")
        try:
            for statement in _SCHEMA:
                db.execute(statement)
            db.execute(f"PRAGMA user_version = {STORE_VERSION}")
            if self._quarantines:
                db.execute(_BUMP, (_QUARANTINED, self._quarantines))
            db.execute("COMMIT")
        except BaseException:
            _rollback(db)
            raise

    def _take_file_lock(self) -> None:
        """Hold a lock file so two agents never share one outbox (each would send it all)."""
        if self._lock_fd is not None:
            return
        lock_path = Path(f"{self.path}.lock")
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise OutboxError(
                self.path, f"cannot create the lock file {lock_path}: {_os_cause(exc, lock_path)}"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise OutboxError(
                self.path,
                "another process is using this outbox (is a second agent running with the "
                "same state_dir?)",
            ) from None
        self._lock_fd = fd

    def _replace_damaged(self, cause: str) -> None:
        """Move a damaged file (and its WAL) aside; the caller opens a fresh one."""
        self._close_connections()
        stamp = datetime.fromtimestamp(self._wall_ns() / 1e9, UTC).strftime("%Y%m%dT%H%M%SZ")
        target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        suffix = 1
        while target.exists():
            suffix += 1
            target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}-{suffix}")
        try:
            self.path.replace(target)
            wal = Path(f"{self.path}-wal")
            if wal.exists():
                wal.replace(Path(f"{target}-wal"))
            Path(f"{self.path}-shm").unlink(missing_ok=True)
            _fsync_dir(self.path.parent)
        except OSError as exc:
            error = OutboxError(
                self.path,
                f"{cause}, and it cannot be moved aside: {_os_cause(exc, self.path)}",
            )
            self._complain(error)
            return
        log.error(
            "outbox %s: %s; moved it aside to %s and started a new, empty outbox. Readings "
            "in the damaged file were not sent; keep it for recovery",
            self.path,
            cause,
            target,
        )
        with self._cond:
            self._epoch += 1
            self._batches.clear()
            self._excluded.clear()
            self._in_flight = {False: 0, True: 0}
            self._hist_cursor = self._live_cursor = 0
            self._boundary.clear()
            self._deletes.clear()
            self._rejected_pending.clear()
            self._counts = dict.fromkeys(ReadingClass, 0)
            self._persistent = Counter()
        self._quarantines += 1

    def _close_connections(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer = None
        with self._read_lock:
            _close(self._reader)
            self._reader = None
        _close(self._db)  # the last connection to close checkpoints and removes the WAL
        self._db = None

    def _checkpoint_if_due(self) -> None:
        """Ask for a checkpoint when the WAL has grown; do it here if it ran away."""
        try:
            wal_bytes = self._wal_path.stat().st_size
        except OSError:
            return
        if wal_bytes >= CHECKPOINT_URGENT_BYTES and self._db is not None:
            try:
                self._db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            except sqlite3.Error as exc:
                raise self._write_error(exc) from None
        elif wal_bytes >= CHECKPOINT_BYTES and self._checkpointer is not None:
            self._checkpointer.poke()

    def _shutdown(self) -> None:
        self._close_connections()
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the flock
            self._lock_fd = None
        with self._cond:
            self._closed = True
            # Appends that arrived after the last round: tell them.
            if self._group.entries:
                self._group.error = OutboxError(self.path, "the outbox is closed")
                self._group.done = True
            self._cond.notify_all()

    # Errors.

    def _write_error(self, exc: sqlite3.Error, *, opening: bool = False) -> OutboxError:
        """Translate an sqlite3 error into words; close the connection if it may be stale."""
        if _is_damaged(exc):
            raise _DamagedError(f"the file is damaged: {exc}")
        name = getattr(exc, "sqlite_errorname", "") or type(exc).__name__
        verb = "cannot open" if opening else "cannot write"
        free = _free_space(self.path.parent)
        if name == "SQLITE_FULL":
            cause = f"{verb}: the disk is full ({free} free)"
        elif name.startswith("SQLITE_IOERR"):
            cause = f"{verb}: disk I/O error ({name}); is the disk full ({free} free) or failing?"
        elif name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_AUTH")):
            cause = (
                f"{verb}: the file or its folder is read-only or not writable by the agent "
                f"({exc}; {name})"
            )
        elif name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
            cause = f"{verb}: the database is locked by another process ({name})"
        else:
            cause = f"{verb}: {exc} ({name})"
        if not opening and not name.startswith(("SQLITE_FULL", "SQLITE_BUSY")):
            # After an I/O error SQLite may hold state it cannot trust: reopen next time.
            self._close_connections()
        return OutboxError(self.path, cause)

    def _read_failed(self, exc: sqlite3.Error, epoch: int) -> None:
        """Report a failed read of the file of ``epoch``; damage is left to the writer."""
        if _is_damaged(exc):
            with self._cond:
                self._quarantine_cause = f"the file is damaged: {exc}"
                self._quarantine_epoch = epoch
                self._cond.notify_all()
            cause = f"the file is damaged: {exc}"
        else:
            cause = f"cannot read: {exc} ({getattr(exc, 'sqlite_errorname', '')})"
        now = self._monotonic()
        if self._read_trouble.allow(now):
            log.error("outbox %s: %s", self.path, cause)

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

    @staticmethod
    def _oldest_ts(reader: sqlite3.Connection) -> int | None:
        oldest = [
            row[0]
            for event in (0, 1)
            for row in reader.execute(
                "SELECT ts FROM reading WHERE event = ? ORDER BY id LIMIT 1", (event,)
            )
        ]
        return min(oldest) if oldest else None


def _delete(db: sqlite3.Connection, deletes: list[tuple[int, bool]]) -> dict[ReadingClass, int]:
    """Delete rows ``(id, is_event)`` (inside a transaction); return how many, per class."""
    deleted = dict.fromkeys(ReadingClass, 0)
    for cls in ReadingClass:
        is_event = cls is ReadingClass.EVENT
        deleted[cls] = _delete_ids(db, [i for i, flag in deletes if flag is is_event])
    return deleted


def _delete_ids(db: sqlite3.Connection, ids: Sequence[int]) -> int:
    """Delete rows by id; return how many existed.

    One statement per IN_LIST ids rather than one per id: the sqlite3 module takes the
    GIL back after every row of an ``executemany``, and a replay's thousands of deletes
    would make every other thread (a card tap's append) queue for it. The last slice is
    padded with a repeated id so one prepared statement serves all.
    """
    deleted = 0
    for start in range(0, len(ids), IN_LIST):
        part = list(ids[start : start + IN_LIST])
        part += [part[-1]] * (IN_LIST - len(part))
        deleted += db.execute(_DELETE, part).rowcount
    return deleted


@dataclass(frozen=True, slots=True)
class _Loaded:
    """What the writer reads from a database it opens."""

    counts: dict[ReadingClass, int]
    counters: Counter[str]
    devices: dict[str, int]
    used_bytes: int


def _load(db: sqlite3.Connection) -> _Loaded:
    # Reading the whole index and the small tables doubles as a check of the file.
    counts = dict.fromkeys(ReadingClass, 0)
    for event, n in db.execute("SELECT event, count(*) FROM reading GROUP BY event"):
        counts[ReadingClass.of(is_event=bool(event))] = n
    return _Loaded(
        counts=counts,
        counters=Counter(dict(db.execute("SELECT name, value FROM counter").fetchall())),
        devices=dict(db.execute("SELECT name, id FROM device").fetchall()),
        used_bytes=_used_bytes(db),
    )


def _advance(current: int, scanned_to: int | None, *, released: bool) -> int:
    """A lane's cursor after a take: past the rows scanned, unless a release moved it back.

    After a release during the take the lower value stands: those rows are scanned again.
    """
    if scanned_to is None:
        return current
    return min(current, scanned_to) if released else max(current, scanned_to)


def _check_entry(entry: OutboxEntry) -> None:
    check_ident(entry.device, "device")
    if not entry.reading:
        raise ValueError(f"empty reading for device {entry.device!r}")
    if len(entry.reading) > MAX_READING_BYTES:
        raise ValueError(
            f"a reading of {len(entry.reading)} bytes for device {entry.device!r} cannot be "
            f"sent: the limit is {MAX_READING_BYTES}"
        )
    if not 0 < entry.ts < 2**63:
        raise ValueError(f"ts must be ns since the epoch, got {entry.ts}")


def _connect(path: Path) -> sqlite3.Connection:
    # isolation_level=None: transactions are explicit (BEGIN IMMEDIATE ... COMMIT).
    return sqlite3.connect(
        path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
    )


def _close(db: sqlite3.Connection | None) -> None:
    if db is not None:
        with contextlib.suppress(sqlite3.Error):
            db.close()


def _rollback(db: sqlite3.Connection) -> None:
    if db.in_transaction:
        with contextlib.suppress(sqlite3.Error):
            db.execute("ROLLBACK")


def _scalar(db: sqlite3.Connection, sql: str) -> int:
    value = db.execute(sql).fetchone()[0]
    return int(value)


def _scalar_text(db: sqlite3.Connection, sql: str) -> str:
    return str(db.execute(sql).fetchone()[0])


def _rowid(cursor: sqlite3.Cursor) -> int:
    rowid = cursor.lastrowid
    if rowid is None:  # pragma: no cover - sqlite3 sets it after an INSERT
        raise sqlite3.OperationalError("no rowid after INSERT")
    return rowid


def _oldest_ids(db: sqlite3.Connection, *, is_event: bool, limit: int) -> list[int]:
    sql = "SELECT id FROM reading WHERE event = ? ORDER BY id LIMIT ?"  # the class index
    return [row[0] for row in db.execute(sql, (int(is_event), limit))]


def _used_bytes(db: sqlite3.Connection) -> int:
    pages = _scalar(db, "PRAGMA page_count") - _scalar(db, "PRAGMA freelist_count")
    return pages * _scalar(db, "PRAGMA page_size")


def _is_damaged(exc: sqlite3.Error) -> bool:
    name = getattr(exc, "sqlite_errorname", "") or ""
    return name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB"))


def _os_cause(exc: OSError, path: Path) -> str:
    text = exc.strerror or str(exc)
    if exc.errno in {errno.ENOSPC, errno.EDQUOT}:
        return f"{text} (the disk is full: {_free_space(path)} free)"
    if exc.errno in {errno.EACCES, errno.EPERM, errno.EROFS}:
        return f"{text} (the agent's user may not write there)"
    if exc.errno in {errno.ENOTDIR, errno.EEXIST}:
        return f"{text} (a file stands where a folder is expected)"
    return text


def _free_space(path: Path) -> str:
    for candidate in (path, *path.parents):
        try:
            return _human_bytes(shutil.disk_usage(candidate).free)
        except OSError:
            continue
    return "unknown"


def _human_bytes(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000:
            return f"{n:.0f} {unit}"
        n /= 1000
    return f"{n:.0f} TB"


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172_800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86_400:.1f} days"


def _fsync_dir(folder: Path) -> None:
    """Make new or renamed names in ``folder`` durable (they live in the directory)."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
