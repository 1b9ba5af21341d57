"""Alerts as the ``alert`` measurement in InfluxDB, for Grafana's annotations.

One point per firing and per resolution: tags ``rule``, ``site``, ``gateway``, ``device``,
``severity`` (empty parts left out), fields ``state`` (``firing``/``resolved``),
``value`` (the alert's value in words), ``item`` (a port, a card) and ``suppressed``
(fired while its cause explained it, so no one was told), at the transition's time. A
point re-written after a restart has the same series and time, so InfluxDB keeps one.

:class:`AnnotationWriter` writes on a thread of its own from a bounded queue: the engine
hands transitions over and never waits for InfluxDB. A failed write is retried with a
capped backoff (the points stay queued); when InfluxDB stays away long enough for the
queue to fill, the oldest waiting points are dropped, counted and logged (the alert state
itself is in the state database; these are only the annotations). The batch being written
is not among them: it stays the writer's until InfluxDB has answered. A batch InfluxDB refuses as
malformed is logged and dropped: retrying it would block the rest for ever.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from typing import TYPE_CHECKING, Final

from collector.alerts.model import Phase
from collector.errors import InvalidPointError, PointsRejected, StorageError
from collector.storage.lineprotocol import Point, to_line
from pelangi.backoff import Backoff
from pelangi.throttle import ThrottledLog

if TYPE_CHECKING:
    from collections.abc import Iterable

    from collector.alerts.model import Transition
    from collector.storage.influx_v1 import InfluxV1Writer

log = logging.getLogger(__name__)

MEASUREMENT: Final = "alert"
MAX_QUEUED: Final = 100_000
"""Points kept while InfluxDB is away (a few MB): beyond it the oldest go."""
BATCH: Final = 5000


def point_of(transition: Transition) -> Point | None:
    """The annotation of ``transition`` (None: not a firing or a resolution)."""
    alert = transition.alert
    if alert.phase is Phase.FIRING:
        if transition.previous is Phase.FIRING and not transition.released:
            return None
    elif alert.phase is not Phase.RESOLVED or transition.previous is not Phase.FIRING:
        return None
    key = alert.key
    tags = {
        "rule": key.rule,
        "site": key.site,
        "gateway": key.gateway,
        "device": key.device,
        "severity": alert.severity.value,
    }
    fields: dict[str, str | bool] = {
        "state": alert.phase.value,
        "value": alert.value,
        "item": key.item,
        "suppressed": alert.suppressed_by is not None,
    }
    at = transition.at
    time_ns = int(at.timestamp()) * 1_000_000_000 + at.microsecond * 1000
    return Point(MEASUREMENT, tags, fields, time_ns)


class AnnotationWriter:
    """Writes annotations of transitions through ``writer`` (see the module docstring).

    The batch being written is taken out of the queue, and put back at its head if the
    write fails: points queued meanwhile, even into a full queue, push out only points
    that are waiting, never the batch whose fate is not known yet.
    """

    def __init__(self, writer: InfluxV1Writer, max_queued: int = MAX_QUEUED) -> None:
        """Write with ``writer``, keeping at most ``max_queued`` points waiting (+ a batch).

        Nothing is written until :meth:`start`.
        """
        self._writer = writer
        self._max_queued = max_queued
        self._lines: deque[str] = deque()
        self._batch: list[str] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._backoff = Backoff(base=1.0, cap=60.0)
        self._trouble = ThrottledLog(log, burst=1, interval_s=300.0)
        self.written = 0
        """Points InfluxDB accepted."""
        self.dropped = 0
        """Points lost: refused as malformed, or pushed out of a full queue."""
        self._thread = threading.Thread(target=self._main, name="pelangi-alerts-influx")

    def start(self) -> None:
        """Start writing on the writer's thread."""
        self._thread.start()

    def add(self, transitions: Iterable[Transition]) -> None:
        """Queue the annotations of ``transitions`` (never blocks on InfluxDB)."""
        lines = []
        for transition in transitions:
            try:
                point = point_of(transition)
            except InvalidPointError as exc:  # a name InfluxDB cannot hold: skip that one
                self._trouble.log(logging.WARNING, "alert annotation skipped: %s", exc)
                continue
            if point is not None:
                lines.append(to_line(point))
        if not lines:
            return
        with self._lock:
            self._lines.extend(lines)
            self._trim()
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        """Write what is queued (one try), then end the thread."""
        self._stopping.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    @property
    def pending(self) -> int:
        """Points waiting to be written (the batch being written included)."""
        with self._lock:
            return len(self._lines) + len(self._batch)

    @property
    def in_flight(self) -> int:
        """Points of the batch being written now (0: none)."""
        with self._lock:
            return len(self._batch)

    def _trim(self) -> None:
        """Drop the oldest waiting points beyond ``max_queued`` (the lock held)."""
        excess = len(self._lines) - self._max_queued
        if excess <= 0:
            return
        for _ in range(excess):
            self._lines.popleft()
        self.dropped += excess
        self._trouble.log(
            logging.WARNING,
            "alert annotations dropped: %d oldest (%d so far): the queue of %d is full "
            "while %s is away",
            excess,
            self.dropped,
            self._max_queued,
            self._writer.target,
            key="full",
        )

    def _main(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            while self.pending:
                if not self._write_batch() and not self._stopping.wait(self._backoff.next_delay()):
                    continue
                if self._stopping.is_set():
                    break
            if self._stopping.is_set():
                return

    def _write_batch(self) -> bool:
        with self._lock:
            self._batch = [self._lines.popleft() for _ in range(min(BATCH, len(self._lines)))]
            batch = self._batch
        try:
            self._writer.write(batch)
        except PointsRejected as exc:
            # The server's reply says why; a traceback would not.
            log.error("InfluxDB refused %d alert annotations, dropped: %s", len(batch), exc)  # noqa: TRY400
            with self._lock:
                self.dropped += len(batch)
        except (StorageError, OSError) as exc:
            self._trouble.log(
                logging.WARNING, "alert annotations wait: %s %s", self._writer.target, exc
            )
            with self._lock:  # back at the head, in order: the oldest are dropped first
                self._lines.extendleft(reversed(batch))
                self._batch = []
                self._trim()
            return False
        else:
            self.written += len(batch)
            self._backoff.reset()
        with self._lock:
            self._batch = []
        return True


__all__ = ["MEASUREMENT", "AnnotationWriter", "point_of"]
