"""The outbox's writer thread: group commit, acknowledged deletes, limits, opening and quarantine.

:class:`OutboxWriter` holds the state the writer shares with the sending side (all of it
under one condition variable) and everything that runs on the writer thread. The public
:class:`edge_agent.outbox.store.Outbox` builds on it; the module docstring there states
the durability and order guarantees this code keeps.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
from collections import Counter
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path
from typing import TYPE_CHECKING, Final

from edge_agent.outbox._checkpoint import CHECKPOINT_BYTES, CHECKPOINT_URGENT_BYTES, Checkpointer
from edge_agent.outbox._errors import (
    DamagedError,
    OutboxError,
    is_damaged,
    os_cause,
    sqlite_name,
    write_cause,
)
from edge_agent.outbox._files import lock_file, move_aside, quarantine_target
from edge_agent.outbox._sqlite import (
    BUMP,
    INSERT,
    close,
    connect,
    counter_name,
    delete_rows,
    delete_victims,
    last_rowid,
    load,
    oldest_ids,
    prepare,
    scalar,
    transaction,
    used_bytes,
)
from edge_agent.outbox.policy import (
    EvictionReason,
    LiveBoundary,
    ReadingClass,
    ReplayPacer,
    Victims,
    age_cutoff_ns,
    choose_size_victims,
    expired,
    rows_to_evict,
)
from edge_agent.statefile import fsync_dir
from pelangi.throttle import ThrottledLog

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from edge_agent.outbox._values import OutboxBatch, OutboxEntry
    from edge_agent.outbox.settings import OutboxSettings

# The outbox's IO logs under one name, as it did when it was one module.
log = logging.getLogger("edge_agent.outbox.store")

AGE_CHECK_S: Final = 60.0
"""How often the writer looks for readings past their age limit."""
AGE_SCAN_ROWS: Final = 1000
MAX_EVICTION_ROUNDS: Final = 50
"""Size eviction measures again after each round; this bounds a bad estimate."""
DELETE_CHUNK: Final = 1000
"""Acknowledged rows deleted per transaction: bounds how long an append may wait."""


@dataclass(eq=False)
class Group:
    """Appends that will share one commit."""

    entries: list[OutboxEntry] = field(default_factory=list)
    ids: list[int] | None = None
    error: OutboxError | None = None
    done: bool = False


@dataclass(frozen=True, slots=True)
class Job:
    """What the writer does in one round."""

    group: Group | None
    deletes: list[tuple[int, bool]]
    rejected: Counter[ReadingClass]
    limits: bool
    flush: int
    stop: bool
    epoch: int
    """The file the deletes refer to: they are dropped if it was replaced meanwhile."""


class OutboxWriter:
    """The writer side of the outbox, and the state it shares with the sending side.

    Only the writer thread touches the connection ``_db``; the reader connection is
    guarded by ``_read_lock`` (taken before ``_cond``); everything else by ``_cond``.
    """

    def __init__(
        self,
        path: Path,
        settings: OutboxSettings,
        *,
        wall_ns: Callable[[], int],
        monotonic: Callable[[], float],
    ) -> None:
        """Set up the shared state and the (not yet started) writer thread."""
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
        self._checkpointer: Checkpointer | None = None
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
        self._group = Group()
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
        self._write_trouble = ThrottledLog(log, burst=1, interval_s=300.0, clock=monotonic)
        self._read_trouble = ThrottledLog(log, burst=1, interval_s=300.0, clock=monotonic)
        self._evictions = ThrottledLog(log, burst=3, interval_s=300.0, clock=monotonic)

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

    def _next_job(self) -> Job:
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
                        self._group = Group()
                    job = Job(
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

    def _do(self, job: Job) -> None:
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
            except DamagedError as exc:
                wrote = False
                with self._cond:
                    self._quarantine_cause = str(exc)
                    self._quarantine_epoch = self._epoch
            except OutboxError as exc:
                wrote = False  # the error stands until a write succeeds
                self._complain(exc)  # the deletes not done were put back
        self._after_commit(job, wrote=wrote)

    def _ready(self, job: Job) -> bool:
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

    def _store_or_recover(self, group: Group) -> OutboxError | None:
        """Store ``group``; if the file turns out damaged, replace it and store it there."""
        try:
            self._store(group)
        except OutboxError as exc:
            return exc
        except DamagedError as exc:
            self._replace_damaged(str(exc))
            self._attempt_open()
            if self._db is None:
                return OutboxError(self.path, self._error or str(exc))
            try:
                self._store(group)
            except OutboxError as again:
                return again
            except DamagedError as again:
                return self._err(again)
        return None

    def _store(self, group: Group) -> None:
        """Insert the group in one transaction (fsync-ed with sync=full), then release it.

        Appenders are released before acknowledged deletes are applied: a card tap never
        waits behind a replay's deletes. Raises OutboxError or DamagedError.
        """
        db = self._db
        assert db is not None  # noqa: S101 - checked by _ready
        new_devices: dict[str, int] = {}
        try:
            with transaction(db):
                first_id = self._insert(db, group.entries, new_devices)
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
                device = last_rowid(cur)
                new_devices[entry.device] = device
            rows.append((device, int(entry.is_event), entry.ts, entry.reading))
        db.executemany(INSERT, rows)
        # One writer, one transaction, AUTOINCREMENT: the new ids are consecutive.
        return scalar(db, "SELECT last_insert_rowid()") - len(rows) + 1

    def _apply_acks(self, job: Job) -> bool:
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
            with self._relaxed(db), transaction(db):
                deleted = delete_rows(db, chunk)
                bumps = [(counter_name(c, "rejected"), n) for c, n in rejected.items()]
                db.executemany(BUMP, bumps)
        except sqlite3.Error as exc:
            raise self._write_error(exc) from None
        self._checkpoint_if_due()
        with self._cond:
            for cls, n in deleted.items():
                self._counts[cls] -= n
            for cls, n in rejected.items():
                self._persistent[counter_name(cls, "rejected")] += n
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

    def _after_commit(self, job: Job, *, wrote: bool) -> None:
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
        except DamagedError as exc:
            with self._cond:
                self._quarantine_cause = str(exc)
                self._quarantine_epoch = self._epoch
        except OutboxError as exc:
            self._complain(exc)
        with self._cond:
            self._flushed = max(self._flushed, job.flush)
            self._cond.notify_all()

    def _fail(self, job: Job, error: OutboxError, *, complain: bool = True) -> None:
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
        self._write_trouble.log(
            logging.ERROR, "%s; readings cannot be stored durably until this is fixed", error
        )

    # Limits.

    def _enforce_size(self) -> None:
        db = self._db
        assert db is not None  # noqa: S101 - only called with an open database
        for _ in range(MAX_EVICTION_ROUNDS):
            try:
                used = used_bytes(db)
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
                telemetry = oldest_ids(db, is_event=False, limit=limit)
                events = oldest_ids(db, is_event=True, limit=limit)
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
                delete_victims(db, victims, reason, deleted)
        except sqlite3.Error as exc:
            raise self._write_error(exc) from None
        self._checkpoint_if_due()
        with self._cond:
            for cls, n in deleted.items():
                self._counts[cls] -= n
                self._persistent[counter_name(cls, reason)] += n
        self._report_eviction(deleted, reason)

    def _report_eviction(self, deleted: dict[ReadingClass, int], reason: EvictionReason) -> None:
        telemetry, events = deleted[ReadingClass.TELEMETRY], deleted[ReadingClass.EVENT]
        why = (
            f"it is over its size limit of {self.settings.max_bytes} bytes"
            if reason is EvictionReason.SIZE
            else "they are older than the age limit"
        )
        self._evictions.log(
            logging.ERROR if events else logging.WARNING,
            "outbox %s evicted %d telemetry and %d event readings, oldest first, because %s",
            self.path,
            telemetry,
            events,
            why,
            key=str(reason),
        )

    # Opening, closing and damaged files.

    def _attempt_open(self) -> None:
        if self._db is not None:
            return
        try:
            try:
                self._open_db()
            except DamagedError as exc:
                self._replace_damaged(str(exc))
                self._open_db()
        except (OutboxError, DamagedError) as exc:
            self._close_connections()
            self._complain(exc if isinstance(exc, OutboxError) else self._err(exc))

    def _open_db(self) -> None:
        """Open the database and its reader; raise OutboxError or DamagedError."""
        folder = self.path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutboxError(
                self.path, f"cannot create the folder {folder}: {os_cause(exc, folder)}"
            ) from None
        if self._lock_fd is None:
            self._lock_fd = lock_file(self.path)
        db: sqlite3.Connection | None = None
        reader: sqlite3.Connection | None = None
        try:
            db = connect(self.path)
            prepare(db, self.path, sync=self.settings.sync, quarantines=self._quarantines)
            fsync_dir(folder)  # the file and its WAL exist now: make their names durable
            loaded = load(db)
            reader = connect(self.path)
            reader.execute("PRAGMA query_only = 1")
        except sqlite3.Error as exc:
            close(reader)
            close(db)
            if is_damaged(exc):
                raise DamagedError(f"the file is damaged: {exc}") from None
            raise self._write_error(exc, opening=True) from None
        except OutboxError:
            close(reader)
            close(db)
            raise
        except OSError as exc:
            close(reader)
            close(db)
            raise OutboxError(self.path, f"cannot open: {os_cause(exc, folder)}") from None
        self._db = db
        reopened, self._opened_before = self._opened_before, True
        self._checkpointer = Checkpointer(self.path)
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

    def _replace_damaged(self, cause: str) -> None:
        """Move a damaged file (and its WAL) aside; the caller opens a fresh one."""
        self._close_connections()
        target = quarantine_target(self.path, self._wall_ns())
        try:
            move_aside(self.path, target)
            fsync_dir(self.path.parent)
        except OSError as exc:
            error = OutboxError(
                self.path,
                f"{cause}, and it cannot be moved aside: {os_cause(exc, self.path)}",
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
            close(self._reader)
            self._reader = None
        close(self._db)  # the last connection to close checkpoints and removes the WAL
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

    def _write_error(self, exc: sqlite3.Error, *, opening: bool = False) -> OutboxError:
        """Translate an sqlite3 error into words; close the connection if it may be stale."""
        if is_damaged(exc):
            raise DamagedError(f"the file is damaged: {exc}")
        name = sqlite_name(exc)
        cause = write_cause(exc, self.path.parent, opening=opening)
        if not opening and not name.startswith(("SQLITE_FULL", "SQLITE_BUSY")):
            # After an I/O error SQLite may hold state it cannot trust: reopen next time.
            self._close_connections()
        return OutboxError(self.path, cause)
