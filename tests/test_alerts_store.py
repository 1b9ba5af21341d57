"""The alert store's state and outbox on real SQLite and PostgreSQL.

States and the notifications they cause are written in one transaction; the outbox hands
out what is due, keeps failures for their retry time, and moves a delivery to the log
exactly once; writes fenced by a lost lease are refused whole.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import inspect
from sqlalchemy.exc import StatementError

from collector.alerts.digest_plan import digest_notifications, make_digest
from collector.alerts.model import (
    AlertKey,
    Audience,
    Notification,
    NotificationKind,
    Phase,
    Transition,
)
from collector.alerts.notify.digest import DoorOpenOvernight
from collector.alerts.store import AlertStore, Delivery, OutboxEntry
from collector.alerts.store_errors import AlertStoreError, LeaseLost, UnknownNotification
from collector.state import StateDatabase, StateSettings, migrate, open_state, schema
from sandbox.alerts_worker import door, notification, step

if TYPE_CHECKING:
    from collections.abc import Sequence

T0 = datetime(2026, 12, 3, 1, 0, tzinfo=UTC)
TTL = timedelta(seconds=10)


@pytest.fixture
def store(state_db: StateDatabase) -> AlertStore:
    return AlertStore(state_db)


def opened(*devices: str, at: datetime = T0) -> tuple[list[Transition], list[Notification]]:
    return step({}, dict.fromkeys(devices, True), at)


def closed(
    store: AlertStore, *devices: str, at: datetime
) -> tuple[list[Transition], list[Notification]]:
    return step(store.load_state(), dict.fromkeys(devices, False), at)


def delivery(notification_id: str, recipient: str = "pos@pemkab.go.id") -> Delivery:
    return Delivery(notification_id, "email", recipient, T0, "250 2.0.0 Ok: queued as 4F3A")


def ids(entries: Sequence[OutboxEntry]) -> list[str]:
    return [entry.notification.id for entry in entries]


# -- the schema --------------------------------------------------------------------------


def test_a_database_at_revision_0001_is_upgraded_to_the_alert_tables(
    state_settings: StateSettings,
) -> None:
    with StateDatabase(state_settings) as plain, plain.engine.connect() as connection:
        migrate.upgrade(connection, "0001")
    with open_state(state_settings) as database:
        assert database.revision() == migrate.head() == "0003"
        tables = set(inspect(database.engine).get_table_names())
    assert {t.name for t in schema.ALERT_TABLES} <= tables


# -- states and notifications, one transaction ------------------------------------------


def test_states_and_their_notifications_are_stored_and_read_back_as_they_were(
    store: AlertStore,
) -> None:
    transitions, notifications = opened("pintu-1", "pintu-2")
    cause = AlertKey("gateway_offline", "bukit-pelangi", "gw-2")
    rich = replace(transitions[1].alert, labels={"gedung": "B", "lantai": "2"}, suppressed_by=cause)
    transitions[1] = replace(transitions[1], alert=rich)
    notifications[1] = replace(notifications[1], alerts=(rich,))
    assert store.apply(transitions, notifications) == 2
    assert store.alerts() == [t.alert for t in transitions]
    assert store.load_state() == {t.alert.key: t.alert for t in transitions}
    assert [e.notification for e in store.outbox()] == notifications
    assert {e.attempts for e in store.outbox()} == {0}


def test_a_failure_halfway_writes_neither_the_states_nor_the_notifications(
    store: AlertStore,
) -> None:
    transitions, notifications = opened("pintu-1", "pintu-2")
    naive = T0.replace(tzinfo=None)
    broken = replace(notifications[1], created_at=naive)  # fails after the states are written
    with pytest.raises(StatementError, match="expected an aware datetime"):
        store.apply(transitions, [notifications[0], broken])
    assert store.alerts() == []
    assert store.outbox() == []
    late_state = replace(transitions[1], alert=replace(transitions[1].alert, fired_at=naive))
    with pytest.raises(StatementError, match="expected an aware datetime"):
        store.apply([transitions[0], late_state], notifications)
    assert store.alerts() == []
    assert store.outbox() == []


def test_a_resolution_replaces_the_state_and_queues_its_message(store: AlertStore) -> None:
    store.apply(*opened("pintu-1"))
    later = T0 + timedelta(minutes=12)
    transitions, notifications = closed(store, "pintu-1", at=later)
    assert store.apply(transitions, notifications) == 1
    (alert,) = store.alerts()
    assert (alert.phase, alert.fired_at, alert.resolved_at) == (Phase.RESOLVED, T0, later)
    assert store.alerts(Phase.FIRING) == []
    assert [e.notification.kind for e in store.outbox()] == [
        NotificationKind.FIRING,
        NotificationKind.RESOLVED,
    ]
    assert store.forget_resolved(later) == 0
    assert store.forget_resolved(later + timedelta(seconds=1)) == 1
    assert store.load_state() == {}


def test_a_notification_queued_or_delivered_already_is_not_queued_again(
    store: AlertStore,
) -> None:
    transitions, notifications = opened("pintu-1")
    assert store.apply(transitions, notifications) == 1
    assert store.apply(transitions, notifications) == 0
    assert len(store.outbox()) == 1
    assert store.known([notifications[0].id, "other"]) == {notifications[0].id}
    store.delivered(delivery(notifications[0].id))
    assert store.apply(transitions, notifications) == 0
    assert store.outbox() == []
    assert store.known([notifications[0].id]) == {notifications[0].id}


def test_one_id_twice_in_a_batch_is_refused(store: AlertStore) -> None:
    transitions, notifications = opened("pintu-1")
    with pytest.raises(AlertStoreError, match="repeated in one batch"):
        store.apply(transitions, notifications * 2)
    assert store.alerts() == []


# -- the outbox --------------------------------------------------------------------------


def test_due_hands_out_what_is_due_longest_waiting_first(store: AlertStore) -> None:
    made = [opened(f"pintu-{i}", at=T0 + timedelta(seconds=i)) for i in range(3)]
    for transitions, notifications in reversed(made):
        store.apply(transitions, notifications)
    first, second, _ = (notifications[0].id for _, notifications in made)
    assert ids(store.due(T0 + timedelta(seconds=1))) == [first, second]
    assert ids(store.due(T0 + timedelta(seconds=5), limit=1)) == [first]
    assert store.due(T0 - timedelta(seconds=1)) == []
    assert store.next_attempt() == T0


def test_a_failure_counts_the_attempt_and_waits_for_its_retry_time(store: AlertStore) -> None:
    store.apply(*opened("pintu-1"))
    (entry,) = store.outbox()
    sent_id = entry.notification.id
    retry = T0 + timedelta(seconds=30)
    assert store.failed(sent_id, "421 4.3.0 mail.pemkab.go.id busy", retry)
    assert store.due(retry - timedelta(seconds=1)) == []
    assert store.next_attempt() == retry
    (again,) = store.due(retry)
    assert (again.attempts, again.last_error) == (1, "421 4.3.0 mail.pemkab.go.id busy")
    store.failed(sent_id, "connection refused", retry + timedelta(seconds=60))
    (twice,) = store.outbox()
    assert (twice.attempts, twice.last_error) == (2, "connection refused")
    assert twice.next_attempt_at == retry + timedelta(seconds=60)


def test_a_delivery_moves_to_the_log_and_reporting_it_twice_logs_it_once(
    store: AlertStore,
) -> None:
    store.apply(*opened("pintu-1"))
    sent_id = store.outbox()[0].notification.id
    assert store.delivered(delivery(sent_id)) is True
    assert store.outbox() == []
    assert store.next_attempt() is None
    assert store.delivered(delivery(sent_id)) is False
    assert store.deliveries() == [delivery(sent_id)]
    assert store.failed(sent_id, "late failure report", T0) is False
    assert store.outbox() == []


def test_a_message_to_several_recipients_stays_due_until_the_last(store: AlertStore) -> None:
    store.apply(*opened("pintu-1"))
    sent_id = store.outbox()[0].notification.id
    assert store.delivered(delivery(sent_id, "pos@pemkab.go.id"), final=False)
    assert ids(store.due(T0)) == [sent_id]  # a crash now: the retry skips what is logged
    assert not store.delivered(delivery(sent_id, "pos@pemkab.go.id"), final=False)
    assert store.delivered(delivery(sent_id, "hook"))
    assert store.outbox() == []
    assert [d.recipient for d in store.deliveries(sent_id)] == ["hook", "pos@pemkab.go.id"]


def test_the_sent_log_is_pruned_by_delivery_time(store: AlertStore) -> None:
    store.apply(*opened("pintu-1"))
    store.apply(*opened("pintu-2", at=T0 + timedelta(days=1)))
    first, second = (entry.notification.id for entry in store.outbox())
    store.delivered(delivery(first))
    store.delivered(replace(delivery(second), at=T0 + timedelta(days=1)))
    assert store.forget_deliveries(T0) == 0
    assert store.forget_deliveries(T0 + timedelta(hours=1)) == 1
    assert [d.notification_id for d in store.deliveries()] == [second]


def test_a_digest_keeps_its_values_in_the_outbox(store: AlertStore) -> None:
    digest = make_digest(
        date(2026, 12, 3),
        T0,
        [],
        (DoorOpenOvernight("bukit-pelangi", "gw-1", "pintu-1", T0 - timedelta(hours=5)),),
        None,
    )
    notifications = digest_notifications(digest, [Audience.IT])
    assert store.apply([], notifications) == 1
    assert [entry.notification for entry in store.outbox()] == notifications


def test_unknown_notifications_are_named(store: AlertStore) -> None:
    with pytest.raises(UnknownNotification, match="'nope' is neither in the outbox"):
        store.delivered(delivery("nope"))
    with pytest.raises(UnknownNotification):
        store.failed("nope", "x", T0)


# -- fenced writes -----------------------------------------------------------------------


def test_writes_fenced_by_a_lost_lease_are_refused_whole(store: AlertStore) -> None:
    assert store.acquire_lease("engine-a", T0, TTL)
    transitions, notifications = opened("pintu-1")
    store.apply(transitions, notifications, holder="engine-a")
    sent_id = notifications[0].id
    assert store.acquire_lease("engine-b", T0 + TTL, TTL)  # a's lease expired: b took over
    more, more_notifications = opened("pintu-2")
    with pytest.raises(LeaseLost, match="not held by 'engine-a' \\('engine-b' holds it\\)"):
        store.apply(more, more_notifications, holder="engine-a")
    with pytest.raises(LeaseLost):
        store.delivered(delivery(sent_id), holder="engine-a")
    with pytest.raises(LeaseLost):
        store.failed(sent_id, "x", T0, holder="engine-a")
    assert [a.key for a in store.alerts()] == [door("pintu-1")]
    assert ids(store.outbox()) == [sent_id]
    assert store.deliveries() == []
    store.delivered(delivery(sent_id), holder="engine-b")
    assert store.outbox() == []


def test_the_worker_rule_notifies_only_what_people_hear_of() -> None:
    transitions, notifications = opened("pintu-1")
    assert [n.kind for n in notifications] == [NotificationKind.FIRING]
    assert notification(transitions[0].alert, T0) == notifications[0]
    assert step({t.alert.key: t.alert for t in transitions}, {"pintu-1": True}, T0) == ([], [])
