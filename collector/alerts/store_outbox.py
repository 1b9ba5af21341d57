"""The alert outbox and the log of what was sent, in the state database.

The half of :class:`~collector.alerts.store.AlertStore` that the sender works with: the
``alert_outbox`` table (notifications not yet delivered: :meth:`OutboxStore.due` hands out
what is due, :meth:`~OutboxStore.failed` sets the next attempt, :meth:`~OutboxStore.delivered`
moves one to the log) and ``alert_sent`` (one row per notification, channel and recipient,
so a delivery reported twice is recognised). :class:`OutboxStore` is also where every write
is fenced by the engine lease (:meth:`OutboxStore._write`); the alert states, silences and
the lease itself are the rest of the store (:mod:`collector.alerts.store`).

Times are passed in (``now``), never read here.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, select, update

from collector.alerts import _lease, _rows
from collector.alerts._rows import OUTBOX, SENT
from collector.alerts.store_errors import UnknownNotification

if TYPE_CHECKING:
    from collections.abc import Iterator
    from datetime import datetime

    from sqlalchemy import Select
    from sqlalchemy.engine import Connection

    from collector.alerts.model import Notification
    from collector.state import StateDatabase


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """A notification waiting in the outbox, and how its delivery has gone so far.

    Attributes:
        notification: what to send.
        attempts: failed attempts so far.
        next_attempt_at: when it is due (its creation, or the retry time of the last failure).
        last_error: what the last failure said (None: never failed).
    """

    notification: Notification
    attempts: int
    next_attempt_at: datetime
    last_error: str | None


@dataclass(frozen=True, slots=True)
class Delivery:
    """One notification delivered through one channel to one recipient.

    Attributes:
        notification_id: the notification's id.
        channel: the channel's name (``email``, ``webhook``...).
        recipient: an address, or the webhook's URL.
        at: when the server accepted it.
        reply: what the server answered (``250 2.0.0 Ok: queued as 4F3A``, ``HTTP 204``).
    """

    notification_id: str
    channel: str
    recipient: str
    at: datetime
    reply: str


class OutboxStore:
    """The outbox and the sent log (see the module docstring), and the fenced write."""

    def __init__(self, database: StateDatabase) -> None:
        """Use ``database`` (opened with :func:`collector.state.open_state`: schema at head)."""
        self._db = database

    @contextmanager
    def _write(self, holder: str | None) -> Iterator[Connection]:
        """A write transaction, refused before it writes if ``holder`` lost the lease."""
        with self._db.write() as connection:
            if holder is not None:
                _lease.check(connection, holder)
            yield connection

    def known(self, notification_ids: list[str]) -> set[str]:
        """Which of these notifications are queued or were delivered (never queued again)."""
        with self._db.read() as connection:
            return known_ids(connection, notification_ids)

    def forget_deliveries(self, before: datetime, *, holder: str | None = None) -> int:
        """Delete the sent log's rows of deliveries before ``before``; return how many."""
        with self._write(holder) as connection:
            gone = delete(SENT).where(SENT.c.at < before)
            return _rows.affected(connection, gone, SENT.c.notification_id)

    # -- the outbox and the sent log -------------------------------------------------------

    def due(self, now: datetime, limit: int = 100) -> list[OutboxEntry]:
        """Up to ``limit`` notifications due at ``now``, longest-waiting first."""
        query = (
            select(OUTBOX)
            .where(OUTBOX.c.next_attempt_at <= now)
            .order_by(OUTBOX.c.next_attempt_at, OUTBOX.c.created_at, OUTBOX.c.id)
            .limit(limit)
        )
        return self._entries(query)

    def outbox(self) -> list[OutboxEntry]:
        """Everything waiting, due or not, in the order it will be due."""
        return self._entries(select(OUTBOX).order_by(OUTBOX.c.next_attempt_at, OUTBOX.c.id))

    def next_attempt(self) -> datetime | None:
        """When the next notification is due (None: the outbox is empty): when to wake."""
        with self._db.read() as connection:
            earliest: datetime | None = connection.execute(
                select(func.min(OUTBOX.c.next_attempt_at))
            ).scalar_one()
        return earliest

    def delivered(
        self, delivery: Delivery, *, final: bool = True, holder: str | None = None
    ) -> bool:
        """Log a delivery; with ``final``, the notification leaves the outbox.

        A notification that goes out on several channels or to several recipients is
        reported once for each, ``final=False`` until the last: it stays due, and a retry
        after a crash can skip what :meth:`deliveries` lists.

        Returns:
            True if this delivery is new; False if it was logged already (reported twice).

        Raises:
            UnknownNotification: the id was never queued.
            LeaseLost: ``holder`` does not hold the lease; nothing was written.
        """
        notification_id = delivery.notification_id
        with self._write(holder) as connection:
            queued = connection.execute(
                select(OUTBOX.c.kind, OUTBOX.c.group).where(OUTBOX.c.id == notification_id)
            ).first()
            about = (
                queued
                or connection.execute(
                    select(SENT.c.kind, SENT.c.group).where(
                        SENT.c.notification_id == notification_id
                    )
                ).first()
            )
            if about is None:
                raise UnknownNotification(notification_id)
            row = {
                "notification_id": notification_id,
                "channel": delivery.channel,
                "recipient": delivery.recipient,
                "kind": about.kind,
                "group": about.group,
                "at": delivery.at,
                "reply": delivery.reply,
            }
            logged = _rows.dialect_insert(connection, SENT).values(row).on_conflict_do_nothing()
            new = _rows.affected(connection, logged, SENT.c.notification_id) == 1
            if final and queued is not None:
                connection.execute(delete(OUTBOX).where(OUTBOX.c.id == notification_id))
            return new

    def failed(
        self, notification_id: str, error: str, retry_at: datetime, *, holder: str | None = None
    ) -> bool:
        """Record a failed attempt: one more attempt, its error, due again at ``retry_at``.

        Returns:
            True if recorded; False if the notification was delivered already (nothing to do).

        Raises:
            UnknownNotification: the id was never queued.
            LeaseLost: ``holder`` does not hold the lease; nothing was written.
        """
        with self._write(holder) as connection:
            retried = (
                update(OUTBOX)
                .where(OUTBOX.c.id == notification_id)
                .values(attempts=OUTBOX.c.attempts + 1, last_error=error, next_attempt_at=retry_at)
            )
            if _rows.affected(connection, retried, OUTBOX.c.id) == 1:
                return True
            sent = select(SENT.c.notification_id).where(SENT.c.notification_id == notification_id)
            if connection.execute(sent.limit(1)).first() is None:
                raise UnknownNotification(notification_id)
            return False

    def deliveries(self, notification_id: str | None = None) -> list[Delivery]:
        """The sent log (of one notification), oldest first."""
        query = select(SENT).order_by(SENT.c.at, SENT.c.notification_id, SENT.c.channel)
        if notification_id is not None:
            query = query.where(SENT.c.notification_id == notification_id)
        with self._db.read() as connection:
            return [
                Delivery(r.notification_id, r.channel, r.recipient, r.at, r.reply)
                for r in connection.execute(query)
            ]

    def _entries(self, query: Select[Any]) -> list[OutboxEntry]:
        with self._db.read() as connection:
            return [
                OutboxEntry(
                    _rows.notification_from_row(row),
                    row["attempts"],
                    row["next_attempt_at"],
                    row["last_error"],
                )
                for row in connection.execute(query).mappings()
            ]


def known_ids(connection: Connection, ids: list[str]) -> set[str]:
    """Which of ``ids`` are in the outbox or the sent log."""
    return {
        *connection.execute(select(OUTBOX.c.id).where(OUTBOX.c.id.in_(ids))).scalars(),
        *connection.execute(
            select(SENT.c.notification_id).where(SENT.c.notification_id.in_(ids))
        ).scalars(),
    }


__all__ = ["Delivery", "OutboxEntry", "OutboxStore", "known_ids"]
