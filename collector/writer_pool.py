"""Batching, writing and acknowledging: a message is acknowledged only once it is stored.

:class:`WriterPool` runs the batching policy (:mod:`collector.batching`) with ``writers``
threads, each with its own connection (:class:`~collector.storage.base.Writer`). The MQTT thread
calls :meth:`WriterPool.submit` with one message's :class:`~collector.batching.Delivery`
(its lines, its ack token, what to confirm to its gateway); a writer takes a sealed batch,
stores it, and only then hands the batch's tokens and confirmations to ``stored`` (in one
call: the subscriber publishes the receipts, then sends the acks as one write). Batches
may be stored out of order: the broker tracks each message, not a position.

Memory is bounded by two caps, checked in :meth:`WriterPool.submit`, which does not take
a message while either is reached: ``max_unacked`` messages and ``max_unacked_points``
lines held between submit and ack. It never blocks (a blocked MQTT network thread would
answer no keepalive, and the broker would drop the collector and fire its Will): the
subscriber leaves such a message unacknowledged with the broker and has it sent again
once :attr:`WriterPool.has_room` (see :mod:`collector.subscriber`). Lines that belong to
no message (the collector's own metrics) are always taken; they are few and are counted
against the caps all the same.

What a failed write does:

- :class:`~collector.errors.StorageUnavailable`: the writer keeps its batch, acks
  nothing, and retries after a capped, jittered backoff; other batches queue behind it
  until the caps are reached. Nothing is ever dropped for being late.
- :class:`~collector.errors.PointsRejected`: the batch is split in halves and each half
  written again, down to single lines; only a line refused on its own is dropped, and
  ``dead_letter`` turns it (with InfluxDB's reason) into a dead-letter line, which is
  written *as part of the same batch*: the batch's messages are acked (and confirmed)
  only once their readings or their dead letters are stored. Rewriting the halves is
  harmless: the same reading is the same point (see :mod:`collector.storage.points`).
  If storage becomes unavailable while a batch is being split, the retry resumes with
  the pieces not yet written: a line already refused is not refused (and
  dead-lettered) twice.

At shutdown (:meth:`WriterPool.close`) the writers go on storing what is held, the open
batch included, until it is all stored or the time given is up; whatever is left then is
unacknowledged, so the broker sends it again to the next start. Nothing that was acked
waits anywhere.

Storage's progress and its failing writers, as the watchdog sees them: :mod:`collector.progress`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from typing import TYPE_CHECKING

from collector.batching import Batch, Batcher, Delivery, Token
from collector.errors import PointsRejected, StorageUnavailable
from collector.progress import StorageProgress
from pelangi.backoff import Backoff
from pelangi.throttle import ThrottledLog

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from collector.config import BatchSettings
    from collector.confirmations import Confirm
    from collector.metrics import Metrics
    from collector.progress import Progress
    from collector.storage.base import Writer

log = logging.getLogger(__name__)

IDLE_WAKE_S = 1.0
"""Writers wake at least this often, so the watchdog sees them alive while idle."""


class WriterPool:
    """Runs the batching policy with writer threads; see the module docstring."""

    def __init__(  # noqa: PLR0913 - collaborators, then keyword-only tuning
        self,
        writers: Sequence[Writer],
        stored: Callable[[list[Token], list[Confirm]], None],
        batch: BatchSettings,
        metrics: Metrics,
        *,
        dead_letter: Callable[[str, str], str | None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        backoff: Callable[[], Backoff] = Backoff,
        on_crash: Callable[[BaseException], None] | None = None,
    ) -> None:
        """Create the pipeline; the writer threads start with :meth:`start`.

        Args:
            writers: one per writer thread (each holds its own connection).
            stored: confirms and acknowledges the messages of a stored batch (called on
                a writer thread with the batch's tokens and confirmations).
            batch: batch size and delay, the caps, the number of writers.
            metrics: counters to update.
            dead_letter: called with ``(line, reason)`` for every line storage refused on
                its own (after it is dropped, logged and counted); returns the dead-letter
                line to store in its place (None: nothing).
            clock: monotonic seconds.
            backoff: makes one retry schedule per writer.
            on_crash: called if a writer dies of an unexpected error (a bug), so the
                service can stop and be restarted instead of silently stalling.
        """
        self._writers = list(writers)
        self._stored = stored
        self._metrics = metrics
        self._dead_letter = dead_letter
        self._clock = clock
        self._backoff = backoff
        self._on_crash = on_crash
        self._batcher = Batcher(batch.max_points, batch.max_delay_ms / 1000)
        self._max_messages = batch.max_unacked
        self._max_points = batch.max_unacked_points
        self._cond = threading.Condition()
        self._ready: deque[Batch] = deque()
        self._messages = 0
        self._points = 0
        self._stopping = False
        self._deadline = 0.0
        self._progress = StorageProgress(clock())
        self._drop_log = ThrottledLog(log, burst=10, interval_s=60.0, clock=clock)
        self._beats = [clock()] * len(self._writers)
        self._threads = [
            threading.Thread(target=self._main, args=(k,), name=f"pelangi-writer-{k}", daemon=True)
            for k in range(len(self._writers))
        ]

    # -- the MQTT side -------------------------------------------------------------------

    @property
    def unacked(self) -> tuple[int, int]:
        """``(messages, points)`` held: submitted, not yet stored and acknowledged."""
        with self._cond:
            return self._messages, self._points

    @property
    def full(self) -> bool:
        """Whether a cap is reached (:meth:`submit` takes nothing now)."""
        with self._cond:
            return self._full()

    @property
    def has_room(self) -> bool:
        """Whether less than half of each cap is held: room to take messages back."""
        with self._cond:
            return (
                self._messages <= self._max_messages // 2 and self._points <= self._max_points // 2
            )

    def start(self) -> None:
        """Start the writer threads."""
        for thread in self._threads:
            thread.start()

    def submit(self, delivery: Delivery) -> bool:
        """Take one message, unless a cap is reached or :meth:`close` has begun.

        Never blocks. Returns whether the message was taken; one not taken must not be
        acked (the broker keeps it).
        """
        with self._cond:
            if self._stopping or self._full():
                return False
            self._take(delivery)
        return True

    def add_internal(self, lines: Sequence[str]) -> None:
        """Queue lines that belong to no message (own metrics); never blocks.

        Also while :meth:`close` runs: they are stored if time allows.
        """
        with self._cond:
            self._take(Delivery(lines))

    def _full(self) -> bool:
        # A message bigger than the whole point cap still passes when nothing else is held.
        return self._messages >= self._max_messages or self._points >= self._max_points

    def _take(self, delivery: Delivery) -> None:
        if not self._messages:
            self._progress.waiting_begins(self._clock())
        self._messages += 1
        self._points += len(delivery.lines)
        self._metrics.set_unacked(self._messages, self._points)
        sealed = self._batcher.add(delivery, self._clock())
        if sealed:
            self._ready.extend(sealed)
            self._cond.notify_all()
        elif self._batcher.open_points == len(delivery.lines):
            self._cond.notify_all()  # a new open batch: writers must time its delay

    # -- the watchdog's view ------------------------------------------------------------

    def progress(self) -> Progress:
        """How storage is doing, for the watchdog (:func:`collector.watchdog.stall_reason`)."""
        with self._cond:
            return self._progress.progress(self._points, min(self._beats))

    # -- shutdown ------------------------------------------------------------------------

    def close(self, timeout: float) -> int:
        """Stop taking messages, store and ack what is held (for up to ``timeout`` s).

        Returns the number of messages left unacknowledged (the broker keeps them).
        """
        with self._cond:
            self._stopping = True
            self._deadline = self._clock() + timeout
            self._cond.notify_all()
        for thread in self._threads:
            if thread.is_alive():
                thread.join()
        messages, _ = self.unacked
        if messages:
            log.warning(
                "stopping with %d messages not stored; the broker keeps them and sends them "
                "again at the next start",
                messages,
            )
        return messages

    # -- the writer threads --------------------------------------------------------------

    def _main(self, k: int) -> None:
        try:
            writer, backoff = self._writers[k], self._backoff()
            while (batch := self._next_batch(k)) is not None:
                if self._store_with_retry(k, writer, backoff, batch):
                    self._done(batch)
        except Exception as exc:
            log.exception("a storage writer thread failed; stopping")
            if self._on_crash is not None:
                self._on_crash(exc)

    def _next_batch(self, k: int) -> Batch | None:
        """The next batch to write; None when stopping and nothing is left (or time is up)."""
        with self._cond:
            while True:
                now = self._clock()
                self._beats[k] = now
                if self._stopping and now >= self._deadline:
                    return None
                if self._ready:
                    return self._ready.popleft()
                due = self._batcher.next_due()
                if due is not None and (due <= now or self._stopping):
                    return self._batcher.seal()
                if self._stopping:
                    return None
                wait = IDLE_WAKE_S if due is None else min(IDLE_WAKE_S, due - now)
                self._cond.wait(wait)

    def _store_with_retry(self, k: int, writer: Writer, backoff: Backoff, batch: Batch) -> bool:
        """Store ``batch``, waiting out outages; False if shutdown came first."""
        while True:
            try:
                self._store(k, writer, batch)
            except StorageUnavailable as exc:
                delay = backoff.next_delay()
                self._outage(k, writer, exc, delay, first=backoff.attempt == 1)
                with self._cond:
                    end = self._clock() + delay
                    while not self._stopping and (left := end - self._clock()) > 0:
                        self._beats[k] = self._clock()
                        self._cond.wait(min(left, IDLE_WAKE_S))
                    self._beats[k] = self._clock()
                    if self._stopping and self._clock() >= self._deadline:
                        return False
                continue
            if backoff.attempt:
                backoff.reset()
                self._recovered(writer)
            return True

    def _store(self, k: int, writer: Writer, batch: Batch) -> None:
        """Write ``batch``; on rejection, split until each refused line stands alone.

        Raises:
            StorageUnavailable: the pieces not yet written stay in ``batch.todo``.
        """
        todo = batch.todo if batch.todo is not None else [batch.lines]
        batch.todo = todo
        while todo:
            lines = todo.pop()
            self._beats[k] = self._clock()
            started = time.perf_counter()
            try:
                writer.write(lines)
            except PointsRejected as exc:
                if len(lines) == 1:
                    letter = self._drop(writer, lines[0], exc.message)
                    if letter is not None:
                        todo.append([letter])  # stored before the batch is done
                    continue
                middle = len(lines) // 2
                todo += [lines[middle:], lines[:middle]]  # the first half next
                continue
            except StorageUnavailable:
                todo.append(lines)
                raise
            self._metrics.write_succeeded(len(lines), time.perf_counter() - started)
            with self._cond:
                self._progress.stored(k, self._clock())

    def _done(self, batch: Batch) -> None:
        if batch.tokens or batch.confirms:
            self._stored(batch.tokens, batch.confirms)
        with self._cond:
            self._messages -= batch.messages
            self._points -= len(batch.lines)
            self._metrics.set_unacked(self._messages, self._points)
            self._cond.notify_all()
        self._metrics.messages_acked(batch.messages)

    def _drop(self, writer: Writer, line: str, reason: str) -> str | None:
        self._metrics.point_rejected()
        shown = line if len(line) <= 300 else line[:300] + "..."
        self._drop_log.log(
            logging.WARNING,
            "%s refused a point, dropping it because %s; the point: %s",
            writer.target,
            reason,
            shown,
        )
        return None if self._dead_letter is None else self._dead_letter(line, reason)

    def _outage(
        self, k: int, writer: Writer, exc: StorageUnavailable, delay: float, *, first: bool
    ) -> None:
        self._metrics.storage_retry()
        with self._cond:
            reason = f"{writer.target}: {exc.reason}"
            self._progress.failed(k, reason, self._clock(), answered=exc.answered)
            points = self._points
        log.log(
            logging.ERROR if first else logging.WARNING,
            "%s unavailable (%s); retrying in %.1f s, %d readings waiting",
            writer.target,
            exc.reason,
            delay,
            points,
        )

    def _recovered(self, writer: Writer) -> None:
        with self._cond:
            since = self._progress.recovered()
            points = self._points
        if since is not None:
            log.info(
                "%s is back after %.1f s; storing the %d waiting readings",
                writer.target,
                self._clock() - since,
                points,
            )


__all__ = ["IDLE_WAKE_S", "WriterPool"]
