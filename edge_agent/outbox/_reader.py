"""The outbox's reader connection: the sending side reads rows without waiting for commits.

WAL mode lets one connection read while the writer's connection commits. The writer
thread opens and closes it together with its own (:meth:`Reader.open`,
:meth:`Reader.close`); the store reads through it under :attr:`Reader.lock`.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from edge_agent.outbox._sqlite import close, connect, device_names, oldest_ts, scan
from edge_agent.outbox.policy import Row

if TYPE_CHECKING:
    import sqlite3
    from pathlib import Path

    from edge_agent.outbox.ledger import Scan


class Reader:
    """A read-only connection to the outbox file, and the device names it has seen.

    :attr:`lock` guards the connection; take it before the store's condition variable.
    """

    def __init__(self) -> None:
        """Not connected until the writer opens the file."""
        self.lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._devices: dict[int, str] = {}
        self._boot: int | None = None

    @property
    def available(self) -> bool:
        """Whether the file is open (read it only with :attr:`lock` held)."""
        return self._db is not None

    def open(self, path: Path, boot: int) -> None:
        """Connect to ``path`` (the writer has just opened it); raises sqlite3.Error.

        ``boot`` is the file's number of the current boot: only rows stored during it
        keep their ``mono_ns`` (a monotonic clock means nothing after a reboot).
        """
        db = connect(path)
        try:
            db.execute("PRAGMA query_only = 1")
        except BaseException:
            close(db)
            raise
        with self.lock:
            close(self._db)
            self._db = db
            self._devices = {}
            self._boot = boot

    def close(self) -> None:
        """Disconnect (the writer is closing or replacing the file)."""
        with self.lock:
            close(self._db)
            self._db = None

    def rows(self, where: Scan) -> list[Row]:
        """The rows ``where`` names (call with :attr:`lock` held); raises sqlite3.Error."""
        db = self._connected()
        return [
            Row(
                row_id,
                self._device_name(db, device),
                bytes(body),
                bool(event),
                seq,
                mono_ns if boot == self._boot else None,
            )
            for row_id, device, event, body, seq, mono_ns, boot in scan(
                db, after=where.after, before=where.before, limit=where.limit
            )
        ]

    def oldest_ts(self) -> int | None:
        """The ``ts`` of the oldest reading (call with :attr:`lock` held); raises sqlite3.Error."""
        return oldest_ts(self._connected())

    def _connected(self) -> sqlite3.Connection:
        assert self._db is not None  # noqa: S101 - callers check available first
        return self._db

    def _device_name(self, db: sqlite3.Connection, device: int) -> str:
        name = self._devices.get(device)
        if name is None:
            self._devices = device_names(db)
            name = self._devices[device]
        return name
