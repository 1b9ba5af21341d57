"""The outbox seen from outside the agent: what it holds (read-only), and emptying it.

For ``pelangi-agent outbox export | purge``. :func:`stored_readings` and :func:`backlog`
open the file read-only (SQLite's ``mode=ro``), so they work while the agent runs and
never change the file, not even by the checkpoint a last read-write connection makes on
closing. :func:`purge` takes the outbox's lock first: it refuses while an agent holds it.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from typing import TYPE_CHECKING, Final

from edge_agent.outbox._errors import OutboxError
from edge_agent.outbox._files import lock_file
from edge_agent.outbox._sqlite import (
    BUSY_TIMEOUT_S,
    close,
    connect,
    device_names,
    oldest_ts,
    transaction,
)
from edge_agent.outbox._values import OutboxEntry

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

PAGE: Final = 1000
"""Rows read per query: a large backlog is streamed, never held in memory at once."""
EXPORTED: Final = (
    "SELECT id, device, event, ts, body, seq FROM reading WHERE id > ? ORDER BY id LIMIT ?"
)
"""A page of rows after an id, with the columns an export shows."""
ExportedRow = tuple[int, int, int, int, bytes, int]


def stored_readings(path: Path) -> Iterator[OutboxEntry]:
    """Every reading in the outbox at ``path``, oldest first; raises OutboxError.

    ``seq`` is -1 for a row stored before seqs were kept; ``mono_ns`` is always None.
    """
    with _read_only(path) as db:
        names = device_names(db)
        after = 0
        while rows := _page(db, path, after):
            for row_id, device, event, ts, body, seq in rows:
                after = row_id
                if device not in names:  # the running agent met a new device meanwhile
                    names = device_names(db)
                name = names.get(device, f"#{device}")
                yield OutboxEntry(name, bytes(body), bool(event), ts, seq)


def backlog(path: Path) -> tuple[int, int | None]:
    """How many readings the outbox at ``path`` holds, and the oldest one's ts (None: empty)."""
    with _read_only(path) as db:
        try:
            count = db.execute("SELECT count(*) FROM reading").fetchone()[0]
            return int(count), oldest_ts(db)
        except sqlite3.Error as exc:
            raise OutboxError(path, f"cannot read it: {exc}") from None


def purge(path: Path) -> int:
    """Delete every reading from the outbox at ``path``; return how many.

    Raises:
        OutboxError: an agent is using the outbox (it holds the lock), or the file
            cannot be changed.
    """
    if not path.exists():
        raise OutboxError(path, "there is no outbox file here (wrong state_dir?)")
    lock = lock_file(path)
    db = None
    try:
        db = connect(path)
        with transaction(db):
            deleted = db.execute("DELETE FROM reading").rowcount
    except sqlite3.Error as exc:
        raise OutboxError(path, f"cannot delete the readings: {exc}") from None
    finally:
        close(db)
        os.close(lock)  # releases the lock
    return int(deleted)


@contextlib.contextmanager
def _read_only(path: Path) -> Iterator[sqlite3.Connection]:
    if not path.exists():  # mode=ro never creates it, but says only "unable to open"
        raise OutboxError(path, "there is no outbox file here (wrong state_dir?)")
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S)
    except sqlite3.Error as exc:
        raise OutboxError(path, f"cannot open it read-only: {exc}") from None
    try:
        yield db
    finally:
        close(db)


def _page(db: sqlite3.Connection, path: Path, after: int) -> list[ExportedRow]:
    try:
        return db.execute(EXPORTED, (after, PAGE)).fetchall()
    except sqlite3.Error as exc:
        raise OutboxError(path, f"cannot read it: {exc}") from None
