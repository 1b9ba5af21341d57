"""The running collector: configuration in, subscriber -> pipeline -> storage wired up.

Shutdown order matters for "nothing lost": first stop taking messages (later ones stay
unacked on the broker), then store and ack what is held (for a bounded time), then
disconnect, which sends the queued acks before the DISCONNECT. The session stays on the
broker, so whatever was not stored arrives again at the next start.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from collector.errors import CollectorError, StorageUnavailable
from collector.metrics import Metrics
from collector.pipeline import PipelineThread
from collector.storage import open_backend
from collector.subscriber import AckToken, Subscriber

if TYPE_CHECKING:
    import threading

    from collector.config import CollectorSettings
    from collector.storage.base import Writer

log = logging.getLogger(__name__)

STATS_INTERVAL_S = 60.0
"""How often the one-line summary of the counters is logged."""
FLUSH_TIMEOUT_S = 10.0
"""Longest the collector spends storing held readings when asked to stop."""


def run(
    settings: CollectorSettings,
    stop: threading.Event,
    *,
    metrics: Metrics | None = None,
    stats_interval_s: float = STATS_INTERVAL_S,
    flush_timeout_s: float = FLUSH_TIMEOUT_S,
) -> None:
    """Run the collector until ``stop`` is set; return after a clean shutdown.

    Storage or broker outages are waited out, never fatal.

    Raises:
        CollectorError: a worker thread failed unexpectedly (a bug). The collector has
            stopped cleanly anyway; exiting non-zero lets systemd restart it.
    """
    metrics = metrics or Metrics()
    failures: list[BaseException] = []

    def crashed(exc: BaseException) -> None:
        failures.append(exc)
        stop.set()

    backend = open_backend(settings.influxdb)
    try:
        _check_storage(backend, settings)
        subscriber = Subscriber(settings, metrics, on_crash=crashed)
        storage: PipelineThread[AckToken] = PipelineThread(
            backend, subscriber.ack, settings.batch, metrics, on_crash=crashed
        )
        storage.start()
        subscriber.start(storage.submit)
        try:
            while not stop.wait(stats_interval_s):
                subscriber.log_suppressed()
                log.info("so far: %s", metrics.summary())
        finally:
            subscriber.stop_accepting()
            storage.close(flush_timeout_s)
            subscriber.close()
    finally:
        backend.close()
    log.info("stopped; %s", metrics.summary())
    if failures:
        raise CollectorError(f"stopped after an unexpected error: {failures[0]!r}") from failures[0]


def _check_storage(writer: Writer, settings: CollectorSettings) -> None:
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
    log.info(
        "%s answers (version %s); writing to database %r",
        writer.target,
        version,
        settings.influxdb.database,
    )


__all__ = ["FLUSH_TIMEOUT_S", "STATS_INTERVAL_S", "run"]
