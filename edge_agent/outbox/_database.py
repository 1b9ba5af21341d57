"""The writer's connection to the outbox file, and the files around it.

:class:`Database` opens the file (folder, lock file, layout, reader), writes to it in
transactions, checkpoints it, moves it aside when it is damaged, and turns every
``sqlite3`` error into an :class:`OutboxError` that names the cause (or a
:class:`DamagedError`, which leads to quarantine). Used by the writer thread only.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Final, Protocol

from edge_agent.outbox._errors import (
    DamagedError,
    OutboxError,
    is_damaged,
    os_cause,
    sqlite_name,
    write_cause,
)
from edge_agent.outbox._files import lock_file, move_aside, quarantine_target
from edge_agent.outbox._queue import SeqRange
from edge_agent.outbox._sqlite import (
    STORE_VERSION,
    ages,
    boot_number,
    close,
    confirmed_page,
    connect,
    delete_ids,
    delete_rows,
    delete_victims,
    insert_device,
    insert_readings,
    load,
    oldest_ids,
    prepare,
    transaction,
    used_bytes,
)
from edge_agent.outbox.policy import ReadingClass
from edge_agent.statefile import fsync_dir

if TYPE_CHECKING:
    from collections.abc import Collection, Iterator, Sequence

    from edge_agent.outbox._sqlite import Loaded
    from edge_agent.outbox._values import OutboxEntry
    from edge_agent.outbox.policy import EvictionReason, Victims
    from edge_agent.outbox.settings import OutboxSettings

# The outbox's IO logs under one name, as it did when it was one module.
log = logging.getLogger("edge_agent.outbox.store")

CHECKPOINT_BYTES: Final = 4 * 1024 * 1024
"""WAL size at which the writer copies it into the database once no append waits."""
CHECKPOINT_URGENT_BYTES: Final = 64 * 1024 * 1024
"""WAL size at which the writer checkpoints even with appends waiting (they never stop)."""


class ReaderConnection(Protocol):
    """The store's reader, opened and closed together with the writer's connection."""

    def open(self, path: Path, boot: int) -> None:
        """Connect to the file just opened, whose number of the current boot is ``boot``."""

    def close(self) -> None:
        """Disconnect."""


class Database:
    """The outbox file as the writer sees it (see the module docstring)."""

    def __init__(
        self, path: Path, settings: OutboxSettings, reader: ReaderConnection, *, boot_id: str
    ) -> None:
        """Prepare, but do not open: :meth:`open`. ``boot_id`` names the current boot."""
        self.path = path
        self.settings = settings
        self._reader = reader
        self._boot_id = boot_id
        self._boot: int | None = None  # its number in the open file
        self._db: sqlite3.Connection | None = None
        self._checkpoint_due = False
        self._wal_path = Path(f"{path}-wal")
        self._lock_fd: int | None = None
        self._device_ids: dict[str, int] = {}
        self._opened_before = False
        self._quarantines = 0  # files moved aside, not yet counted in the new database

    @property
    def is_open(self) -> bool:
        """Whether the file is open (it is closed after errors it cannot trust)."""
        return self._db is not None

    # Opening and closing.

    def open(self) -> Loaded:
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
        try:
            db = connect(self.path)
            layout = prepare(db, self.path, sync=self.settings.sync, quarantines=self._quarantines)
            fsync_dir(folder)  # the file and its WAL exist now: make their names durable
            with transaction(db):
                boot = boot_number(db, self._boot_id)
            loaded = load(db)
            self._reader.open(self.path, boot)
        except sqlite3.Error as exc:
            self._reader.close()
            close(db)
            if is_damaged(exc):
                raise DamagedError(f"the file is damaged: {exc}") from None
            raise self.error(exc, opening=True) from None
        except OutboxError:
            self._reader.close()
            close(db)
            raise
        except OSError as exc:
            self._reader.close()
            close(db)
            raise OutboxError(self.path, f"cannot open: {os_cause(exc, folder)}") from None
        self._db = db
        self._boot = boot
        if 0 < layout < STORE_VERSION:
            log.info("outbox %s: upgraded from layout %d to %d", self.path, layout, STORE_VERSION)
        reopened, self._opened_before = self._opened_before, True
        self._checkpoint_due = False
        self._quarantines = 0
        self._device_ids = loaded.devices
        # Reopening after a write error is routine while a disk is full: not worth a line.
        log.log(
            logging.DEBUG if reopened else logging.INFO,
            "outbox %s open: %d telemetry and %d event readings waiting (%.1f MB)",
            self.path,
            loaded.counts[ReadingClass.TELEMETRY],
            loaded.counts[ReadingClass.EVENT],
            loaded.used_bytes / 1e6,
        )
        return loaded

    def close(self) -> None:
        """Close both connections (the last to close checkpoints and removes the WAL)."""
        self._reader.close()
        close(self._db)
        self._db = None

    def release_lock(self) -> None:
        """Give up the lock file (at shutdown, after :meth:`close`)."""
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the flock
            self._lock_fd = None

    def move_aside(self, cause: str, now_ns: int) -> OutboxError | None:
        """Close and move a damaged file (and its WAL) aside; an error if it cannot be moved."""
        self.close()
        target = quarantine_target(self.path, now_ns)
        try:
            move_aside(self.path, target)
            fsync_dir(self.path.parent)
        except OSError as exc:
            return OutboxError(
                self.path,
                f"{cause}, and it cannot be moved aside: {os_cause(exc, self.path)}",
            )
        log.error(
            "outbox %s: %s; moved it aside to %s and started a new, empty outbox. Readings "
            "in the damaged file were not sent; keep it for recovery",
            self.path,
            cause,
            target,
        )
        self._quarantines += 1
        return None

    # Writing (each raises OutboxError or DamagedError).

    def insert(self, entries: Sequence[OutboxEntry]) -> int:
        """Insert ``entries`` in one transaction (fsync-ed with sync=full); the first new id."""
        db = self._open_db()
        new_devices: dict[str, int] = {}
        try:
            with transaction(db):
                rows = []
                for entry in entries:
                    device = self._device_ids.get(entry.device, new_devices.get(entry.device))
                    if device is None:
                        device = new_devices[entry.device] = insert_device(db, entry.device)
                    boot = None if entry.mono_ns is None else self._boot
                    rows.append(
                        (
                            device,
                            int(entry.is_event),
                            entry.ts,
                            entry.reading,
                            entry.seq,
                            entry.mono_ns,
                            boot,
                        )
                    )
                first_id = insert_readings(db, rows)
        except sqlite3.Error as exc:
            raise self.error(exc) from None
        self._device_ids.update(new_devices)
        self._checkpoint_if_due()
        return first_id

    def delete(self, rows: list[tuple[int, bool]]) -> dict[ReadingClass, int]:
        """Delete rows ``(id, is_event)`` in one unsynced transaction; how many, per class."""
        db = self._open_db()
        try:
            with self._relaxed(db), transaction(db):
                deleted = delete_rows(db, rows)
        except sqlite3.Error as exc:
            raise self.error(exc) from None
        self._checkpoint_if_due()
        return deleted

    def delete_confirmed(
        self, where: SeqRange, in_use: Collection[int], limit: int
    ) -> tuple[dict[ReadingClass, int], SeqRange | None]:
        """Delete up to ``limit`` rows whose seq is in ``where``, except those ``in_use``.

        One unsynced transaction. Returns how many were deleted, per class, and what is
        left of the range (None once it is done).
        """
        db = self._open_db()
        deleted = dict.fromkeys(ReadingClass, 0)
        try:
            with self._relaxed(db), transaction(db):
                page = confirmed_page(
                    db, where.first, where.last, after=(where.first, where.after_id), limit=limit
                )
                for cls in ReadingClass:
                    is_event = cls is ReadingClass.EVENT
                    deleted[cls] = delete_ids(
                        db,
                        [i for i, event, _ in page if bool(event) is is_event and i not in in_use],
                    )
        except sqlite3.Error as exc:
            raise self.error(exc) from None
        self._checkpoint_if_due()
        if len(page) < limit:
            return deleted, None
        last_id, _, last_seq = page[-1]
        return deleted, SeqRange(last_seq, where.last, after_id=last_id)

    def evict(self, victims: Victims, reason: EvictionReason) -> dict[ReadingClass, int]:
        """Delete ``victims`` and count them under ``reason`` (unsynced: it is simply redone)."""
        db = self._open_db()
        try:
            with self._relaxed(db):
                deleted = delete_victims(db, victims, reason)
        except sqlite3.Error as exc:
            raise self.error(exc) from None
        self._checkpoint_if_due()
        return deleted

    # Checkpoints.

    @property
    def checkpoint_due(self) -> bool:
        """Whether the WAL has grown enough to be copied into the database (:meth:`checkpoint`)."""
        return self._checkpoint_due and self._db is not None

    def checkpoint(self) -> None:
        """Copy the WAL into the database file, on the writer's connection and thread.

        Never from a second connection while this one commits: SQLite up to 3.51.2 (Debian
        12 ships 3.40.1) has a race between a checkpoint and a commit that resets the WAL
        on another connection, which can skip frames and corrupt the file
        (https://sqlite.org/wal.html#walresetbug). One thread doing both cannot race.
        PASSIVE: readers are not waited for; the syncs follow ``synchronous``.
        """
        db = self._open_db()
        try:
            db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.Error as exc:
            raise self.error(exc) from None
        self._checkpoint_due = False

    # Reading what the limits need.

    def used_bytes(self) -> int:
        """Bytes of database pages in use."""
        try:
            return used_bytes(self._open_db())
        except sqlite3.Error as exc:
            raise self.error(exc) from None

    def oldest_ids(self, *, is_event: bool, limit: int) -> list[int]:
        """Ids of the oldest ``limit`` rows of one class."""
        try:
            return oldest_ids(self._open_db(), is_event=is_event, limit=limit)
        except sqlite3.Error as exc:
            raise self.error(exc) from None

    def ages(self, *, is_event: bool, after: int, limit: int) -> list[tuple[int, int]]:
        """``(id, ts)`` of one class's rows after ``after``, in id order."""
        try:
            return ages(self._open_db(), is_event=is_event, after=after, limit=limit)
        except sqlite3.Error as exc:
            raise self.error(exc) from None

    # Helpers.

    def _open_db(self) -> sqlite3.Connection:
        assert self._db is not None  # noqa: S101 - the writer opens before it writes
        return self._db

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

    def _checkpoint_if_due(self) -> None:
        """Note that the WAL wants copying; copy it here and now if it ran away."""
        try:
            wal_bytes = self._wal_path.stat().st_size
        except OSError:
            return
        if wal_bytes >= CHECKPOINT_URGENT_BYTES:
            self.checkpoint()
        elif wal_bytes >= CHECKPOINT_BYTES:
            self._checkpoint_due = True

    def error(self, exc: sqlite3.Error, *, opening: bool = False) -> OutboxError:
        """Translate an sqlite3 error into words; close the connection if it may be stale.

        Raises DamagedError instead when the file is damaged.
        """
        if is_damaged(exc):
            raise DamagedError(f"the file is damaged: {exc}")
        name = sqlite_name(exc)
        cause = write_cause(exc, self.path.parent, opening=opening)
        if not opening and not name.startswith(("SQLITE_FULL", "SQLITE_BUSY")):
            # After an I/O error SQLite may hold state it cannot trust: reopen next time.
            self.close()
        return OutboxError(self.path, cause)
