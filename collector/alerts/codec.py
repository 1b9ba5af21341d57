"""Alerts, notifications and digests as JSON-ready values, and back. Pure.

Used for the webhook's body, the grouping state and the store's outbox payloads. Times are ISO
8601 strings in UTC (``2026-12-02T19:14:00+00:00``); enums are their values.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Final, TypeVar

from collector.alerts.model import (
    Alert,
    AlertKey,
    Audience,
    Notification,
    NotificationKind,
    Phase,
    Severity,
)
from collector.alerts.notify.digest import Digest, DoorOpenOvernight, GatewayOffline, UnitAttendance

if TYPE_CHECKING:
    from collections.abc import Callable

T = TypeVar("T", GatewayOffline, DoorOpenOvernight, UnitAttendance)


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _parse_time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _required_time(text: str | None, what: str) -> datetime:
    moment = _parse_time(text)
    if moment is None:
        raise ValueError(f"{what} is required")
    return moment


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
    since = _required_time(data["since"], "an alert's since")
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
    """A notification as JSON-ready values (its alerts, and a digest's values, included)."""
    data: dict[str, Any] = {
        "id": notification.id,
        "kind": notification.kind.value,
        "audience": notification.audience.value,
        "group": notification.group,
        "created_at": _time(notification.created_at),
        "alerts": [alert_to_json(a) for a in notification.alerts],
    }
    if notification.digest is not None:
        data["digest"] = digest_to_json(notification.digest)
    return data


def notification_from_json(data: dict[str, Any]) -> Notification:
    """The inverse of :func:`notification_to_json`."""
    digest = data.get("digest")
    return Notification(
        id=str(data["id"]),
        kind=NotificationKind(data["kind"]),
        audience=Audience(data["audience"]),
        group=str(data["group"]),
        alerts=tuple(alert_from_json(a) for a in data["alerts"]),
        created_at=_required_time(data["created_at"], "a notification's created_at"),
        digest=None if digest is None else digest_from_json(digest),
    )


_FLAT_PARTS: Final = {
    "gateways_offline": GatewayOffline,
    "doors_open_overnight": DoorOpenOvernight,
    "attendance": UnitAttendance,
}
"""The digest's lists of flat values: fields of str, int and (optional) datetime only."""


def _flat_to_json(value: GatewayOffline | DoorOpenOvernight | UnitAttendance) -> dict[str, Any]:
    return {
        f.name: _time(v) if isinstance(v := getattr(value, f.name), datetime) else v
        for f in fields(value)
    }


def _flat_from_json(cls: type[T], data: dict[str, Any]) -> T:
    # The annotations are strings (postponed evaluation): the four kinds the parts use.
    convert: dict[str, Callable[[Any], Any]] = {
        "str": str,
        "int": int,
        "datetime": lambda text: _required_time(text, f"{cls.__name__} time"),
        "datetime | None": _parse_time,
    }
    return cls(**{f.name: convert[str(f.type)](data[f.name]) for f in fields(cls)})


def digest_to_json(digest: Digest) -> dict[str, Any]:
    """A digest's values (its open alerts included) as JSON-ready values."""
    return {
        "day": digest.day.isoformat(),
        "created_at": _time(digest.created_at),
        "open_alerts": [alert_to_json(a) for a in digest.open_alerts],
        **{name: [_flat_to_json(v) for v in getattr(digest, name)] for name in _FLAT_PARTS},
        "unavailable": list(digest.unavailable),
    }


def digest_from_json(data: dict[str, Any]) -> Digest:
    """The inverse of :func:`digest_to_json`.

    Raises:
        KeyError, ValueError, TypeError: ``data`` was not made by :func:`digest_to_json`.
    """
    parts = {
        name: tuple(_flat_from_json(cls, item) for item in data[name])
        for name, cls in _FLAT_PARTS.items()
    }
    return Digest(
        day=date.fromisoformat(data["day"]),
        created_at=_required_time(data["created_at"], "a digest's created_at"),
        open_alerts=tuple(alert_from_json(a) for a in data["open_alerts"]),
        unavailable=tuple(str(part) for part in data.get("unavailable", ())),
        **parts,  # type: ignore[arg-type]
    )
