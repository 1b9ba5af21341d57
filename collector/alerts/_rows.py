"""Between the alert engine's values and the state database's rows (and JSON payloads).

The outbox keeps each notification's alerts as JSON (``{"alerts": [...]}``) as they stood
when it was made: a message retried an hour later still says what it said then. Instants
in JSON are ISO 8601 with their offset (UTC), so nothing depends on a session's zone.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.dialects import postgresql, sqlite

from collector.alerts.codec import alert_from_json, alert_to_json, digest_from_json, digest_to_json
from collector.alerts.model import (
    Alert,
    AlertKey,
    Audience,
    Notification,
    NotificationKind,
    Phase,
    Severity,
)
from collector.alerts.silences import PARTS, Silence
from collector.state import schema

if TYPE_CHECKING:
    from collections.abc import Mapping

    from sqlalchemy import ColumnElement, Table
    from sqlalchemy.engine import Connection
    from sqlalchemy.sql.dml import UpdateBase

    Insert = postgresql.Insert | sqlite.Insert


def dialect_insert(connection: Connection, table: Table) -> Insert:
    """An INSERT that can say ``ON CONFLICT``: both backends spell it the same way."""
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def affected(connection: Connection, statement: UpdateBase, column: ColumnElement[Any]) -> int:
    """How many rows ``statement`` inserted, updated or deleted.

    Counted from ``RETURNING``, not the cursor's row count, which psycopg reports as -1 for
    an ``INSERT ... ON CONFLICT DO NOTHING`` (SQLite 3.35 and later have RETURNING too).
    """
    return len(connection.execute(statement.returning(column)).all())


# -- keys and alerts ---------------------------------------------------------------------


def key_columns(key: AlertKey) -> dict[str, str]:
    """The key as the five columns of the ``alert`` table (and a silence's parts)."""
    return {part: getattr(key, part) for part in PARTS}


def key_from(parts: Mapping[Any, Any]) -> AlertKey:
    """The key whose five parts are in ``parts`` (a row or a JSON object)."""
    return AlertKey(*(str(parts[part]) for part in PARTS))


def _instant(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _iso(instant: datetime | None) -> str | None:
    return None if instant is None else instant.isoformat()


def _suppressor_json(key: AlertKey | None) -> list[str] | None:
    return None if key is None else list(key_columns(key).values())


def _suppressor_from(parts: list[str] | None) -> AlertKey | None:
    return None if parts is None else AlertKey(*parts)


def alert_row(alert: Alert, updated_at: datetime) -> dict[str, Any]:
    """The ``alert`` table's row for ``alert``."""
    return {
        **key_columns(alert.key),
        "phase": alert.phase.value,
        "severity": alert.severity.value,
        "audience": alert.audience.value,
        "since": alert.since,
        "fired_at": alert.fired_at,
        "resolved_at": alert.resolved_at,
        "value": alert.value,
        "labels": dict(alert.labels),
        "suppressed_by": _suppressor_json(alert.suppressed_by),
        "updated_at": updated_at,
    }


def alert_from_row(row: Mapping[Any, Any]) -> Alert:
    """The alert an ``alert`` row holds."""
    return Alert(
        key=key_from(row),
        severity=Severity(row["severity"]),
        audience=Audience(row["audience"]),
        phase=Phase(row["phase"]),
        since=row["since"],
        fired_at=row["fired_at"],
        resolved_at=row["resolved_at"],
        value=row["value"],
        labels=dict(row["labels"]),
        suppressed_by=_suppressor_from(row["suppressed_by"]),
    )


# -- notifications and silences ----------------------------------------------------------


def outbox_row(notification: Notification) -> dict[str, Any]:
    """The ``alert_outbox`` row of a new notification: due at once, never tried."""
    return {
        "id": notification.id,
        "kind": notification.kind.value,
        "audience": notification.audience.value,
        "group": notification.group,
        "payload": _payload(notification),
        "created_at": notification.created_at,
        "attempts": 0,
        "next_attempt_at": notification.created_at,
        "last_error": None,
    }


def _payload(notification: Notification) -> dict[str, Any]:
    payload: dict[str, Any] = {"alerts": [alert_to_json(a) for a in notification.alerts]}
    if notification.digest is not None:
        payload["digest"] = digest_to_json(notification.digest)
    return payload


def notification_from_row(row: Mapping[Any, Any]) -> Notification:
    """The notification an ``alert_outbox`` row holds."""
    payload = row["payload"]
    digest = payload.get("digest")
    return Notification(
        id=row["id"],
        kind=NotificationKind(row["kind"]),
        audience=Audience(row["audience"]),
        group=row["group"],
        alerts=tuple(alert_from_json(alert) for alert in payload["alerts"]),
        created_at=row["created_at"],
        digest=None if digest is None else digest_from_json(digest),
    )


def silence_row(silence: Silence) -> dict[str, Any]:
    """The ``alert_silence`` row of ``silence`` (its id left to the database)."""
    return {
        "matchers": dict(silence.matchers),
        "starts": silence.starts,
        "ends": silence.ends,
        "created_by": silence.created_by,
        "comment": silence.comment,
    }


def silence_from_row(row: Mapping[Any, Any]) -> Silence:
    """The silence an ``alert_silence`` row holds."""
    return Silence(
        matchers=dict(row["matchers"]),
        starts=row["starts"],
        ends=row["ends"],
        created_by=row["created_by"],
        comment=row["comment"],
        id=row["id"],
    )


OUTBOX = schema.alert_outbox
SENT = schema.alert_sent
ALERT = schema.alert
SILENCE = schema.alert_silence
LEASE = schema.engine_lease
ENGINE_STATE = schema.alert_engine_state
