"""The in-memory fallback (while the outbox cannot store): bounded, ordered, counted."""

from __future__ import annotations

from edge_agent.outbox import OutboxEntry
from edge_agent.uplink.fallback import Fallback

TS = 1_764_300_000_000_000_000


def _entries(n: int, *, event: bool = False, tag: str = "x") -> list[OutboxEntry]:
    return [
        OutboxEntry("dev-1", f'{{"tag":"{tag}{i}"}}'.encode(), is_event=event, ts=TS + i, seq=i)
        for i in range(n)
    ]


def test_take_ack_release_keep_the_original_order() -> None:
    fallback = Fallback(max_readings=100)
    for tag in "abc":
        fallback.put("dev-1", _entries(1, tag=tag), now=0.0)
    first = fallback.take(2, now=0.0, live_window_s=5.0)
    assert [b.readings for b in first] == [(b'{"tag":"a0"}',), (b'{"tag":"b0"}',)]
    assert all(b.id < 0 for b in first)  # never confused with outbox batch ids
    fallback.ack(first[1].id)
    fallback.release([first[0].id])
    again = fallback.take(10, now=10.0, live_window_s=5.0)
    assert [b.readings[0] for b in again] == [b'{"tag":"a0"}', b'{"tag":"c0"}']
    assert all(b.historical for b in again)  # held longer than the live window
    assert fallback.stats().delivered == 1


def test_when_full_telemetry_goes_first_and_every_drop_is_counted() -> None:
    fallback = Fallback(max_readings=100)
    fallback.put("dev-1", _entries(10, event=True, tag="e"), now=0.0)
    fallback.put("dev-1", _entries(60, tag="t"), now=0.0)
    dropped = fallback.put("dev-1", _entries(40, tag="u"), now=0.0)
    assert dropped == 60  # the older telemetry, not the events
    stats = fallback.stats()
    assert (stats.held, stats.dropped_telemetry, stats.dropped_events) == (50, 60, 0)
    fallback.put("dev-1", _entries(95, event=True, tag="f"), now=0.0)
    stats = fallback.stats()
    assert stats.dropped_telemetry == 100  # all of it, before any event
    assert (stats.held, stats.dropped_events) == (95, 10)  # then the oldest events


def test_waiting_readings_move_out_and_back() -> None:
    fallback = Fallback(max_readings=100)
    fallback.put("dev-1", _entries(3), now=0.0)
    fallback.put("dev-1", _entries(2), now=0.0)
    in_flight = fallback.take(1, now=0.0, live_window_s=5.0)
    items = fallback.take_waiting()
    assert [len(i.entries) for i in items] == [2]
    fallback.put_back(items)
    fallback.release_all()
    assert [len(b) for b in fallback.take(5, now=0.0, live_window_s=5.0)] == [3, 2]
    assert in_flight[0].id == -1
    items = fallback.take_waiting()
    assert items == []
