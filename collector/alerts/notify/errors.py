"""Errors of the notification channels and templates.

Tree (under :class:`collector.errors.CollectorError`)::

    NotifyError
    ├── TemplateError        a template does not render (a bug found by ``validate``)
    └── DeliveryError          a channel did not deliver a message
        ├── DeliveryUnavailable  retryable: keep the message in the outbox, try again later
        └── DeliveryRefused      permanent: this message will never be accepted as it is

The split is what the outbox acts on, as with storage errors: :class:`DeliveryUnavailable`
covers a server that is down or slow, a 4xx SMTP reply, refused credentials and HTTP 5xx,
408 and 429; nothing is wrong with the message, so it waits (``answered`` tells a silent
server from one that answered with an error, which needs a person if it lasts).
:class:`DeliveryRefused` (every recipient refused for good, an HTTP 4xx) is logged with
the server's reply and the message is given up.
"""

from __future__ import annotations

from collector.errors import CollectorError


class NotifyError(CollectorError):
    """Base class of the notification errors."""


class TemplateError(NotifyError):
    """A notification template failed to load or render.

    Attributes:
        template: the template's file name.
        detail: what went wrong (Jinja2's message, with the line where it knows it).
    """

    def __init__(self, template: str, detail: str) -> None:
        """Create the error for ``template``."""
        self.template = template
        self.detail = detail
        super().__init__(f"template {template}: {detail}")


class DeliveryError(NotifyError):
    """A channel did not deliver.

    Attributes:
        target: what we tried to reach (``smtp://mail.kutaitimurkab.go.id:587``, a URL).
        reason: the cause in plain words, with the server's code and reply when it answered.
        answered: the server answered (with an error); False when no answer came.
    """

    retryable: bool = False

    def __init__(self, target: str, reason: str, *, answered: bool = False) -> None:
        """Create the error for ``target`` with a readable ``reason``."""
        self.target = target
        self.reason = reason
        self.answered = answered
        super().__init__(f"{target}: {reason}")


class DeliveryUnavailable(DeliveryError):  # noqa: N818 - reads as the condition it reports
    """The channel cannot deliver now; the message is fine: retry later."""

    retryable = True


class DeliveryRefused(DeliveryError):  # noqa: N818 - reads as the condition it reports
    """The server refused this message for good: retrying it as it is cannot help."""
