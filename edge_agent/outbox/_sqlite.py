"""The outbox's SQLite file: its layout, connections, and the statements that touch rows.

Functions here take a connection and do one thing; transactions are the caller's, except
where a function says it commits. Nothing here holds state.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal

from edge_agent.outbox._errors import OutboxError
from edge_agent.outbox.policy import EvictionReason, ReadingClass

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from pathlib import Path

    from edge_agent.outbox.policy import Victims

STORE_VERSION: Final = 2
"""``PRAGMA user_version`` of the file layout below (:data:`SCHEMA`, then :data:`UPGRADES`)."""
WAL_LIMIT_BYTES: Final = 1024 * 1024
"""The WAL is truncated back to this when a checkpoint lets it restart.

Below the writer's checkpoint size (4 MB) on purpose: the writer reads the WAL's file
size as "bytes written since the last checkpoint". A limit above it (it was 8 MB) left
the file at 8 MB after every reset, so every round looked due and checkpointed: 156
checkpoints for 12 MB of readings, each one a sync of the database file.
"""
BUSY_TIMEOUT_S: Final = 5.0

SCHEMA: Final = (
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
"""Layout 1 (every file starts as it, then :data:`UPGRADES` apply)."""
_BODY = "CAST(body AS TEXT)"  # SQLite's JSON functions refuse BLOBs
UPGRADES: Final = {
    2: (
        # The reading's seq, which receipts name (-1: a row without one, never confirmed).
        "ALTER TABLE reading ADD COLUMN seq INTEGER NOT NULL DEFAULT -1",
        # The monotonic clock when it was stamped, and the boot that clock belongs to.
        "ALTER TABLE reading ADD COLUMN mono_ns INTEGER",
        "ALTER TABLE reading ADD COLUMN boot INTEGER",
        "CREATE TABLE IF NOT EXISTS boot (id INTEGER PRIMARY KEY, boot_id TEXT NOT NULL UNIQUE)",
        (
            f"UPDATE reading SET seq = json_extract({_BODY}, '$.seq')"  # noqa: S608 - constants only
            f" WHERE json_valid({_BODY}) AND json_type({_BODY}, '$.seq') = 'integer'"
        ),
        "CREATE INDEX IF NOT EXISTS reading_by_seq ON reading (seq)",
    ),
}
"""Statements that bring a file from the layout before to the one named, in one transaction."""
JSON_SINCE: Final = (3, 38, 0)
"""SQLite has its JSON functions built in from this version on (the upgrade to 2 needs them)."""
INSERT: Final = (
    "INSERT INTO reading (device, event, ts, body, seq, mono_ns, boot) VALUES (?, ?, ?, ?, ?, ?, ?)"
)
CONFIRMED_PAGE: Final = (
    "SELECT id, event, seq FROM reading WHERE seq BETWEEN ? AND ? AND (seq > ? OR id > ?)"
    " ORDER BY seq, id LIMIT ?"
)
IN_LIST: Final = 250
"""Ids per DELETE statement (old SQLite builds allow 999 parameters)."""
DELETE: Final = f"DELETE FROM reading WHERE id IN ({', '.join('?' * IN_LIST)})"  # noqa: S608 - placeholders only
BUMP: Final = (
    "INSERT INTO counter (name, value) VALUES (?, ?)"
    " ON CONFLICT (name) DO UPDATE SET value = value + excluded.value"
)
QUARANTINED: Final = "quarantined"


def prepare(db: sqlite3.Connection, path: Path, *, sync: str, quarantines: int) -> int:
    """Set WAL mode and durability, create, check or upgrade the layout.

    ``quarantines`` damaged files moved aside before this one are counted in it.
    Returns the layout the file had (0: new).
    """
    mode = scalar_text(db, "PRAGMA journal_mode = WAL")
    if mode.lower() != "wal":
        raise OutboxError(path, f"cannot use WAL mode (journal_mode is {mode!r})")
    db.execute(f"PRAGMA synchronous = {sync.upper()}")
    db.execute(f"PRAGMA journal_size_limit = {WAL_LIMIT_BYTES}")
    db.execute("PRAGMA wal_autocheckpoint = 0")  # see Database.checkpoint
    version = scalar(db, "PRAGMA user_version")
    if version > STORE_VERSION:
        raise OutboxError(
            path,
            f"the file was written by a newer agent (layout {version}; this agent "
            f"understands {STORE_VERSION}); move it aside or upgrade the agent",
        )
    if version < 2 and sqlite3.sqlite_version_info < JSON_SINCE:  # pragma: no cover - Debian 12
        raise OutboxError(
            path,
            f"upgrading the file needs SQLite {'.'.join(map(str, JSON_SINCE))} or later "
            f"(JSON functions); this is {sqlite3.sqlite_version}",
        )
    # One transaction: a crash mid-way leaves the file as it was, to be upgraded again.
    with transaction(db):
        for statement in SCHEMA:
            db.execute(statement)
        for layout in range(max(version, 1) + 1, STORE_VERSION + 1):
            for statement in UPGRADES[layout]:
                db.execute(statement)
        db.execute(f"PRAGMA user_version = {STORE_VERSION}")
        if quarantines:
            db.execute(BUMP, (QUARANTINED, quarantines))
    return version


def counter_name(
    cls: ReadingClass, reason: EvictionReason | Literal["size", "age", "rejected"]
) -> str:
    """Name of a persistent counter, e.g. ``size.telemetry``."""
    return f"{reason}.{cls}"


def delete_rows(db: sqlite3.Connection, deletes: list[tuple[int, bool]]) -> dict[ReadingClass, int]:
    """Delete rows ``(id, is_event)`` (inside a transaction); return how many, per class."""
    deleted = dict.fromkeys(ReadingClass, 0)
    for cls in ReadingClass:
        is_event = cls is ReadingClass.EVENT
        deleted[cls] = delete_ids(db, [i for i, flag in deletes if flag is is_event])
    return deleted


def delete_ids(db: sqlite3.Connection, ids: Sequence[int]) -> int:
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
        deleted += db.execute(DELETE, part).rowcount
    return deleted


def delete_victims(
    db: sqlite3.Connection, victims: Victims, reason: EvictionReason
) -> dict[ReadingClass, int]:
    """Delete ``victims`` and count them, in one transaction (both or neither); how many."""
    deleted = dict.fromkeys(ReadingClass, 0)
    with transaction(db):
        for cls, ids in (
            (ReadingClass.TELEMETRY, victims.telemetry),
            (ReadingClass.EVENT, victims.events),
        ):
            deleted[cls] = delete_ids(db, ids)
        bumps = [(counter_name(c, reason), n) for c, n in deleted.items() if n]
        db.executemany(BUMP, bumps)
    return deleted


@dataclass(frozen=True, slots=True)
class Loaded:
    """What the writer reads from a database it opens."""

    counts: dict[ReadingClass, int]
    counters: Counter[str]
    devices: dict[str, int]
    used_bytes: int


def load(db: sqlite3.Connection) -> Loaded:
    """Read the counts, counters, devices and size of a database just opened."""
    # Reading the whole index and the small tables doubles as a check of the file.
    counts = dict.fromkeys(ReadingClass, 0)
    for event, n in db.execute("SELECT event, count(*) FROM reading GROUP BY event"):
        counts[ReadingClass.of(is_event=bool(event))] = n
    return Loaded(
        counts=counts,
        counters=Counter(dict(db.execute("SELECT name, value FROM counter").fetchall())),
        devices=dict(db.execute("SELECT name, id FROM device").fetchall()),
        used_bytes=used_bytes(db),
    )


def connect(path: Path) -> sqlite3.Connection:
    """Open a connection to the outbox at ``path`` (usable from any one thread at a time)."""
    # isolation_level=None: transactions are explicit (BEGIN IMMEDIATE ... COMMIT).
    return sqlite3.connect(
        path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
    )


def close(db: sqlite3.Connection | None) -> None:
    """Close ``db`` if there is one, ignoring errors: it is being given up."""
    if db is not None:
        with contextlib.suppress(sqlite3.Error):
            db.close()


@contextlib.contextmanager
def transaction(db: sqlite3.Connection) -> Iterator[None]:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``; on any exception (a failed COMMIT too), roll back."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
        db.execute("COMMIT")
    except BaseException:
        rollback(db)
        raise


def rollback(db: sqlite3.Connection) -> None:
    """Roll back the open transaction, if any, ignoring errors."""
    if db.in_transaction:
        with contextlib.suppress(sqlite3.Error):
            db.execute("ROLLBACK")


def scalar(db: sqlite3.Connection, sql: str) -> int:
    """The single integer ``sql`` returns."""
    value = db.execute(sql).fetchone()[0]
    return int(value)


def scalar_of(db: sqlite3.Connection, sql: str, parameters: tuple[object, ...]) -> int:
    """The single integer ``sql`` returns with ``parameters``."""
    value = db.execute(sql, parameters).fetchone()[0]
    return int(value)


def scalar_text(db: sqlite3.Connection, sql: str) -> str:
    """The single value ``sql`` returns, as text."""
    return str(db.execute(sql).fetchone()[0])


def last_rowid(cursor: sqlite3.Cursor) -> int:
    """The id of the row ``cursor`` has just inserted."""
    new_id = cursor.lastrowid
    if new_id is None:  # pragma: no cover - sqlite3 sets it after an INSERT
        raise sqlite3.OperationalError("no rowid after INSERT")
    return new_id


def insert_device(db: sqlite3.Connection, name: str) -> int:
    """Add a device name (inside a transaction); return its number."""
    return last_rowid(db.execute("INSERT INTO device (name) VALUES (?)", (name,)))


def boot_number(db: sqlite3.Connection, boot_id: str) -> int:
    """The number of the boot ``boot_id`` (added if new; inside a transaction)."""
    db.execute("INSERT OR IGNORE INTO boot (boot_id) VALUES (?)", (boot_id,))
    return scalar_of(db, "SELECT id FROM boot WHERE boot_id = ?", (boot_id,))


InsertedRow = tuple[int, int, int, bytes, int, int | None, int | None]
"""``(device, event, ts, body, seq, mono_ns, boot)`` as :func:`insert_readings` takes them."""


def insert_readings(db: sqlite3.Connection, rows: Sequence[InsertedRow]) -> int:
    """Insert rows (inside a transaction); return the first new id."""
    db.executemany(INSERT, rows)
    # One writer, one transaction, AUTOINCREMENT: the new ids are consecutive.
    return scalar(db, "SELECT last_insert_rowid()") - len(rows) + 1


def device_names(db: sqlite3.Connection) -> dict[int, str]:
    """Every device's number and name."""
    return dict(db.execute("SELECT id, name FROM device").fetchall())


ScannedRow = tuple[int, int, int, bytes, int, int | None, int | None]
"""``(id, device number, event, body, seq, mono_ns, boot)`` as :func:`scan` returns them."""
_SCANNED = "SELECT id, device, event, body, seq, mono_ns, boot FROM reading"


def scan(db: sqlite3.Connection, *, after: int, before: int | None, limit: int) -> list[ScannedRow]:
    """Rows with ``after < id < before`` (None: no upper bound), in id order, at most ``limit``."""
    if before is None:
        sql = f"{_SCANNED} WHERE id > ? ORDER BY id LIMIT ?"
        return db.execute(sql, (after, limit)).fetchall()
    sql = f"{_SCANNED} WHERE id > ? AND id < ? ORDER BY id LIMIT ?"
    return db.execute(sql, (after, before, limit)).fetchall()


def confirmed_page(
    db: sqlite3.Connection, first: int, last: int, *, after: tuple[int, int], limit: int
) -> list[tuple[int, int, int]]:
    """``(id, event, seq)`` of rows with ``first <= seq <= last``, after ``(seq, id)``.

    In ``(seq, id)`` order (the seq index), at most ``limit``: a receipt's range may
    name a whole replay, which is deleted page by page.
    """
    seq, row_id = after
    return db.execute(CONFIRMED_PAGE, (first, last, seq, row_id, limit)).fetchall()


def ages(
    db: sqlite3.Connection, *, is_event: bool, after: int, limit: int
) -> list[tuple[int, int]]:
    """``(id, ts)`` of one class's rows after id ``after``, in id order, at most ``limit``."""
    sql = "SELECT id, ts FROM reading WHERE event = ? AND id > ? ORDER BY id LIMIT ?"
    return db.execute(sql, (int(is_event), after, limit)).fetchall()


def oldest_ids(db: sqlite3.Connection, *, is_event: bool, limit: int) -> list[int]:
    """Ids of the oldest ``limit`` rows of one class, oldest first."""
    sql = "SELECT id FROM reading WHERE event = ? ORDER BY id LIMIT ?"  # the class index
    return [row[0] for row in db.execute(sql, (int(is_event), limit))]


def used_bytes(db: sqlite3.Connection) -> int:
    """Bytes of database pages in use (free pages not counted)."""
    pages = scalar(db, "PRAGMA page_count") - scalar(db, "PRAGMA freelist_count")
    return pages * scalar(db, "PRAGMA page_size")


def oldest_ts(reader: sqlite3.Connection) -> int | None:
    """The ``ts`` of the oldest reading (by id, in each class), or None when empty."""
    oldest = [
        row[0]
        for event in (0, 1)
        for row in reader.execute(
            "SELECT ts FROM reading WHERE event = ? ORDER BY id LIMIT 1", (event,)
        )
    ]
    return min(oldest) if oldest else None
