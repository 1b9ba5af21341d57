"""Errors the alert store raises on purpose, each naming the thing and what was found.

Tree (under :class:`collector.errors.CollectorError`)::

    AlertStoreError            the alert store refused a request
    ├── LeaseLost              a write fenced by a holder that no longer holds the lease
    ├── UnknownNotification    a delivery or failure reported for an id never queued
    ├── UnknownSilence         removing a silence id that does not exist
    └── InvalidSilence         a silence that would match nothing sensible (also ValueError)
"""

from __future__ import annotations

from collector.errors import CollectorError


class AlertStoreError(CollectorError):
    """The alert store refused a request."""


class LeaseLost(AlertStoreError):  # noqa: N818 - reads as the condition it reports
    """The engine lease is not (or no longer) held by the process that tried to write.

    Nothing of that write was kept: another engine took over, and only its writes count.

    Attributes:
        holder: who tried to write.
        current: who holds the lease now (None: nobody, released).
    """

    def __init__(self, holder: str, current: str | None) -> None:
        """Create the error for ``holder``; ``current`` holds the lease instead."""
        self.holder = holder
        self.current = current
        now = "nobody holds it" if current is None else f"{current!r} holds it"
        super().__init__(f"the alert engine lease is not held by {holder!r} ({now}): write refused")


class UnknownNotification(AlertStoreError):  # noqa: N818 - reads as the condition it reports
    """A delivery or failure reported for a notification that was never queued.

    Attributes:
        notification_id: the id reported.
    """

    def __init__(self, notification_id: str) -> None:
        """Create the error for ``notification_id``."""
        self.notification_id = notification_id
        super().__init__(
            f"notification {notification_id!r} is neither in the outbox nor in the sent log"
        )


class UnknownSilence(AlertStoreError):  # noqa: N818 - reads as the condition it reports
    """No silence has this id (removed already, or never made).

    Attributes:
        silence_id: the id asked for.
    """

    def __init__(self, silence_id: int) -> None:
        """Create the error for ``silence_id``."""
        self.silence_id = silence_id
        super().__init__(f"there is no silence with id {silence_id}")


class InvalidSilence(AlertStoreError, ValueError):  # noqa: N818 - reads as the condition it reports
    """A silence that names no part to match, an unknown part, or an empty period."""


__all__ = [
    "AlertStoreError",
    "InvalidSilence",
    "LeaseLost",
    "UnknownNotification",
    "UnknownSilence",
]
