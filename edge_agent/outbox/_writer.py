"""The outbox's writer thread: group commit, deletes, limits, opening and quarantine.

Group commit
    Appends from any number of threads join the group that the writer thread will
    commit next (:class:`~edge_agent.outbox._queue.WorkQueue`); each caller waits for its
    group's COMMIT. While one fsync runs, the next group fills, so under load many
    readings share one fsync, and a lone card tap waits for exactly one. Appends go
    first: deletes of answered rows follow in chunks of :data:`DELETE_CHUNK` (and rows a
    receipt confirmed, by seq range, a page at a time), and the writer returns to
    waiting appends between chunks. Copying the WAL into the database
    (checkpointing) runs in a thread of its own, so no commit waits for it. The size
    limit is applied right after each commit: the file can exceed ``max_bytes`` by one
    commit's readings for a moment.

The :class:`Writer` owns its connection (:class:`~edge_agent.outbox._database.Database`),
its queue and its books (:class:`~edge_agent.outbox._books.Books`). It shares one
condition variable with the store and tells the sending side what happened to the file
only through :class:`SendingSide`.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Final, Protocol

from edge_agent.outbox._books import Books
from edge_agent.outbox._database import Database
from edge_agent.outbox._errors import DamagedError, OutboxError
from edge_agent.outbox._limits import Limits
from edge_agent.outbox._queue import WorkQueue
from pelangi.throttle import ThrottledLog

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence
    from pathlib import Path

    from edge_agent.outbox._database import ReaderConnection
    from edge_agent.outbox._queue import Group, Job
    from edge_agent.outbox._values import OutboxEntry
    from edge_agent.outbox.policy import EvictionReason, ReadingClass
    from edge_agent.outbox.settings import OutboxSettings

# The outbox's IO logs under one name, as it did when it was one module.
log = logging.getLogger("edge_agent.outbox.store")

AGE_CHECK_S: Final = 60.0
"""How often the writer looks for readings past their age limit."""
DELETE_CHUNK: Final = 1000
"""Answered rows deleted per transaction: bounds how long an append may wait."""


class SendingSide(Protocol):
    """What the writer tells the sending side (:class:`~edge_agent.outbox.ledger.Ledger`).

    Called with the shared lock held.
    """

    def in_use(self) -> frozenset[int]:
        """Rows handed out, or answered and not yet deleted: never evicted."""

    def committed(self, first_id: int, at: float) -> None:
        """Rows from ``first_id`` on were committed at ``at`` (monotonic)."""

    def deleted(self, ids: Iterable[int]) -> None:
        """These rows are gone from the file."""

    def reset(self) -> None:
        """The file was replaced by an empty one."""

    def wake(self) -> None:
        """Stored rows may be ready to go out (the file was opened)."""


class Writer:
    """The writer thread and its state (see the module docstring).

    Only the writer thread touches the database; the queue, the books and the error
    are guarded by the shared condition variable.
    """

    def __init__(  # noqa: PLR0913 - the collaborators are named, not bundled
        self,
        path: Path,
        settings: OutboxSettings,
        *,
        cond: threading.Condition,
        sending: SendingSide,
        reader: ReaderConnection,
        wall_ns: Callable[[], int],
        monotonic: Callable[[], float],
        boot_id: str,
    ) -> None:
        """Set up the (not yet started) writer thread (``boot_id``: the current boot)."""
        self.path = path
        self.settings = settings
        self.queue = WorkQueue(path, cond)
        self.books = Books()
        """Read them with the lock held."""
        self._cond = cond
        self._sending = sending
        self._wall_ns = wall_ns
        self._monotonic = monotonic
        self._database = Database(path, settings, reader, boot_id=boot_id)
        self._limits = Limits(self._database, settings, self, clock=monotonic)
        self._opened = threading.Event()
        self._thread = threading.Thread(target=self._run, name="outbox-writer", daemon=True)
        self._next_age_check = 0.0  # writer thread only
        # Under the lock.
        self._next_retry = 0.0
        self._failing = False  # the last open or write failed: background work waits for retry
        self.error: str | None = None
        """The latest problem storing readings; None once storing works again."""
        self._write_trouble = ThrottledLog(log, burst=1, interval_s=300.0, clock=monotonic)

    # Other threads.

    def start(self) -> None:
        """Start the thread; return once its first attempt to open the file is done."""
        self._thread.start()
        self._opened.wait()

    def store(self, entries: Sequence[OutboxEntry]) -> list[int]:
        """Store ``entries`` in the next group commit; return their row ids."""
        return self.queue.join(entries)

    def close(self, timeout: float) -> None:
        """Commit what is pending, close the database and stop the thread (idempotent)."""
        self.queue.stop()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    # The limits' side (:class:`~edge_agent.outbox._limits.Accounts`, writer thread).

    def measured(self, used_bytes: int) -> int:
        """Note the file's size; return how many rows it holds."""
        with self._cond:
            self.books.used_bytes = used_bytes
            return self.books.rows

    def in_use(self) -> frozenset[int]:
        """Rows the sending side holds: never evicted."""
        with self._cond:
            return self._sending.in_use()

    def evicted(self, deleted: dict[ReadingClass, int], reason: EvictionReason) -> None:
        """Count rows the limits evicted."""
        with self._cond:
            self.books.evicted(deleted, reason)

    # The writer thread.

    def _run(self) -> None:
        try:
            self._attempt_open()
        except Exception:  # a bug must not leave open() waiting forever
            log.exception("outbox %s: opening failed unexpectedly", self.path)
        finally:
            self._opened.set()
        while True:
            job = self.queue.next_job(self._monotonic, self._due)
            try:
                self._do(job)
                self._checkpoint_if_idle()
            except Exception as exc:  # a bug must not leave appenders waiting forever
                log.exception("outbox writer failed unexpectedly")
                self._fail(job, OutboxError(self.path, f"internal error: {exc!r}"))
            if job.stop:
                break
        self._database.close()
        self._database.release_lock()
        self.queue.close()

    def _due(self) -> tuple[float, bool]:
        """When background work is due, and whether deletes may go (lock held)."""
        if self._failing:
            return self._next_retry, False
        return self._next_age_check, True

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
        if job.has_deletes:
            try:
                wrote |= self._apply_deletes(job)
            except DamagedError as exc:
                wrote = False
                self.queue.damaged(str(exc), self.queue.generation)
            except OutboxError as exc:
                wrote = False  # the error stands until a write succeeds
                self._complain(exc)  # the deletes not done were put back
        self._after_commit(job, wrote=wrote)

    def _ready(self, job: Job) -> bool:
        """Replace a file found damaged and open the database; fail ``job`` if it cannot."""
        cause = self.queue.take_damage()
        if cause is not None:
            self._replace_damaged(cause)
        if not self._database.is_open:
            self._attempt_open()
        if not self._database.is_open:
            self._fail(job, OutboxError(self.path, self.error or "cannot open"), complain=False)
            return False
        return True

    def _store_or_recover(self, group: Group) -> OutboxError | None:
        """Store ``group``; if the file turns out damaged, replace it and store it there."""
        try:
            self._store(group)
        except OutboxError as exc:
            return exc
        except DamagedError as exc:
            self._replace_damaged(str(exc))
            self._attempt_open()
            if not self._database.is_open:
                return OutboxError(self.path, self.error or str(exc))
            try:
                self._store(group)
            except OutboxError as again:
                return again
            except DamagedError as again:
                return OutboxError(self.path, str(again))
        return None

    def _store(self, group: Group) -> None:
        """Insert the group in one transaction, then release its appenders.

        Appenders are released before answered deletes are applied: a card tap never
        waits behind a replay's deletes. Raises OutboxError or DamagedError.
        """
        first_id = self._database.insert(group.entries)
        with self._cond:
            # The sending side learns of the rows before their appenders return, so a
            # take() right after append() sees them live.
            self._sending.committed(first_id, self._monotonic())
            group.ids = list(range(first_id, first_id + len(group.entries)))
            group.done = True
            self.books.stored(entry.is_event for entry in group.entries)
            self._cond.notify_all()

    def _apply_deletes(self, job: Job) -> bool:
        """Delete answered rows in chunks, yielding to waiting appends between chunks.

        Rows by id first, then seq ranges a receipt confirmed. Returns True if anything
        was written. What is left undone goes back to the queue (also when a chunk
        fails; then the error is raised).
        """
        if job.generation != self.queue.generation:
            return False  # they name rows of a file that was replaced
        done = 0
        ranges = list(job.confirmed)
        try:
            while done < len(job.deletes):
                chunk = job.deletes[done : done + DELETE_CHUNK]
                deleted = self._database.delete(chunk)
                done += len(chunk)
                with self._cond:
                    self.books.deleted(deleted)
                    self._sending.deleted(i for i, _ in chunk)
                    if self.queue.appends_waiting():
                        return True
            while ranges:
                in_use = self.in_use()
                deleted, rest = self._database.delete_confirmed(ranges[0], in_use, DELETE_CHUNK)
                ranges[:1] = [] if rest is None else [rest]
                with self._cond:
                    self.books.deleted(deleted)
                    self.books.confirmed += sum(deleted.values())
                    if self.queue.appends_waiting():
                        return True
        finally:
            with self._cond:
                self.queue.put_back(job.deletes[done:], ranges)
        return True

    def _after_commit(self, job: Job, *, wrote: bool) -> None:
        recovered = False
        with self._cond:
            if wrote:  # a transaction went through: writing works
                self._failing = False
                if self.error is not None:
                    recovered = True
                    self.error = None
        if recovered:
            self._write_trouble.reset()
            log.info("outbox %s stores readings again", self.path)
        try:
            now = self._monotonic()
            # (After a failed delete the database may be closed: the next round reopens it.)
            if self._database.is_open and (job.group is not None or job.limits):
                self._limits.enforce_size()
            if self._database.is_open and (job.limits or now >= self._next_age_check):
                self._next_age_check = now + AGE_CHECK_S
                self._limits.enforce_age(self._wall_ns())
        except DamagedError as exc:
            self.queue.damaged(str(exc), self.queue.generation)
        except OutboxError as exc:
            self._complain(exc)
        self.queue.done(job)

    def _checkpoint_if_idle(self) -> None:
        """Copy a grown WAL into the database between rounds, unless appends wait.

        A card tap then waits for a checkpoint only if it arrives during one (~4 MB of
        pages). Under a load that never pauses, the database checkpoints at the urgent size.
        """
        with self._cond:
            if not self._database.checkpoint_due or self.queue.appends_waiting():
                return
        try:
            self._database.checkpoint()
        except DamagedError as exc:
            self.queue.damaged(str(exc), self.queue.generation)
        except OutboxError as exc:
            self._complain(exc)

    def _fail(self, job: Job, error: OutboxError, *, complain: bool = True) -> None:
        """The job could not be done: fail its appends, keep its deletes for later."""
        if complain:
            self._complain(error)
        refused = self.queue.failed(job, error)
        with self._cond:
            self.books.refused += refused

    def _complain(self, error: OutboxError) -> None:
        now = self._monotonic()
        with self._cond:
            self.error = error.cause
            self._failing = True
            self._next_retry = now + self.settings.retry_s
        self._write_trouble.log(
            logging.ERROR, "%s; readings cannot be stored durably until this is fixed", error
        )

    # Opening and damaged files.

    def _attempt_open(self) -> None:
        if self._database.is_open:
            return
        try:
            try:
                self._open()
            except DamagedError as exc:
                self._replace_damaged(str(exc))
                self._open()
        except (OutboxError, DamagedError) as exc:
            self._database.close()
            error = exc if isinstance(exc, OutboxError) else OutboxError(self.path, str(exc))
            self._complain(error)

    def _open(self) -> None:
        loaded = self._database.open()
        with self._cond:
            self.books.opened(loaded)
            self.error = None
            self._failing = False
            self._sending.wake()  # whatever is stored can go out
            self._cond.notify_all()
        self._write_trouble.reset()

    def _replace_damaged(self, cause: str) -> None:
        """Move a damaged file aside; the caller opens a fresh one."""
        error = self._database.move_aside(cause, self._wall_ns())
        if error is not None:
            self._complain(error)
            return
        with self._cond:
            self.queue.replaced()
            self._sending.reset()
            self.books.cleared()
