"""Alert notifications: settings, grouping, rendering, and the email and webhook channels.

Layers, each usable alone:

- :mod:`.settings`: ``alerts.notify`` in the configuration (SMTP, recipients per audience
  and site, language, webhook, grouping and digest timings, hints);
- :mod:`.grouping`: transitions in, grouped :class:`~collector.alerts.model.Notification`
  values out (pure, ``now`` passed in; exportable state);
- :mod:`.render` (+ ``templates/``, :mod:`.phrases`, :mod:`.views`, :mod:`.digest`):
  subject, plain text and HTML in Bahasa Indonesia or English; :func:`check_templates`
  for ``validate``;
- :mod:`.email`, :mod:`.webhook`: the channels (IO), with a result per recipient and
  retryable vs permanent errors (:mod:`.errors`).
"""

from collector.alerts.notify.digest import Digest, DoorOpenOvernight, GatewayOffline, UnitAttendance
from collector.alerts.notify.email import (
    EmailChannel,
    EmailDelivery,
    RecipientResult,
    Reply,
    SmtpRefused,
    SmtpUnavailable,
)
from collector.alerts.notify.errors import (
    DeliveryError,
    DeliveryRefused,
    DeliveryUnavailable,
    NotifyError,
    TemplateError,
)
from collector.alerts.notify.grouping import Grouper, notification_id
from collector.alerts.notify.render import RenderedMessage, Renderer, check_templates
from collector.alerts.notify.settings import NotifySettings
from collector.alerts.notify.webhook import WebhookChannel, WebhookDelivery

__all__ = [
    "DeliveryError",
    "DeliveryRefused",
    "DeliveryUnavailable",
    "Digest",
    "DoorOpenOvernight",
    "EmailChannel",
    "EmailDelivery",
    "GatewayOffline",
    "Grouper",
    "NotifyError",
    "NotifySettings",
    "RecipientResult",
    "RenderedMessage",
    "Renderer",
    "Reply",
    "SmtpRefused",
    "SmtpUnavailable",
    "TemplateError",
    "UnitAttendance",
    "WebhookChannel",
    "WebhookDelivery",
    "check_templates",
    "notification_id",
]
