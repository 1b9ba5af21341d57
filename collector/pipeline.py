"""Batching, writing and acknowledging: a message is acknowledged only once it is stored.

Two layers:

- :class:`Pipeline` is the policy, single-threaded and free of sockets: it holds
  received messages as line-protocol lines, decides when a batch is due (``max_points``
  reached, or the oldest message waited ``max_delay``), writes through a
  :class:`~collector.storage.base.Writer`, and calls ``ack`` for each message once all
  of its readings are stored or deliberately dropped. Time comes from an injected clock.
- :class:`PipelineThread` runs a pipeline on its own thread and is what the MQTT thread
  talks to: :meth:`PipelineThread.submit` hands over one message and blocks while
  ``max_unacked`` messages are unacknowledged, which bounds memory during an outage.

What a failed write does:

- :class:`~collector.errors.StorageUnavailable`: the batch stays, nothing is acked, the
  write is retried after a capped, jittered backoff. New messages keep queueing behind it
  until ``max_unacked`` is reached; then the MQTT thread waits and the broker keeps the
  rest. Nothing is ever dropped for being late.
- :class:`~collector.errors.PointsRejected`: the batch is split in halves and each half
  written again, down to single lines; only a line refused on its own is dropped (logged
  with InfluxDB's reason, counted). Then every message of the batch is acked. Rewriting
  the halves is harmless: the same reading is the same point (see
  :mod:`collector.storage.points`).

Why the MQTT callback may block: acks are sent from the storage thread
(``client.ack`` only queues a packet and wakes paho's loop; it takes no lock the loop
holds), so the storage thread never waits for the MQTT thread, and a blocked callback
cannot stop the acks that would unblock it.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

from collector.errors import InvalidPointError, PointsRejected, StorageUnavailable
from collector.storage.lineprotocol import to_line
from collector.storage.points import reading_to_point
from pelangi.backoff import Backoff
from pelangi.throttle import LogThrottle

if TYPE_CHECKING:
    from collections.abc import Callable

    from collector.config import BatchSettings
    from collector.metrics import Metrics
    from collector.storage.base import Writer
    from pelangi.payloads import Envelope

log = logging.getLogger(__name__)

T = TypeVar("T")
"""The ack token: whatever the caller needs to acknowledge one message (opaque here)."""

_MAX_LOGGED_LINE = 300


@dataclass(slots=True)
class _Held(Generic[T]):
    """One received message: its lines and its ack token, waiting to be stored."""

    token: T
    lines: list[str]
    since: float


class Pipeline(Generic[T]):
    """The batching, retry and ack policy (single-threaded; see the module docstring)."""

    def __init__(  # noqa: PLR0913 - collaborators, then the policy's keyword-only knobs
        self,
        writer: Writer,
        ack: Callable[[T], None],
        metrics: Metrics,
        *,
        max_points: int,
        max_delay_s: float,
        clock: Callable[[], float] = time.monotonic,
        backoff: Backoff | None = None,
        dead_letter: Callable[[str, str], None] | None = None,
    ) -> None:
        """Create an empty pipeline.

        Args:
            writer: where batches go.
            ack: called once per message, after its readings are stored (or dropped).
            metrics: counters to update.
            max_points: write as soon as this many readings are held.
            max_delay_s: write at the latest this long after the oldest held message
                arrived.
            clock: monotonic seconds.
            backoff: delays between retries while storage is unavailable.
            dead_letter: called with ``(line, reason)`` for every dropped line, after it
                is logged and counted (the next issue stores them in a dead-letter
                measurement).
        """
        self._writer = writer
        self._ack = ack
        self._metrics = metrics
        self._max_points = max_points
        self._max_delay_s = max_delay_s
        self._clock = clock
        self._backoff = backoff or Backoff()
        self._dead_letter = dead_letter
        self._held: deque[_Held[T]] = deque()
        self._points = 0
        self._retry_at: float | None = None
        self._outage_since: float | None = None
        self._drop_log = LogThrottle(burst=10, interval_s=60.0)

    @property
    def held(self) -> int:
        """Messages held: received, not yet stored and acknowledged."""
        return len(self._held)

    @property
    def held_points(self) -> int:
        """Readings held (the lines of the held messages)."""
        return self._points

    def add(self, envelope: Envelope, token: T) -> None:
        """Take one valid message; it is acked when its readings are stored or dropped."""
        lines = []
        for reading in envelope.readings:
            try:
                lines.append(to_line(reading_to_point(envelope, reading)))
            except InvalidPointError as exc:
                # The contract admits a few values storage cannot hold (ts = 2**63 - 1).
                self._drop(f"{envelope.topic} seq {reading.seq}", str(exc))
        if not lines:
            self._ack(token)
            return
        self._held.append(_Held(token, lines, self._clock()))
        self._points += len(lines)

    def next_due(self) -> float | None:
        """Clock time at which :meth:`flush` has work to do; None while nothing is held."""
        if not self._held:
            return None
        if self._retry_at is not None:
            return self._retry_at
        if self._points >= self._max_points:
            return self._clock()
        return self._held[0].since + self._max_delay_s

    def flush(self, *, force: bool = False) -> None:
        """Write every batch that is due; ``force`` writes everything held (shutdown).

        Stops at the first retryable failure; :meth:`next_due` then says when to retry.
        A retry is never brought forward, even by ``force``.
        """
        while self._held:
            now = self._clock()
            if self._retry_at is not None and now < self._retry_at:
                return
            size_due = self._points >= self._max_points
            age_due = now - self._held[0].since >= self._max_delay_s
            if not (force or size_due or age_due or self._retry_at is not None):
                return
            if not self._write_next():
                return

    def _write_next(self) -> bool:
        """Write the oldest batch; return False if storage is unavailable."""
        batch: list[_Held[T]] = []
        points = 0
        for held in self._held:
            if batch and points + len(held.lines) > self._max_points:
                break
            batch.append(held)
            points += len(held.lines)
        lines = list(itertools.chain.from_iterable(held.lines for held in batch))
        try:
            self._store(lines)
        except StorageUnavailable as exc:
            self._retry_later(exc)
            return False
        self._recovered()
        for _ in batch:
            self._held.popleft()
        self._points -= points
        for held in batch:
            self._ack(held.token)
        return True

    def _store(self, lines: list[str]) -> None:
        """Write ``lines``; on rejection, split until each refused line stands alone."""
        try:
            self._writer.write(lines)
        except PointsRejected as exc:
            if len(lines) == 1:
                self._drop(lines[0], exc.message)
                return
            middle = len(lines) // 2
            self._store(lines[:middle])
            self._store(lines[middle:])
            return
        self._metrics.write_succeeded(len(lines))

    def _drop(self, what: str, reason: str) -> None:
        self._metrics.point_rejected()
        now = self._clock()
        if self._drop_log.allow(now):
            shown = what if len(what) <= _MAX_LOGGED_LINE else what[:_MAX_LOGGED_LINE] + "..."
            log.warning(
                "%s refused a reading, dropping it because %s; the reading: %s",
                self._writer.target,
                reason,
                shown,
            )
        suppressed = self._drop_log.due(now)
        if suppressed:
            log.warning("dropped %d more refused readings in the last minute", suppressed.total())
        if self._dead_letter is not None:
            self._dead_letter(what, reason)

    def _retry_later(self, exc: StorageUnavailable) -> None:
        now = self._clock()
        delay = self._backoff.next_delay()
        self._retry_at = now + delay
        if self._outage_since is None:
            self._outage_since = now
        self._metrics.storage_retry()
        log.log(
            logging.ERROR if self._backoff.attempt == 1 else logging.WARNING,
            "%s unavailable (%s); retrying in %.1f s, %d readings waiting",
            self._writer.target,
            exc.reason,
            delay,
            self._points,
        )

    def _recovered(self) -> None:
        if self._outage_since is not None:
            log.info(
                "%s is back after %.1f s; storing the %d waiting readings",
                self._writer.target,
                self._clock() - self._outage_since,
                self._points,
            )
        self._outage_since = None
        self._retry_at = None
        self._backoff.reset()


class PipelineThread(Generic[T]):
    """Runs a :class:`Pipeline` on its own thread; the MQTT thread feeds it.

    At most ``max_unacked`` messages are held between :meth:`submit` and their ack;
    beyond that :meth:`submit` blocks, so memory stays bounded however long storage is
    away.
    """

    def __init__(  # noqa: PLR0913 - collaborators, then keyword-only tuning
        self,
        writer: Writer,
        ack: Callable[[T], None],
        batch: BatchSettings,
        metrics: Metrics,
        *,
        clock: Callable[[], float] = time.monotonic,
        on_crash: Callable[[BaseException], None] | None = None,
    ) -> None:
        """Create the pipeline; the thread starts with :meth:`start`.

        Args:
            writer: where batches go.
            ack: acknowledges one message to the broker (called on the storage thread).
            batch: batch size, delay and the cap on unacknowledged messages.
            metrics: counters to update.
            clock: monotonic seconds.
            on_crash: called if the thread dies of an unexpected error (a bug), so the
                service can stop and be restarted instead of silently stalling.
        """
        self._ack_downstream = ack
        self._metrics = metrics
        self._clock = clock
        self._on_crash = on_crash
        self.pipeline: Pipeline[T] = Pipeline(
            writer,
            self._acked,
            metrics,
            max_points=batch.max_points,
            max_delay_s=batch.max_delay_ms / 1000,
            clock=clock,
        )
        self._max_unacked = batch.max_unacked
        self._cond = threading.Condition()
        self._inbox: deque[tuple[Envelope, T]] = deque()
        self._unacked = 0
        self._stopping = False
        self._deadline = 0.0
        self._thread = threading.Thread(target=self._main, name="pelangi-storage", daemon=True)

    @property
    def unacked(self) -> int:
        """Messages submitted and not yet acknowledged."""
        with self._cond:
            return self._unacked

    def start(self) -> None:
        """Start the storage thread."""
        self._thread.start()

    def submit(self, envelope: Envelope, token: T) -> bool:
        """Hand one valid message over for storage; blocks while the cap is reached.

        Returns False, without taking the message, once :meth:`close` has begun: the
        caller must not ack it (the broker sends it again to the next session).
        """
        with self._cond:
            while self._unacked >= self._max_unacked and not self._stopping:
                self._cond.wait()
            if self._stopping:
                return False
            self._unacked += 1
            self._metrics.set_unacked(self._unacked)
            self._inbox.append((envelope, token))
            # The storage thread only sleeps with an empty inbox: wake it on the first item.
            if len(self._inbox) == 1:
                self._cond.notify_all()
        return True

    def close(self, timeout: float) -> int:
        """Stop taking messages, store and ack what is held (for up to ``timeout`` s).

        Returns the number of messages left unacknowledged (the broker keeps them).
        """
        with self._cond:
            self._stopping = True
            self._deadline = self._clock() + timeout
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join()
        return self.unacked

    def _acked(self, token: T) -> None:
        with self._cond:
            self._unacked -= 1
            self._metrics.set_unacked(self._unacked)
            if self._unacked == self._max_unacked - 1:
                self._cond.notify_all()
        self._ack_downstream(token)
        self._metrics.messages_acked()

    def _main(self) -> None:
        try:
            while self._step():
                pass
            self._drain()
        except Exception as exc:
            log.exception("the storage thread failed; stopping")
            if self._on_crash is not None:
                self._on_crash(exc)

    def _step(self) -> bool:
        """Take what was submitted and write what is due; False once stopping."""
        with self._cond:
            while not self._inbox and not self._stopping:
                due = self.pipeline.next_due()
                wait = None if due is None else due - self._clock()
                if wait is not None and wait <= 0:
                    break
                self._cond.wait(wait)
            items = list(self._inbox)
            self._inbox.clear()
            stopping = self._stopping
        for envelope, token in items:
            self.pipeline.add(envelope, token)
        if stopping:
            return False
        self.pipeline.flush()
        return True

    def _drain(self) -> None:
        """At shutdown: write everything held, retrying until the deadline."""
        while self.pipeline.held:
            self.pipeline.flush(force=True)
            due = self.pipeline.next_due()
            if due is None:
                break
            if due >= self._deadline:
                log.warning(
                    "stopping with %d messages not stored; the broker keeps them and sends "
                    "them again at the next start",
                    self.pipeline.held,
                )
                break
            time.sleep(max(0.0, due - self._clock()))


__all__ = ["Pipeline", "PipelineThread"]
