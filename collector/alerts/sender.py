"""Delivers the outbox: what is due goes out by email and webhook, and is logged as sent.

:class:`Sender` runs on a thread of its own, so a slow or silent mail server never holds
up the engine. Each round it takes what :meth:`~collector.alerts.store.AlertStore.due`
hands out and, per notification:

- renders it once (:class:`~collector.alerts.notify.render.Renderer`);
- sends the email to the recipients of its audience and site
  (:meth:`~collector.alerts.notify.settings.NotifySettings.recipients_for`) that the sent
  log does not list yet, and posts it to the webhook unless logged already: a retry after
  a crash or a partial failure skips what was delivered;
- logs each accepted delivery (``delivered``, fenced with the lease), the last one
  ``final``, which takes the notification out of the outbox.

A retryable failure (server down or slow, a 4xx, HTTP 5xx/408/429) records the attempt
(``failed``) and the notification is due again after a capped exponential delay with
jitter (:func:`retry_delay`): mail waits while the server is down and goes out when it is
back. A permanent refusal (an address refused for good, HTTP 4xx) is logged with the
server's reply and recorded in the sent log as ``refused: <reply>``, so it is never
retried and the other recipients still get theirs. Failures are counted
(:class:`SenderStats`) and logged through a throttle; nothing here raises out of the
thread but the loss of the lease, which ends the sender (a standby must not send).
"""

from __future__ import annotations

import logging
import random
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Final

from collector.alerts.notify.email import EmailChannel
from collector.alerts.notify.errors import DeliveryRefused, DeliveryUnavailable
from collector.alerts.notify.render import Renderer
from collector.alerts.notify.webhook import WebhookChannel
from collector.alerts.store import Delivery
from collector.alerts.store_errors import LeaseLost
from collector.errors import CollectorError
from pelangi.throttle import ThrottledLog

if TYPE_CHECKING:
    from collections.abc import Callable

    from collector.alerts.model import Notification
    from collector.alerts.notify.render import RenderedMessage
    from collector.alerts.notify.settings import NotifySettings
    from collector.alerts.store import AlertStore, OutboxEntry

log = logging.getLogger(__name__)

RETRY_MIN_S: Final = 1.0
"""The first retry's delay bound; doubled per failed attempt up to :data:`RETRY_MAX_S`."""
RETRY_MAX_S: Final = 120.0
"""A mail server back after an outage is used again within this long."""
POLL_S: Final = 1.0
"""Longest sleep between two looks at the outbox (a new notification wakes it sooner)."""
BATCH: Final = 50
EMAIL: Final = "email"
WEBHOOK: Final = "webhook"
NOBODY: Final = "none"
"""The channel logged for a notification no channel or recipient was configured for."""


def retry_delay(attempts: int, rng: random.Random | None = None) -> timedelta:
    """How long after failed attempt number ``attempts`` (1, 2...) to try again.

    Half the exponential bound plus a random half ("equal jitter"): never a tight loop
    against a dead server, and engines that failed together do not retry together.
    """
    bound = min(RETRY_MAX_S, RETRY_MIN_S * 2 ** min(max(attempts - 1, 0), 20))
    return timedelta(seconds=bound / 2 + (rng or random).uniform(0, bound / 2))


@dataclass(slots=True)
class _Outcome:
    """One attempt at one notification: the deliveries to log, the retryable errors."""

    logged: list[Delivery] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass(slots=True)
class SenderStats:
    """What the sender has done since it started (read by logs and tests)."""

    delivered: int = 0
    """Deliveries logged (one per channel and recipient)."""
    retried: int = 0
    """Notifications put back for a retry after a failure."""
    refused: int = 0
    """Deliveries refused for good (logged as ``refused``)."""


class Sender:
    """Delivers the outbox of ``store`` for lease holder ``holder`` (module docstring)."""

    def __init__(
        self,
        store: AlertStore,
        settings: NotifySettings,
        holder: str,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """Build the channels the settings configure; nothing is sent until :meth:`start`."""
        self._store = store
        self._settings = settings
        self._holder = holder
        self._clock = clock
        self._renderer = Renderer(settings.language, settings.hints)
        self._email = EmailChannel(settings.smtp) if settings.smtp is not None else None
        self._webhook = WebhookChannel(settings.webhook) if settings.webhook else None
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._trouble = ThrottledLog(log, burst=3, interval_s=300.0)
        self.stats = SenderStats()
        self.lease_lost = threading.Event()
        """Set when a write was refused because another engine holds the lease."""
        self._thread = threading.Thread(target=self._main, name="pelangi-alerts-sender")

    def start(self) -> None:
        """Start delivering on the sender's thread."""
        self._thread.start()

    def wake(self) -> None:
        """Look at the outbox now (something was queued)."""
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop after the delivery in progress (its ``delivered`` included)."""
        self._stopping.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _main(self) -> None:
        while not self._stopping.is_set():
            try:
                busy = self.deliver_due()
            except LeaseLost as exc:
                log.warning("alert sender stops: %s", exc)
                self.lease_lost.set()
                return
            except CollectorError as exc:  # the state database is away: try again soon
                self._trouble.log(logging.WARNING, "alert outbox unreadable: %s", exc, key="db")
                busy = False
            except Exception:  # the thread must go on: a bug here must not silence alerts
                log.exception("unexpected error delivering alerts; going on")
                busy = False
            if not busy:
                self._wake.wait(POLL_S)
                self._wake.clear()

    def deliver_due(self) -> bool:
        """Deliver one batch of what is due; True if the batch was full (more may wait).

        Raises:
            LeaseLost: another engine holds the lease (stop).
        """
        entries = self._store.due(self._clock(), limit=BATCH)
        for entry in entries:
            if self._stopping.is_set():
                return False
            self._deliver(entry)
        return len(entries) == BATCH

    def _deliver(self, entry: OutboxEntry) -> None:
        notification = entry.notification
        done = {(d.channel, d.recipient) for d in self._store.deliveries(notification.id)}
        message = self._renderer.render(notification)
        outcome = _Outcome()
        logged, errors = outcome.logged, outcome.errors
        if self._email is not None:
            site = notification.alerts[0].key.site if notification.alerts else ""
            wanted = self._settings.recipients_for(notification.audience, site)
            to = [address for address in wanted if (EMAIL, address) not in done]
            if to:
                self._send_email(self._email, notification, message, to, outcome)
        if self._webhook is not None and (WEBHOOK, self._webhook.target) not in done:
            self._send_webhook(self._webhook, notification, message, outcome)
        if not done and not logged and not errors:
            self._trouble.log(
                logging.WARNING,
                "no channel or recipient for %s (%s): set alerts.notify.smtp and recipients",
                notification.group,
                notification.kind.value,
                key="nobody",
            )
            logged.append(Delivery(notification.id, NOBODY, "", self._clock(), "no recipient"))
        self._record(entry, logged, errors, done)

    def _record(
        self,
        entry: OutboxEntry,
        logged: list[Delivery],
        errors: list[str],
        done: set[tuple[str, str]],
    ) -> None:
        notification_id = entry.notification.id
        for index, delivery in enumerate(logged):
            final = not errors and index == len(logged) - 1
            self._store.delivered(delivery, final=final, holder=self._holder)
        if errors:
            attempts = entry.attempts + 1
            retry_at = self._clock() + retry_delay(attempts)
            self._store.failed(notification_id, "; ".join(errors), retry_at, holder=self._holder)
            self.stats.retried += 1
            self._trouble.log(
                logging.WARNING,
                "alert %s not delivered (attempt %d, next at %s): %s",
                notification_id,
                attempts,
                retry_at.isoformat(timespec="seconds"),
                "; ".join(errors),
                key="retry",
            )
        elif not logged and done:
            # Everything was delivered before (a crash between the last delivery and its
            # final mark): mark it final now, without sending anything again.
            last = self._store.deliveries(notification_id)[-1]
            self._store.delivered(last, final=True, holder=self._holder)

    def _send_email(
        self,
        channel: EmailChannel,
        notification: Notification,
        message: RenderedMessage,
        to: list[str],
        outcome: _Outcome,
    ) -> None:
        logged, errors = outcome.logged, outcome.errors
        try:
            result = channel.send(message, to, message_id=notification.id)
        except DeliveryUnavailable as exc:
            errors.append(f"email: {exc}")
            return
        except DeliveryRefused as exc:
            self._refused(notification, EMAIL, to, str(exc), logged)
            return
        now = self._clock()
        for recipient in result.recipients:
            if recipient.accepted:
                self.stats.delivered += 1
                logged.append(
                    Delivery(notification.id, EMAIL, recipient.address, now, recipient.reply)
                )
            elif recipient.retryable:
                errors.append(f"email to {recipient.address}: {recipient.code} {recipient.reply}")
            else:
                self._refused(
                    notification,
                    EMAIL,
                    [recipient.address],
                    f"{recipient.code} {recipient.reply}",
                    logged,
                )

    def _send_webhook(
        self,
        channel: WebhookChannel,
        notification: Notification,
        message: RenderedMessage,
        outcome: _Outcome,
    ) -> None:
        logged, errors = outcome.logged, outcome.errors
        try:
            answer = channel.send(notification, message)
        except DeliveryUnavailable as exc:
            errors.append(f"webhook: {exc}")
            return
        except DeliveryRefused as exc:
            self._refused(notification, WEBHOOK, [channel.target], str(exc), logged)
            return
        self.stats.delivered += 1
        reply = f"HTTP {answer.status}"
        logged.append(Delivery(notification.id, WEBHOOK, channel.target, self._clock(), reply))

    def _refused(
        self,
        notification: Notification,
        channel: str,
        recipients: list[str],
        reply: str,
        logged: list[Delivery],
    ) -> None:
        now = self._clock()
        for recipient in recipients:
            self.stats.refused += 1
            log.error(
                "alert %s refused for good by %s for %s: %s",
                notification.id,
                channel,
                recipient,
                reply,
            )
            logged.append(Delivery(notification.id, channel, recipient, now, f"refused: {reply}"))


__all__ = ["RETRY_MAX_S", "RETRY_MIN_S", "Sender", "SenderStats", "retry_delay"]
