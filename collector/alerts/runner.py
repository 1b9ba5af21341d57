"""The active alert engine: messages and time in, durable alert state and outbox out.

:class:`Runner` is what the lease holder runs (:mod:`collector.alerts.service` decides
who that is). One loop on one thread:

1. take what the MQTT session (:class:`~collector.alerts.feed.Feed`) has queued, up to
   :data:`BATCH` messages, decode each (readings: :func:`pelangi.payloads.decode`;
   gateway status: :func:`pelangi.liveness.decode_liveness`), turn it into observations
   and feed them to the :class:`~collector.alerts.engine.Engine`; every ``tick_s``, let
   the engine's timers run (:meth:`~collector.alerts.engine.Engine.tick`);
2. transitions of silenced alerts are recorded but not told; the others go to the
   :class:`~collector.alerts.notify.grouping.Grouper`, whose due notifications are made;
3. one fenced transaction (:meth:`~collector.alerts.store.AlertStore.apply`) writes the
   alerts' new states, queues the notifications, and saves the engine's snapshot and the
   grouper's state (:mod:`collector.alerts.persisted`);
4. only then are the messages of the batch acked, the sender woken and the annotations
   queued.

Besides, at each tick: the daily digest when it is due (:class:`~.digest_job.DigestJob`:
its notifications join the next transaction), and every :data:`PRUNE_S` the resolved
alerts and the sent log older than ``engine.keep_days`` are deleted.

A crash anywhere before 3 commits loses nothing: the messages are unacked, the broker
sends them again, and the engine restored from the last saved state derives the same.
A crash between 3 and 4 re-delivers messages whose effects are stored: the restored
engine has seen their readings (each key's newest reading time is in its state) and
ignores them as stale, so nothing is told twice, and any notification re-derived has the
same id, which the store does not queue again.

When the state database is away, the batch (transitions, notifications, unacked
messages) is kept and written again at the next round: its effects are in the engine
already, and acks wait until they are stored. When another engine took the lease, the
write is refused (:class:`~collector.alerts.store_errors.LeaseLost`): the runner ends
without acking, and the new holder gets the messages from the broker.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Final

from collector.alerts import persisted
from collector.alerts.engine import Engine
from collector.alerts.notify.grouping import Grouper
from collector.alerts.observations import from_envelope, from_status
from collector.alerts.references import ReferenceWatch, log_problems
from collector.alerts.silences import silencing
from collector.alerts.store_errors import LeaseLost
from collector.errors import CollectorError
from pelangi.errors import PelangiError
from pelangi.liveness import GatewayStatus, decode_liveness
from pelangi.payloads import decode
from pelangi.throttle import ThrottledLog
from pelangi.topics import parse_reading_topic

if TYPE_CHECKING:
    import threading
    from collections.abc import Callable

    from collector.alerts.annotations import AnnotationWriter
    from collector.alerts.config import AlertsSection
    from collector.alerts.digest_job import DigestJob
    from collector.alerts.feed import Feed, Message
    from collector.alerts.model import Notification, Transition
    from collector.alerts.observations import Observation
    from collector.alerts.sender import Sender
    from collector.alerts.silences import Silence
    from collector.alerts.store import AlertStore
    from collector.attendance.calendar import Calendar
    from collector.attendance.rules import RegistryValues

log = logging.getLogger(__name__)

BATCH: Final = 500
"""Messages taken per transaction: a replayed backlog is one write per 500, not per message."""
REGISTRY_REFRESH_S: Final = 600.0
"""How often employees and cards are read again (a card issued now counts within this)."""
SILENCES_REFRESH_S: Final = 5.0
"""How stale the silences may be (``alerts silence add`` takes effect within this)."""
PRUNE_S: Final = 3600.0
"""How often resolved alerts and the sent log past ``engine.keep_days`` are deleted."""


@dataclass(slots=True)
class _Pending:
    """Effects made by the engine but not yet stored, and the messages waiting on them."""

    transitions: list[Transition] = field(default_factory=list)
    notifications: list[Notification] = field(default_factory=list)
    tokens: list[int | None] = field(default_factory=list)
    dirty: bool = False

    def clear(self) -> None:
        self.transitions.clear()
        self.notifications.clear()
        self.tokens.clear()
        self.dirty = False


class Runner:
    """The loop of the module docstring, for the lease holder ``holder``."""

    def __init__(  # noqa: PLR0913 - the collaborators, named at the one call site
        self,
        settings: AlertsSection,
        store: AlertStore,
        feed: Feed,
        sender: Sender,
        annotations: AnnotationWriter | None,
        *,
        calendar: Calendar,
        registry: Callable[[], RegistryValues],
        digest: DigestJob | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """Restore the engine and grouper from ``store`` (fresh ones if it holds none)."""
        self._settings = settings
        self._store = store
        self._feed = feed
        self._sender = sender
        self._annotations = annotations
        self._digest = digest
        self._prune_at = time.monotonic()
        self._clock = clock
        self._holder = settings.engine.engine_id
        self._registry = registry
        self._registry_at = time.monotonic()
        self.engine = Engine(settings, calendar, registry())
        grouping = settings.notify.grouping
        self.grouper = Grouper(grouping)
        saved = store.engine_state()
        if saved is not None:
            snapshot, grouper_state = persisted.decode(saved)
            self.engine.restore(snapshot)
            self.grouper = Grouper.restore(grouping, grouper_state)
            log.info("alert engine restored: %d active alerts", len(snapshot.alerts))
        self._pending = _Pending()
        self._references = ReferenceWatch(settings, clock())
        self._silences: list[Silence] = []
        self._silences_at = float("-inf")
        self._trouble = ThrottledLog(log, burst=3, interval_s=300.0)
        self.messages = 0
        """Messages taken (tests and logs)."""

    def run(self, stop: threading.Event, lease_ok: Callable[[], bool]) -> None:
        """Run until ``stop`` is set or the lease is lost (``lease_ok`` False, or a refusal).

        ``lease_ok`` is asked between rounds: it renews the lease when due.
        """
        tick = self._settings.engine.tick_s
        next_tick = time.monotonic()
        while not stop.is_set():
            if not lease_ok() or self._sender.lease_lost.is_set():
                log.warning("alert engine %s lost its lease; standing down", self._holder)
                return
            message = self._feed.get(next_tick - time.monotonic())
            batch = [] if message is None else [message]
            while message is not None and len(batch) < BATCH:
                message = self._feed.get_nowait()
                if message is not None:
                    batch.append(message)
            now = self._clock()
            self._refresh_registry()
            for item in batch:
                self._take(item, now)
            if time.monotonic() >= next_tick:
                next_tick = time.monotonic() + tick
                self._moved(self.engine.tick(now), now)
                self._daily(now)
                log_problems(self._references.tick(now))
            try:
                self._commit(now)
            except LeaseLost as exc:
                log.warning("alert engine %s stands down: %s", self._holder, exc)
                return

    def _refresh_registry(self) -> None:
        if time.monotonic() - self._registry_at < REGISTRY_REFRESH_S:
            return
        self._registry_at = time.monotonic()
        try:
            self.engine.use_registry(self._registry())
        except CollectorError as exc:  # judged with the registry as last read meanwhile
            self._trouble.log(logging.WARNING, "registry unreadable: %s", exc, key="reg")

    def _daily(self, now: datetime) -> None:
        """The digest when due; the pruning when due (both retried if the database is away)."""
        if self._digest is not None:
            try:
                made = self._digest.due(now, self.engine.alerts)
            except CollectorError as exc:
                self._trouble.log(logging.WARNING, "daily digest waits: %s", exc, key="digest")
            else:
                if made:
                    self._pending.notifications += made
                    self._pending.dirty = True
        if time.monotonic() < self._prune_at:
            return
        before = now - timedelta(days=self._settings.engine.keep_days)
        try:
            alerts = self._store.forget_resolved(before, holder=self._holder)
            sent = self._store.forget_deliveries(before, holder=self._holder)
        except CollectorError as exc:  # a lost lease is found by the next commit
            self._trouble.log(logging.WARNING, "alert history not pruned: %s", exc, key="prune")
            return
        self._prune_at = time.monotonic() + PRUNE_S
        if alerts or sent:
            log.info(
                "pruned %d resolved alerts and %d sent-log rows older than %s",
                alerts,
                sent,
                before.isoformat(timespec="seconds"),
            )

    def _take(self, message: Message, now: datetime) -> None:
        self.messages += 1
        self._pending.tokens.append(message.token)
        try:
            observations = _observations(message)
        except PelangiError as exc:
            # The collector dead-letters what breaks the contract; here it is only skipped.
            self._trouble.log(logging.INFO, "alert engine skips %s: %s", message.topic, exc)
            return
        for observation in observations:
            self._moved(self.engine.observe(observation, now), now)
        log_problems(self._references.observe(observations, now))

    def _moved(self, transitions: list[Transition], now: datetime) -> None:
        """Record the engine's moves; those people hear of go to the grouper at once.

        At once, not at the commit: the grouper's state is saved with the engine's, and a
        commit that fails is retried with both as they are, never adding anything twice.
        """
        self._pending.dirty = True
        self._pending.transitions += transitions
        self.grouper.add_all(t for t in transitions if t.notifies and not self._silenced(t, now))

    def _commit(self, now: datetime) -> None:
        pending = self._pending
        if not pending.dirty:
            return
        pending.notifications += self.grouper.due(now)
        # An idle tick that changed nothing need not be written: restored from the last
        # saved state, the engine makes the same moves at its next tick.
        if not (pending.transitions or pending.notifications or pending.tokens):
            pending.dirty = False
            return
        state = persisted.encode(self.engine.snapshot(), self.grouper.export())
        try:
            self._store.apply(
                pending.transitions,
                pending.notifications,
                holder=self._holder,
                engine_state=(state, now),
            )
        except LeaseLost:
            raise
        except CollectorError as exc:  # the state database is away: all kept for a retry
            self._trouble.log(logging.WARNING, "alert state not stored yet: %s", exc, key="db")
            return
        self._feed.ack(pending.tokens)
        if self._annotations is not None:
            self._annotations.add(pending.transitions)
        if pending.notifications:
            self._sender.wake()
        pending.clear()

    def _silenced(self, transition: Transition, now: datetime) -> bool:
        if time.monotonic() - self._silences_at >= SILENCES_REFRESH_S:
            try:
                self._silences = self._store.silences(now)
                self._silences_at = time.monotonic()
            except CollectorError as exc:
                self._trouble.log(logging.WARNING, "silences unreadable: %s", exc, key="sil")
        return silencing(transition.alert.key, self._silences, now) is not None


def _observations(message: Message) -> list[Observation]:
    """The observations of one message (raises :class:`PelangiError` for a bad one)."""
    topic = message.topic
    if topic.endswith("/status"):
        return [from_status(decode_liveness(message.payload, GatewayStatus))]
    return from_envelope(decode(message.payload, parse_reading_topic(topic)))


def lease_renewer(
    store: AlertStore, holder: str, ttl: timedelta, clock: Callable[[], datetime]
) -> Callable[[], bool]:
    """A ``lease_ok`` for :meth:`Runner.run`: renews every third of ``ttl``; False: lost.

    A database that is away for a moment does not end the engine: its fenced writes are
    what protect the state, and :func:`~collector.alerts._lease.renew` keeps an expired
    lease its holder's as long as nobody else took it.
    """
    interval = ttl.total_seconds() / 3
    due = time.monotonic()
    trouble = ThrottledLog(log, burst=1, interval_s=300.0)

    def lease_ok() -> bool:
        nonlocal due
        if time.monotonic() < due:
            return True
        try:
            kept = store.renew_lease(holder, clock(), ttl)
        except CollectorError as exc:
            trouble.log(logging.WARNING, "alert lease not renewed: %s", exc)
            return True
        due = time.monotonic() + interval
        return kept

    return lease_ok


__all__ = ["BATCH", "PRUNE_S", "Runner", "lease_renewer"]
