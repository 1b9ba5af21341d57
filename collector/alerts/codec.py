"""Alerts and notifications as JSON-ready values, and back. Pure.

Used for the webhook's body, the grouping state and the store's outbox payloads. Times are ISO
8601 strings in UTC (``2026-12-02T19:14:00+00:00``); enums are their values.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from collector.alerts.model import (
    Alert,
    AlertKey,
    Audience,
    Notification,
    NotificationKind,
    Phase,
    Severity,
)


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _parse_time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def key_to_json(key: AlertKey) -> dict[str, str]:
    """An alert key as a mapping of its parts."""
    return {
        "rule": key.rule,
        "site": key.site,
        "gateway": key.gateway,
        "device": key.device,
        "item": key.item,
    }


def key_from_json(data: dict[str, str]) -> AlertKey:
    """The inverse of :func:`key_to_json`."""
    return AlertKey(**data)


def alert_to_json(alert: Alert) -> dict[str, Any]:
    """An alert as JSON-ready values."""
    return {
        "key": key_to_json(alert.key),
        "severity": alert.severity.value,
        "audience": alert.audience.value,
        "phase": alert.phase.value,
        "since": _time(alert.since),
        "fired_at": _time(alert.fired_at),
        "resolved_at": _time(alert.resolved_at),
        "value": alert.value,
        "labels": dict(alert.labels),
        "suppressed_by": None if alert.suppressed_by is None else key_to_json(alert.suppressed_by),
    }


def alert_from_json(data: dict[str, Any]) -> Alert:
    """The inverse of :func:`alert_to_json`.

    Raises:
        KeyError, ValueError, TypeError: ``data`` was not made by :func:`alert_to_json`.
    """
    since = _parse_time(data["since"])
    if since is None:
        raise ValueError("an alert's since is required")
    suppressed = data.get("suppressed_by")
    return Alert(
        key=key_from_json(data["key"]),
        severity=Severity(data["severity"]),
        audience=Audience(data["audience"]),
        phase=Phase(data["phase"]),
        since=since,
        fired_at=_parse_time(data.get("fired_at")),
        resolved_at=_parse_time(data.get("resolved_at")),
        value=str(data.get("value", "")),
        labels={str(k): str(v) for k, v in data.get("labels", {}).items()},
        suppressed_by=None if suppressed is None else key_from_json(suppressed),
    )


def notification_to_json(notification: Notification) -> dict[str, Any]:
    """A notification as JSON-ready values (its alerts included)."""
    return {
        "id": notification.id,
        "kind": notification.kind.value,
        "audience": notification.audience.value,
        "group": notification.group,
        "created_at": _time(notification.created_at),
        "alerts": [alert_to_json(a) for a in notification.alerts],
    }


def notification_from_json(data: dict[str, Any]) -> Notification:
    """The inverse of :func:`notification_to_json`."""
    created_at = _parse_time(data["created_at"])
    if created_at is None:
        raise ValueError("a notification's created_at is required")
    return Notification(
        id=str(data["id"]),
        kind=NotificationKind(data["kind"]),
        audience=Audience(data["audience"]),
        group=str(data["group"]),
        alerts=tuple(alert_from_json(a) for a in data["alerts"]),
        created_at=created_at,
    )
