"""The engine process's saved state: the JSON document, and the store keeping it in step."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from collector.alerts import persisted
from collector.alerts.notify.grouping import Grouper
from collector.alerts.notify.settings import GroupingSettings
from collector.alerts.store import AlertStore
from collector.alerts.store_errors import LeaseLost
from sandbox.alerts_rules import T0, birth, death, door, engine, port_change, seconds

if TYPE_CHECKING:
    from collector.alerts.engine import Engine
    from collector.state import StateDatabase


def _busy_engine() -> tuple[Engine, Grouper]:
    """An engine with pending and firing alerts, tracks, memos and a settling cause."""
    eng = engine()
    grouper = Grouper(GroupingSettings(group_wait_s=30))
    moves = eng.observe(birth(T0, heartbeat_s=None), T0)
    moves += eng.observe(door("open", T0), T0)
    moves += eng.observe(port_change("uplink", T0, "down"), T0)
    moves += eng.tick(T0 + seconds(400))
    moves += eng.observe(death(T0 + seconds(401)), T0 + seconds(401))
    moves += eng.observe(birth(T0 + seconds(402), bdseq=2, heartbeat_s=None), T0 + seconds(402))
    grouper.add_all(moves)
    return eng, grouper


def test_document_round_trips_through_json_and_gives_the_same_engine() -> None:
    eng, grouper = _busy_engine()
    snapshot = eng.snapshot()
    assert snapshot.alerts
    assert snapshot.tracks
    assert snapshot.memos
    assert snapshot.settling
    assert grouper.export()["groups"]
    document = json.loads(json.dumps(persisted.encode(snapshot, grouper.export())))
    restored_snapshot, grouping = persisted.decode(document)
    assert restored_snapshot == snapshot
    twin = engine()
    twin.restore(restored_snapshot)
    regrouped = Grouper.restore(grouper.settings, grouping)
    later = T0 + seconds(900)
    assert twin.tick(later) == eng.tick(later)
    assert regrouped.due(later) == grouper.due(later)


@pytest.mark.parametrize("document", [{}, {"version": 2}, {"version": 1, "engine": {}}])
def test_a_foreign_document_is_refused_with_its_own_error(document: dict[str, object]) -> None:
    with pytest.raises(persisted.StateFormatError):
        persisted.decode(document)


def test_store_saves_the_document_with_the_alerts_fenced_by_the_lease(
    state_db: StateDatabase,
) -> None:
    store = AlertStore(state_db)
    assert store.engine_state() is None
    eng, grouper = _busy_engine()
    assert store.acquire_lease("alerts-1", T0, seconds(30))
    document = persisted.encode(eng.snapshot(), grouper.export())
    store.apply([], [], holder="alerts-1", engine_state=(document, T0))
    assert store.engine_state() == json.loads(json.dumps(document))
    # Another engine took over: the stalled one's write changes nothing, state included.
    assert store.acquire_lease("alerts-2", T0 + seconds(60), seconds(30))
    with pytest.raises(LeaseLost):
        store.apply([], [], holder="alerts-1", engine_state=({"version": 1}, T0 + seconds(61)))
    assert store.engine_state() == json.loads(json.dumps(document))
