"""The alert engine's durable state in the state database: alerts, outbox, sent log, lease.

What must survive a restart (issue 11, "Durable") lives here, in the tables of revision
0002 (:mod:`collector.state.schema`):

- ``alert``: each alert's current state. :meth:`AlertStore.apply` writes the new states
  *and* the notifications they cause in one transaction, so a crash can never leave an
  alert fired without its message queued, nor a message queued for a state not recorded.
- ``alert_outbox``: notifications not yet delivered. :meth:`~AlertStore.due` hands out
  what is due, :meth:`~AlertStore.failed` sets the next attempt,
  :meth:`~AlertStore.delivered` moves one to the log (those methods, and the fenced
  write, are :class:`~.store_outbox.OutboxStore`'s). A resolution queued before a crash
  is still there after it, and goes out then.
- ``alert_sent``: what was delivered, where, and the server's reply, one row per
  notification, channel and recipient: a delivery reported twice is recognised, and a
  notification already delivered is never queued again.
- ``alert_silence``: silences (:mod:`.silences` does the matching).
- ``engine_lease``: which engine is active (:mod:`._lease`): a standby takes over only
  once the active one's lease has expired (or was released).
- ``alert_engine_state`` (revision 0003): the running engine's snapshot and grouping
  state as one JSON document, written by :meth:`AlertStore.apply` in the same transaction
  as the alerts and notifications it goes with; :meth:`AlertStore.engine_state` reads it
  back for a restart or a takeover.

Every write may be *fenced* with ``holder=``: it is then kept only if that holder still
holds the lease, and refused with :class:`LeaseLost` (nothing written) otherwise, so an
engine that stalled past its lease cannot write over its successor's state.

Times are passed in (``now``), never read here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, insert, select

from collector.alerts import _lease, _rows
from collector.alerts._rows import ALERT, ENGINE_STATE, OUTBOX, SILENCE
from collector.alerts.silences import silencing
from collector.alerts.store_errors import AlertStoreError, UnknownSilence
from collector.alerts.store_outbox import Delivery, OutboxEntry, OutboxStore, known_ids

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from datetime import datetime, timedelta

    from sqlalchemy.engine import Connection

    from collector.alerts._lease import Lease
    from collector.alerts.model import Alert, AlertKey, Notification, Phase, Transition
    from collector.alerts.silences import Silence


class AlertStore(OutboxStore):
    """The alert engine's state in the state database (see the module docstring).

    The outbox and sent-log methods are :class:`~.store_outbox.OutboxStore`'s.
    """

    # -- alert state -----------------------------------------------------------------------

    def apply(
        self,
        transitions: Iterable[Transition],
        notifications: Iterable[Notification] = (),
        *,
        holder: str | None = None,
        engine_state: tuple[Mapping[str, Any], datetime] | None = None,
    ) -> int:
        """Record new alert states and queue the notifications they cause, in one transaction.

        Several transitions of one key keep the last. A notification whose id is queued or
        delivered already is not queued again (an engine that re-derives a message after a
        restart does not send it twice).

        Args:
            transitions: the alerts' moves; each alert's row becomes ``transition.alert``.
            notifications: the messages to queue, due at their ``created_at``.
            holder: fence the write with the engine lease (see the module docstring).
            engine_state: the engine's state document and when it was taken, replacing
                the stored one (:meth:`engine_state`) in the same transaction.

        Returns:
            How many notifications were queued.

        Raises:
            LeaseLost: ``holder`` does not hold the lease; nothing was written.
            AlertStoreError: two notifications share an id.
        """
        latest = {t.alert.key: _rows.alert_row(t.alert, t.at) for t in transitions}
        notifications = list(notifications)
        fresh = {n.id: n for n in notifications}
        if len(fresh) != len(notifications):
            ids = [n.id for n in notifications]
            twice = sorted({i for i in ids if ids.count(i) > 1})
            raise AlertStoreError(f"notification ids repeated in one batch: {twice}")
        with self._write(holder) as connection:
            if latest:
                _upsert_alerts(connection, list(latest.values()))
            if engine_state is not None:
                _save_engine_state(connection, *engine_state)
            if not fresh:
                return 0
            known = known_ids(connection, list(fresh))
            rows = [_rows.outbox_row(n) for n in fresh.values() if n.id not in known]
            if rows:
                connection.execute(insert(OUTBOX), rows)
            return len(rows)

    def alerts(self, *phases: Phase) -> list[Alert]:
        """Stored alerts in key order, only those in ``phases`` when given (``alerts list``)."""
        query = select(ALERT).order_by(*ALERT.primary_key.columns)
        if phases:
            query = query.where(ALERT.c.phase.in_([phase.value for phase in phases]))
        with self._db.read() as connection:
            return [_rows.alert_from_row(row) for row in connection.execute(query).mappings()]

    def engine_state(self) -> dict[str, Any] | None:
        """The engine's state document as :meth:`apply` last saved it (None: never saved)."""
        query = select(ENGINE_STATE.c.state).where(ENGINE_STATE.c.name == _lease.NAME)
        with self._db.read() as connection:
            state: dict[str, Any] | None = connection.execute(query).scalar_one_or_none()
        return state

    def load_state(self) -> dict[AlertKey, Alert]:
        """Every stored alert by its key: where a restarted (or taking-over) engine resumes."""
        return {alert.key: alert for alert in self.alerts()}

    def forget_resolved(self, before: datetime, *, holder: str | None = None) -> int:
        """Delete alerts resolved before ``before`` (their log stays); return how many."""
        with self._write(holder) as connection:
            gone = delete(ALERT).where(ALERT.c.phase == "resolved", ALERT.c.resolved_at < before)
            return _rows.affected(connection, gone, ALERT.c.rule)

    # -- silences --------------------------------------------------------------------------

    def add_silence(self, silence: Silence) -> Silence:
        """Store a silence; return it with its id (``silence.id`` is ignored)."""
        with self._db.write() as connection:
            new_id = connection.execute(
                insert(SILENCE).values(_rows.silence_row(silence)).returning(SILENCE.c.id)
            ).scalar_one()
            row = connection.execute(select(SILENCE).where(SILENCE.c.id == new_id)).mappings()
            return _rows.silence_from_row(row.one())

    def silences(self, now: datetime) -> list[Silence]:
        """Silences that have not ended at ``now`` (in force, or still to come), by start."""
        query = select(SILENCE).where(SILENCE.c.ends > now).order_by(SILENCE.c.starts, SILENCE.c.id)
        with self._db.read() as connection:
            return [_rows.silence_from_row(row) for row in connection.execute(query).mappings()]

    def remove_silence(self, silence_id: int) -> Silence:
        """Delete a silence by its id; return what it was.

        Raises:
            UnknownSilence: there is none with that id.
        """
        with self._db.write() as connection:
            row = connection.execute(
                delete(SILENCE).where(SILENCE.c.id == silence_id).returning(*SILENCE.columns)
            ).mappings()
            found = row.first()
            if found is None:
                raise UnknownSilence(silence_id)
            return _rows.silence_from_row(found)

    def silenced_by(self, key: AlertKey, now: datetime) -> Silence | None:
        """The silence keeping ``key`` quiet at ``now`` (None: none does)."""
        return silencing(key, self.silences(now), now)

    def is_silenced(self, key: AlertKey, now: datetime) -> bool:
        """Whether a silence keeps ``key`` quiet at ``now``."""
        return self.silenced_by(key, now) is not None

    # -- the engine lease ------------------------------------------------------------------

    def acquire_lease(self, holder: str, now: datetime, ttl: timedelta) -> bool:
        """Become the active engine until ``now + ttl`` if the lease is free, expired or ours.

        Atomic on both backends (:mod:`._lease`): of two standbys trying at once, one wins.
        """
        with self._db.write() as connection:
            return _lease.acquire(connection, holder, now, ttl)

    def renew_lease(self, holder: str, now: datetime, ttl: timedelta) -> bool:
        """Extend ``holder``'s lease to ``now + ttl``; False: another engine took it (stop)."""
        with self._db.write() as connection:
            return _lease.renew(connection, holder, now, ttl)

    def release_lease(self, holder: str, now: datetime) -> bool:
        """Give the lease up (a clean stop) so a standby takes over at once; False: not ours."""
        with self._db.write() as connection:
            return _lease.release(connection, holder, now)

    def lease(self) -> Lease | None:
        """The lease as stored (None: no engine ever took it)."""
        with self._db.read() as connection:
            return _lease.current(connection)


def _save_engine_state(connection: Connection, state: Mapping[str, Any], at: datetime) -> None:
    # One row per lease name: the state belongs to the active engine, whoever it is.
    statement = _rows.dialect_insert(connection, ENGINE_STATE).values(
        name=_lease.NAME, state=dict(state), saved_at=at
    )
    changes = {"state": statement.excluded.state, "saved_at": statement.excluded.saved_at}
    connection.execute(statement.on_conflict_do_update(index_elements=["name"], set_=changes))


def _upsert_alerts(connection: Connection, rows: list[dict[str, Any]]) -> None:
    statement = _rows.dialect_insert(connection, ALERT)
    keys = [column.name for column in ALERT.primary_key.columns]
    changes = {name: statement.excluded[name] for name in rows[0] if name not in keys}
    connection.execute(statement.on_conflict_do_update(index_elements=keys, set_=changes), rows)


__all__ = ["AlertStore", "Delivery", "OutboxEntry"]
