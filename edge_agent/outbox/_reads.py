"""The store's reads of the file: the rows of a ``take()`` round, the oldest reading for stats.

Both go through the reader's connection (:mod:`edge_agent.outbox._reader`) under its
lock, not under the condition variable the store shares with the writer, so a read never
holds up a commit. A failed read hands out nothing (no batch, no oldest reading) and is
logged, throttled; a damaged file is left to the writer to replace
(:meth:`~edge_agent.outbox._queue.WorkQueue.damaged`), if it is still the file that was read.

Locks: the reader's lock is taken before the shared condition variable.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import TYPE_CHECKING

from edge_agent.outbox._errors import is_damaged
from pelangi.throttle import ThrottledLog

if TYPE_CHECKING:
    import threading
    from collections.abc import Callable
    from pathlib import Path

    from edge_agent.outbox._queue import WorkQueue
    from edge_agent.outbox._reader import Reader
    from edge_agent.outbox._round import TakeRound
    from edge_agent.outbox._values import OutboxBatch
    from edge_agent.outbox.ledger import Ledger

# The outbox's IO logs under one name, as it did when it was one module.
log = logging.getLogger("edge_agent.outbox.store")


class Reads:
    """What the sending side and ``stats()`` read from the file (see the module docstring)."""

    def __init__(  # noqa: PLR0913 - the store's parts, named
        self,
        path: Path,
        reader: Reader,
        ledger: Ledger,
        queue: WorkQueue,
        *,
        cond: threading.Condition,
        monotonic: Callable[[], float],
    ) -> None:
        """Read ``path`` through ``reader``, for rounds that ``ledger`` plans."""
        self._path = path
        self._reader = reader
        self._ledger = ledger
        self._queue = queue
        self._cond = cond
        self._monotonic = monotonic
        self._trouble = ThrottledLog(log, burst=1, interval_s=300.0, clock=monotonic)

    def take(self, limit: int) -> list[OutboxBatch]:
        """One round of ``take()`` reading up to ``limit`` rows (see :meth:`Outbox.take`)."""
        with self._reader.lock:
            if not self._reader.available or limit <= 0:
                return []
            with self._cond:
                taken = self._ledger.start_take(self._monotonic(), limit)
                generation = self._queue.generation
            try:
                self._read(taken)
            except sqlite3.Error as exc:
                self._failed(exc, generation)
                return []
            with self._cond:
                return self._ledger.finish_take(taken)

    def oldest_ts(self) -> tuple[bool, int | None]:
        """Whether the file is open, and the ``ts`` of its oldest reading (None: none or unread)."""
        oldest: int | None = None
        with self._reader.lock:
            available = self._reader.available
            if available:
                with self._cond:
                    generation = self._queue.generation
                try:
                    oldest = self._reader.oldest_ts()
                except sqlite3.Error as exc:
                    self._failed(exc, generation)
        return available, oldest

    def _read(self, taken: TakeRound) -> None:
        """Read the rows of both lanes for ``taken`` (reader lock held, not the condition)."""
        live = taken.live_scan()
        if live is not None:
            taken.offer_live(self._reader.rows(live))
        historical = taken.historical_scan()
        if historical is not None:
            taken.offer_historical(self._reader.rows(historical))

    def _failed(self, exc: sqlite3.Error, generation: int) -> None:
        """Report a failed read of the file of ``generation``; damage is left to the writer."""
        if is_damaged(exc):
            cause = f"the file is damaged: {exc}"
            self._queue.damaged(cause, generation)
        else:
            cause = f"cannot read: {exc} ({getattr(exc, 'sqlite_errorname', '')})"
        self._trouble.log(logging.ERROR, "outbox %s: %s", self._path, cause)
