"""The webhook channel: one JSON POST per notification, e.g. to an office's chat gateway.

The body is the notification as JSON (:func:`collector.alerts.codec.notification_to_json`)
plus its rendered ``subject`` and ``text``, so a simple gateway can forward the text as it
is. The notification id is also sent as ``Idempotency-Key``: a gateway that keeps those
recognises a message sent again after a restart.

- 2xx: delivered;
- no answer, a timeout, 5xx, 408 or 429: :class:`DeliveryUnavailable` (retry later);
- any other answer (3xx, 4xx): :class:`DeliveryRefused` (the URL or the token is wrong,
  or the gateway does not want this body: retrying the same request cannot help).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import urllib3

from collector.alerts.codec import notification_to_json
from collector.alerts.notify.errors import DeliveryRefused, DeliveryUnavailable

if TYPE_CHECKING:
    from collector.alerts.model import Notification
    from collector.alerts.notify.render import RenderedMessage
    from collector.alerts.notify.settings import WebhookSettings

RETRYABLE_STATUSES: Final = frozenset({408, 429})
REPLY_SHOWN: Final = 200
"""Characters of the server's reply kept in an error (a gateway may answer with a page)."""


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    """The server's answer to a delivered notification."""

    status: int
    reply: str


def webhook_body(notification: Notification, message: RenderedMessage) -> dict[str, Any]:
    """The JSON body posted for ``notification``."""
    return {**notification_to_json(notification), "subject": message.subject, "text": message.text}


class WebhookChannel:
    """POSTs notifications to the configured URL (see the module docstring)."""

    def __init__(self, settings: WebhookSettings, pool: urllib3.PoolManager | None = None) -> None:
        """Post to ``settings.url``; ``pool``: a shared connection pool (None: a new one)."""
        self.settings = settings
        # No retries inside urllib3: the outbox retries, with its own backoff and counting.
        self._pool = pool or urllib3.PoolManager(retries=False)

    @property
    def target(self) -> str:
        """The URL without any query string (which could hold a token), for messages."""
        return self.settings.url.split("?", 1)[0]

    def send(self, notification: Notification, message: RenderedMessage) -> WebhookDelivery:
        """POST ``notification``; see the module docstring for what it raises."""
        headers = {name: value.get_secret_value() for name, value in self.settings.headers.items()}
        headers.setdefault("Content-Type", "application/json; charset=utf-8")
        headers["Idempotency-Key"] = notification.id
        body = json.dumps(webhook_body(notification, message), ensure_ascii=False).encode()
        try:
            response = self._pool.request(
                "POST",
                self.settings.url,
                body=body,
                headers=headers,
                timeout=urllib3.Timeout(self.settings.timeout_s),
                redirect=False,
            )
        except urllib3.exceptions.HTTPError as exc:
            raise DeliveryUnavailable(self.target, _no_answer(exc)) from None
        reply = response.data.decode("utf-8", errors="replace")[:REPLY_SHOWN]
        status = response.status
        if 200 <= status < 300:
            return WebhookDelivery(status, reply)
        reason = f"HTTP {status}: {reply}" if reply else f"HTTP {status}"
        if status >= 500 or status in RETRYABLE_STATUSES:
            raise DeliveryUnavailable(self.target, reason, answered=True)
        raise DeliveryRefused(self.target, reason, answered=True)


def _no_answer(exc: urllib3.exceptions.HTTPError) -> str:
    # First: urllib3 2 derives NewConnectionError from ConnectTimeoutError.
    if isinstance(exc, urllib3.exceptions.NewConnectionError):
        return "connection refused or host unreachable"
    if isinstance(exc, urllib3.exceptions.TimeoutError):
        return "no answer within the timeout"
    return f"{type(exc).__name__}: {exc}"
