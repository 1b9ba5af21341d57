"""The outbox's checkpointer: copies the WAL into the database file off the commit path."""

from __future__ import annotations

import logging
import sqlite3
import threading
from typing import TYPE_CHECKING, Final

from edge_agent.outbox._sqlite import close, connect

if TYPE_CHECKING:
    from pathlib import Path

# The outbox's IO logs under one name, as it did when it was one module.
log = logging.getLogger("edge_agent.outbox.store")

CHECKPOINT_BYTES: Final = 4 * 1024 * 1024
"""WAL size at which the background checkpointer is asked to copy it into the database."""
CHECKPOINT_URGENT_BYTES: Final = 64 * 1024 * 1024
"""WAL size at which the writer checkpoints itself (the background one fell behind)."""


class Checkpointer:
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
                    db = connect(self._path)
                    db.execute("PRAGMA synchronous = FULL")
                db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            except sqlite3.Error as exc:
                # The writer meets the same trouble and reports it; it checkpoints itself
                # if the WAL keeps growing.
                log.debug("outbox checkpoint failed: %s", exc)
                close(db)
                db = None
        close(db)
