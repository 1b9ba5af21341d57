"""The writer's queue: what other threads hand to the writer thread, and how they wait.

Appends join the next :class:`Group` (one commit) and wait for it; deletes (rows by id,
and seq ranges a receipt confirmed) are queued and committed later; flushes wait for
the round that covers them. The writer thread
takes everything pending as one :class:`Job` per round. All state here is guarded by
the condition variable the store shares with the writer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from edge_agent.outbox._errors import OutboxError

if TYPE_CHECKING:
    import threading
    from collections.abc import Callable, Iterable, Sequence
    from pathlib import Path

    from edge_agent.outbox._values import OutboxEntry


@dataclass(eq=False)
class Group:
    """Appends that will share one commit."""

    entries: list[OutboxEntry] = field(default_factory=list)
    ids: list[int] | None = None
    error: OutboxError | None = None
    done: bool = False


@dataclass(frozen=True, slots=True)
class SeqRange:
    """Rows whose seq is in ``first..last`` (inclusive) are to go.

    Rows with seq ``first`` and an id up to ``after_id`` are done already (a range is
    deleted page by page, in ``(seq, id)`` order).
    """

    first: int
    last: int
    after_id: int = 0


@dataclass(frozen=True, slots=True)
class Job:
    """What the writer does in one round."""

    group: Group | None
    deletes: list[tuple[int, bool]]
    confirmed: list[SeqRange]
    limits: bool
    flush: int
    stop: bool
    generation: int
    """The file the deletes refer to: they are dropped if it was replaced meanwhile."""

    @property
    def has_deletes(self) -> bool:
        """Whether the job deletes rows."""
        return bool(self.deletes or self.confirmed)


class WorkQueue:
    """Work for the writer thread (see the module docstring)."""

    def __init__(self, path: Path, cond: threading.Condition) -> None:
        """An empty queue for the outbox at ``path``, guarded by ``cond``."""
        self.path = path
        self.cond = cond
        self.generation = 0
        """The file deletes refer to; bumped when it is replaced (read it under the lock)."""
        self._group = Group()
        self._deletes: list[tuple[int, bool]] = []
        self._confirmed: list[SeqRange] = []
        self._limits = False
        self._damage: str | None = None
        self._damage_generation = 0  # the file the damage was found in
        self._flush_requested = self._flushed = 0
        self._stop = False
        self._closed = False

    # Other threads.

    def join(self, entries: Sequence[OutboxEntry]) -> list[int]:
        """Join the next group commit; return the new row ids once it is committed."""
        with self.cond:
            if self._stop:
                raise OutboxError(self.path, "the outbox is closed")
            group = self._group
            start = len(group.entries)
            group.entries.extend(entries)
            self.cond.notify_all()
            self.cond.wait_for(lambda: group.done)
            if group.error is not None:
                raise group.error
            assert group.ids is not None  # noqa: S101 - set with done when error is None
            return group.ids[start : start + len(entries)]

    def delete(self, rows: Iterable[tuple[int, bool]]) -> None:
        """Queue rows ``(id, is_event)`` for deletion (call with the lock held)."""
        self._deletes.extend(rows)
        self.cond.notify_all()

    def delete_confirmed(self, ranges: Iterable[tuple[int, int]]) -> None:
        """Queue the rows whose seq is in ``ranges`` for deletion (call with the lock held).

        The writer leaves out rows the sending side holds: it deletes those by id.
        """
        self._confirmed.extend(SeqRange(first, last) for first, last in ranges)
        self.cond.notify_all()

    def request(self, *, limits: bool, timeout: float) -> bool:
        """Wait until the work queued so far is done (and the limits applied)."""
        with self.cond:
            if self._stop:
                return False
            self._flush_requested += 1
            target = self._flush_requested
            self._limits |= limits
            self.cond.notify_all()
            return self.cond.wait_for(lambda: self._flushed >= target or self._closed, timeout)

    def damaged(self, cause: str, generation: int) -> None:
        """The file of ``generation`` was found damaged: the writer replaces it."""
        with self.cond:
            self._damage = cause
            self._damage_generation = generation
            self.cond.notify_all()

    def stop(self) -> None:
        """No more appends; the writer finishes what is queued and stops."""
        with self.cond:
            self._stop = True
            self.cond.notify_all()

    @property
    def stopping(self) -> bool:
        """Whether :meth:`stop` was called (read it with the lock held)."""
        return self._stop

    # The writer thread.

    def next_job(self, now: Callable[[], float], due: Callable[[], tuple[float, bool]]) -> Job:
        """Wait for work and take all of it.

        ``due()`` (called with the lock held) says when background work is due and
        whether queued deletes may go now (not while the last write failed: no busy
        loop while the disk is full).
        """
        with self.cond:
            while True:
                at = now()
                urgent = (
                    bool(self._group.entries)  # every append is an attempt, failing or not
                    or self._flush_requested > self._flushed
                    or self._limits
                    or self._damage is not None
                    or self._stop
                )
                due_at, deletes_may_go = due()
                background = deletes_may_go and bool(self._deletes or self._confirmed)
                if urgent or background or at >= due_at:
                    return self._take()
                self.cond.wait(max(0.0, due_at - at))

    def _take(self) -> Job:
        group = self._group if self._group.entries else None
        if group is not None:
            self._group = Group()
        job = Job(
            group=group,
            deletes=self._deletes,
            confirmed=self._confirmed,
            limits=self._limits,
            flush=self._flush_requested,
            stop=self._stop,
            generation=self.generation,
        )
        self._deletes = []
        self._confirmed = []
        self._limits = False
        return job

    def take_damage(self) -> str | None:
        """The damage reported in the current file, if any (it is forgotten now)."""
        with self.cond:
            cause, self._damage = self._damage, None
            return cause if self._damage_generation == self.generation else None

    def put_back(self, deletes: list[tuple[int, bool]], confirmed: list[SeqRange]) -> None:
        """Deletes not done (call with the lock held): first in line for the next round."""
        self._deletes[:0] = deletes
        self._confirmed[:0] = confirmed

    def replaced(self) -> None:
        """The file was replaced (call with the lock held): its deletes mean nothing now."""
        self.generation += 1
        self._deletes.clear()
        self._confirmed.clear()

    def done(self, job: Job) -> None:
        """The round is over: wake whoever waits for it."""
        with self.cond:
            self._flushed = max(self._flushed, job.flush)
            self.cond.notify_all()

    def failed(self, job: Job, error: OutboxError) -> int:
        """The job could not be done: fail its appends (return how many), keep its deletes."""
        refused = 0
        with self.cond:
            if job.group is not None and not job.group.done:
                job.group.error = error
                job.group.done = True
                refused = len(job.group.entries)
            if job.generation == self.generation:
                self.put_back(job.deletes, job.confirmed)
            self._flushed = max(self._flushed, job.flush)
            self.cond.notify_all()
        return refused

    def appends_waiting(self) -> bool:
        """Whether appends wait for the next round (call with the lock held)."""
        return bool(self._group.entries)

    def close(self) -> None:
        """The writer has stopped: appends that arrived after its last round fail."""
        with self.cond:
            self._closed = True
            if self._group.entries:
                self._group.error = OutboxError(self.path, "the outbox is closed")
                self._group.done = True
            self.cond.notify_all()
