"""The alert engine process: ``pelangi-collector alerts run`` calls :func:`run_engine`.

Wiring: the state database (:class:`~collector.alerts.store.AlertStore`), the attendance
calendar and registry (for the door and card rules), the MQTT session
(:class:`~collector.alerts.feed.Feed`), the engine loop
(:class:`~collector.alerts.runner.Runner`), the outbox's delivery
(:class:`~collector.alerts.sender.Sender`), the ``alert`` measurement
(:class:`~collector.alerts.annotations.AnnotationWriter`) and the daily digest
(:class:`~collector.alerts.digest_job.DigestJob`, reading InfluxDB).

One active engine, standbys beside it
=====================================

Only the holder of the engine lease (``engine_lease``, :mod:`collector.alerts._lease`)
acts. A process that does not hold it is a *standby*: it tries to take the lease every
``lease_ttl_s / 3`` and does nothing else — it does **not** connect to MQTT. Once it holds
the lease it restores the engine and grouper from the state database (the document the
last holder saved in its last transaction), connects, and runs. The active engine renews
the lease every ``lease_ttl_s / 3``, and every write it makes is fenced by the lease: an
engine that stalled past its lease and lost it cannot write, ack or send any more; it
drops its MQTT connection and goes back to standing by.

**The MQTT session belongs to the role, not to the process.** The client id is
``pelangi-alerts-<session>``, where ``session`` is ``engine.mqtt_session`` (default: the
``engine_id``). Give the active engine and its standbys the same ``mqtt_session`` (and
distinct ``engine_id`` s, which name the lease holders): then a standby taking over
connects to the *same* persistent session with ``clean_start=False`` and receives
exactly what its predecessor had not acked — the messages in flight when it died, and
everything queued while no engine was connected (up to the broker's queue limit: set
``max_queued_messages 0`` on Mosquitto). Distinct sessions per engine would be wrong
either way: a standby's own session would either miss what was published while it stood
by (connected only on takeover: readings lost, a door open never noticed) or queue the
whole stream unacked (connected while standing by: a replay of days, and a full queue
dropping messages). Mosquitto lets one connection hold a client id at a time; since only
the lease holder connects, the two never fight over it (a stalled old holder that comes
back kicks the new one off for a moment, then finds its lease gone and leaves; no ack
is sent for an effect that was not stored, so nothing is lost).

Why nothing is re-sent or forgotten at a takeover: alert states, the outbox, the engine's
snapshot and the grouper's state are written in one transaction, before the messages
that caused them are acked (:mod:`collector.alerts.runner`); the successor restores
exactly that state and is handed every message acked by nobody. Notifications queued by
the predecessor are in the outbox and the successor's sender delivers them; a delivery
logged is never repeated. One window remains, as with any mail system: a message handed
to the SMTP server by an engine that dies before logging it is sent again by the next
one, with the same ``Message-ID`` (the notification id) and webhook ``Idempotency-Key``,
so a receiving system can recognise it.
"""

from __future__ import annotations

import logging
from contextlib import ExitStack
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Final

from collector.alerts.annotations import AnnotationWriter
from collector.alerts.digest_job import DigestJob, InfluxDigestSource
from collector.alerts.feed import Feed
from collector.alerts.runner import Runner, lease_renewer
from collector.alerts.sender import Sender
from collector.alerts.store import AlertStore
from collector.attendance.cli.context import load_settings
from collector.attendance.registry import Registry
from collector.attendance.vocabulary import Vocabulary
from collector.config import InfluxV1Settings
from collector.errors import CollectorError
from collector.state import open_state
from collector.storage.influx_v1 import InfluxV1Writer
from pelangi.throttle import ThrottledLog

if TYPE_CHECKING:
    import threading
    from collections.abc import Callable
    from pathlib import Path

    from collector.attendance.calendar import Calendar
    from collector.attendance.rules import RegistryValues
    from collector.config import CollectorSettings

log = logging.getLogger(__name__)

REGISTRY_DAYS: Final = 1
"""Days around today the registry is loaded for (night shifts start the evening before)."""


def run_engine(settings: CollectorSettings, stop: threading.Event, *, config_path: Path) -> None:
    """Run the alert engine (active or standby, see the module docstring) until ``stop``.

    Args:
        settings: the collector configuration (``alerts``, ``mqtt``, ``state``,
            ``influxdb``, ``attendance``).
        stop: set to stop cleanly: the lease is released so a standby takes over at once.
        config_path: the configuration file (relative paths in it, e.g. the holiday
            file, are relative to it).
    """
    _, calendar = load_settings(config_path)
    engine = settings.alerts.engine
    holder = engine.engine_id
    ttl = timedelta(seconds=engine.lease_ttl_s)
    with open_state(settings.state) as database:
        store = AlertStore(database)
        registry = Registry(database, Vocabulary.from_settings(settings.attendance))
        trouble = ThrottledLog(log, burst=1, interval_s=300.0)
        said_standby = False
        try:
            while not stop.is_set():
                try:
                    active = store.acquire_lease(holder, _now(), ttl)
                except CollectorError as exc:
                    trouble.log(logging.WARNING, "alert lease unavailable: %s", exc)
                    active = False
                if not active:
                    if not said_standby:
                        log.info("alert engine %s standing by (another holds the lease)", holder)
                        said_standby = True
                    stop.wait(engine.lease_ttl_s / 3)
                    continue
                said_standby = False
                log.info("alert engine %s active", holder)
                try:
                    _run_active(settings, store, stop, calendar, lambda: _registry(registry))
                except CollectorError as exc:
                    # The state database went away while restoring: nothing was acked or
                    # sent on a state not stored, so starting over from the lease is safe.
                    trouble.log(logging.WARNING, "alert engine %s restarts: %s", holder, exc)
                    stop.wait(engine.tick_s)
        finally:
            try:
                if store.release_lease(holder, _now()):
                    log.info("alert engine %s released its lease", holder)
            except CollectorError as exc:
                log.warning("alert lease not released (a standby waits %s): %s", ttl, exc)


def _run_active(
    settings: CollectorSettings,
    store: AlertStore,
    stop: threading.Event,
    calendar: Calendar,
    registry: Callable[[], RegistryValues],
) -> None:
    """Hold the lease: restore, connect, run until ``stop`` or the lease is lost."""
    alerts = settings.alerts
    engine = alerts.engine
    holder = engine.engine_id
    with ExitStack() as stack:
        sender = Sender(store, alerts.notify, holder)
        annotations = _annotations(settings, stack)
        feed = _feed(settings)
        digest = _digest(settings, store, stack)
        runner = Runner(
            alerts,
            store,
            feed,
            sender,
            annotations,
            calendar=calendar,
            registry=registry,
            digest=digest,
        )
        feed.start()
        stack.callback(feed.stop)
        sender.start()
        stack.callback(sender.stop)
        ttl = timedelta(seconds=engine.lease_ttl_s)
        runner.run(stop, lease_renewer(store, holder, ttl, _now))


def _feed(settings: CollectorSettings) -> Feed:
    engine = settings.alerts.engine
    return Feed(settings.mqtt, engine.mqtt_session or engine.engine_id, engine.session_expiry_s)


def _influx(settings: CollectorSettings, stack: ExitStack, what: str) -> InfluxV1Writer | None:
    """A connection to InfluxDB 1.x for ``what`` (None, said once, for another backend)."""
    if not isinstance(settings.influxdb, InfluxV1Settings):
        log.warning("%s need influxdb.backend influxdb1; got %s", what, settings.influxdb.backend)
        return None
    writer = InfluxV1Writer(settings.influxdb)
    stack.callback(writer.close)
    return writer


def _digest(settings: CollectorSettings, store: AlertStore, stack: ExitStack) -> DigestJob | None:
    if not settings.alerts.notify.digest.enabled:
        return None
    # Its own connection: the digest reads on its worker thread, the annotations write on theirs.
    writer = _influx(settings, stack, "the digest's doors and attendance (said unavailable)")
    units = {code: unit.name for code, unit in settings.attendance.units.items()}
    job = DigestJob(
        settings.alerts, None if writer is None else InfluxDigestSource(writer), store.known, units
    )
    stack.callback(job.close)
    return job


def _annotations(settings: CollectorSettings, stack: ExitStack) -> AnnotationWriter | None:
    if not settings.alerts.engine.write_to_influxdb:
        return None
    writer = _influx(settings, stack, "alert annotations (not written)")
    if writer is None:
        return None
    annotations = AnnotationWriter(writer)
    annotations.start()
    stack.callback(annotations.stop)
    return annotations


def _registry(registry: Registry) -> RegistryValues:
    today = date.today()  # noqa: DTZ011 - a window of days around today; a day either way is fine
    return registry.values(
        today - timedelta(days=REGISTRY_DAYS), today + timedelta(days=REGISTRY_DAYS)
    )


def _now() -> datetime:
    return datetime.now(UTC)


__all__ = ["run_engine"]
