"""The running collector: configuration in, subscriber -> pool -> storage wired up.

Shutdown order matters for "nothing lost": first stop taking messages (later ones stay
unacked on the broker), then store and ack what is held (for a bounded time), then say
we are offline and disconnect, which sends the queued acks before the DISCONNECT. The
session stays on the broker, so whatever was not stored arrives again at the next start.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from collector.deadletter import DeadLetters, UniqueClock
from collector.errors import CollectorError, StorageUnavailable
from collector.metrics import Metrics
from collector.selfstats import stats_line
from collector.storage import open_backend
from collector.storage.points import DEAD_LETTER
from collector.subscriber import Subscriber
from collector.watchdog import SystemdNotifier, Watchdog, stall_reason
from collector.writer_pool import WriterPool

if TYPE_CHECKING:
    import threading
    from collections.abc import Callable

    from collector.config import CollectorSettings
    from collector.metrics import Snapshot
    from collector.storage.base import Writer

log = logging.getLogger(__name__)

LOG_INTERVAL_S = 60.0
"""How often the one-line summary of the counters is logged."""
FLUSH_TIMEOUT_S = 10.0
"""Longest the collector spends storing held readings when asked to stop."""


def run(  # noqa: PLR0913 - the settings, then test and CLI hooks, all keyword-only
    settings: CollectorSettings,
    stop: threading.Event,
    *,
    metrics: Metrics | None = None,
    log_interval_s: float = LOG_INTERVAL_S,
    flush_timeout_s: float = FLUSH_TIMEOUT_S,
    on_stall: Callable[[str], None] | None = None,
    notifier: SystemdNotifier | None = None,
) -> None:
    """Run the collector until ``stop`` is set; return after a clean shutdown.

    Storage or broker outages are waited out, never fatal.

    Args:
        settings: the configuration.
        stop: set it to stop the collector.
        metrics: counters (a fresh set if None).
        log_interval_s: how often the counters' summary is logged.
        flush_timeout_s: longest spent storing held messages when stopping.
        on_stall: what to do when the watchdog finds the collector stalled (default:
            stop, as for an unexpected error; the CLI exits at once instead).
        notifier: systemd notifications (default: ``$NOTIFY_SOCKET``, if set).

    Raises:
        CollectorError: a worker thread failed unexpectedly (a bug) or stalled. The
            collector has stopped anyway; exiting non-zero lets systemd restart it.
    """
    metrics = metrics or Metrics()
    notifier = notifier or SystemdNotifier()
    failures: list[BaseException] = []

    def crashed(exc: BaseException) -> None:
        failures.append(exc)
        stop.set()

    def stalled(reason: str) -> None:
        crashed(CollectorError(f"stalled: {reason}"))

    clock = UniqueClock()
    dead = DeadLetters(settings.collector_id, settings.dead_letter, clock)
    writers = [open_backend(settings.influxdb) for _ in range(settings.batch.writers)]
    try:
        _check_storage(writers[0])
        subscriber = Subscriber(settings, metrics, dead, on_crash=crashed)

        def dead_letter(line: str, reason: str) -> str | None:
            letter = dead.point(line, reason)  # logged to the dead-letter file in any case
            # A refused dead letter gets no dead letter of its own (no endless chain).
            return None if line.startswith(f"{DEAD_LETTER},") else letter

        pool = WriterPool(
            writers,
            subscriber.stored,
            settings.batch,
            metrics,
            dead_letter=dead_letter,
            on_crash=crashed,
        )
        network = subscriber.network

        def check(now: float) -> str | None:
            beat = network.beat if network.alive else None
            return stall_reason(pool.progress(), beat, now, settings.stall_timeout_s)

        watchdog = Watchdog(check, on_stall or stalled, notifier)
        pool.start()
        subscriber.start(pool.submit, lambda: pool.has_room)
        watchdog.start()
        notifier.notify("READY=1")
        try:
            _until_stopped(
                settings,
                stop=stop,
                metrics=metrics,
                pool=pool,
                subscriber=subscriber,
                clock=clock,
                log_interval_s=log_interval_s,
            )
        finally:
            notifier.notify("STOPPING=1")
            watchdog.stop()
            subscriber.stop_accepting()
            pool.close(flush_timeout_s)
            subscriber.close()
    finally:
        for writer in writers:
            writer.close()
        dead.close()
    log.info("stopped; %s", metrics.summary())
    if failures:
        raise CollectorError(f"stopped after an unexpected error: {failures[0]!r}") from failures[0]


def _until_stopped(  # noqa: PLR0913 - the running parts, passed in by run()
    settings: CollectorSettings,
    *,
    stop: threading.Event,
    metrics: Metrics,
    pool: WriterPool,
    subscriber: Subscriber,
    clock: UniqueClock,
    log_interval_s: float,
) -> None:
    """Write our own metrics every ``stats_interval_s`` and log a summary now and then."""
    previous: Snapshot | None = None
    next_log = time.monotonic() + log_interval_s
    while not stop.wait(settings.stats_interval_s):
        snapshot = metrics.snapshot()
        # Not while full: memory stays bounded through a long outage, and the next point
        # carries the totals anyway.
        if not pool.full:
            pool.add_internal([stats_line(settings.collector_id, snapshot, previous, clock())])
            previous = snapshot
        if time.monotonic() >= next_log:
            next_log += log_interval_s
            subscriber.log_suppressed()
            log.info("so far: %s", snapshot.summary())
    # The last counters, stored with what is held at shutdown (if time allows).
    if not pool.full:
        pool.add_internal(
            [stats_line(settings.collector_id, metrics.snapshot(), previous, clock())]
        )


def _check_storage(writer: Writer) -> None:
    """Say in the log whether storage answers; readings wait in the broker if it does not."""
    try:
        version = writer.ping()
    except StorageUnavailable as exc:
        log.warning(
            "%s unavailable (%s); readings wait in the MQTT broker until it answers",
            writer.target,
            exc.reason,
        )
        return
    log.info("%s answers (version %s)", writer.target, version)


__all__ = ["FLUSH_TIMEOUT_S", "LOG_INTERVAL_S", "run"]
