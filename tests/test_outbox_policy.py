"""The outbox's pure decisions: eviction order, batching, lanes and the in-flight window."""

from __future__ import annotations

from dataclasses import dataclass, field

import hypothesis.strategies as st
import pytest
from hypothesis import given

from edge_agent.outbox.policy import (
    LOW_WATER_MIN_BYTES,
    Backoff,
    ConfirmTimer,
    LiveBoundary,
    ReadingClass,
    ReplayPacer,
    Row,
    age_cutoff_ns,
    choose_size_victims,
    expired,
    low_water,
    narrower,
    plan_batches,
    rows_to_evict,
    slots,
)

# Eviction.


def test_reading_class_follows_the_flag() -> None:
    assert ReadingClass.of(is_event=True) is ReadingClass.EVENT
    assert ReadingClass.of(is_event=False) is ReadingClass.TELEMETRY


def test_nothing_is_evicted_at_or_under_the_limit() -> None:
    assert rows_to_evict(used_bytes=1_000_000, max_bytes=1_000_000, rows=500) == 0
    assert rows_to_evict(used_bytes=0, max_bytes=1_000_000, rows=0) == 0


def test_over_the_limit_evicts_down_to_the_low_water_mark() -> None:
    # 1,000 rows of 1,000 B each; 100 kB over a 1 MB limit whose low water is 64 KiB below.
    n = rows_to_evict(used_bytes=1_100_000, max_bytes=1_000_000, rows=1_100)
    assert n == -(-(1_100_000 - low_water(1_000_000)) // 1_000)
    assert low_water(1_000_000) == 1_000_000 - LOW_WATER_MIN_BYTES
    assert low_water(1_000_000_000) == 995_000_000  # 0.5 % below a large limit


def test_telemetry_goes_before_any_event() -> None:
    victims = choose_size_victims([5, 6, 9], [1, 2, 3], 4, exclude=set())
    assert victims.telemetry == (5, 6, 9)
    assert victims.events == (1,)  # even though the events are older


def test_readings_in_flight_are_never_evicted() -> None:
    victims = choose_size_victims([5, 6, 9], [1, 2], 3, exclude={5, 1})
    assert victims.telemetry == (6, 9)
    assert victims.events == (2,)


sorted_ids = st.lists(st.integers(1, 500), unique=True).map(sorted)


@given(
    telemetry=sorted_ids,
    events=sorted_ids,
    count=st.integers(0, 60),
    data=st.data(),
)
def test_size_victims_take_oldest_telemetry_first_and_events_only_when_it_is_gone(
    telemetry: list[int], events: list[int], count: int, data: st.DataObject
) -> None:
    events = [i for i in events if i not in set(telemetry)]
    exclude = set(data.draw(st.lists(st.sampled_from([0, *telemetry, *events]))))
    victims = choose_size_victims(telemetry, events, count, exclude)
    free_t = [i for i in telemetry if i not in exclude]
    free_e = [i for i in events if i not in exclude]
    assert len(victims) == min(count, len(free_t) + len(free_e))
    assert list(victims.telemetry) == free_t[: len(victims.telemetry)]  # oldest first
    assert list(victims.events) == free_e[: len(victims.events)]
    if victims.events:
        assert list(victims.telemetry) == free_t  # no telemetry left to evict


@dataclass
class Model:
    """A store in miniature: rows of (id, class, size); evicts like the real one."""

    max_bytes: int
    rows: list[tuple[int, bool, int]] = field(default_factory=list)
    next_id: int = 1

    @property
    def used(self) -> int:
        return sum(size for _, _, size in self.rows)

    def append(self, *, is_event: bool, size: int) -> None:
        self.rows.append((self.next_id, is_event, size))
        self.next_id += 1

    def enforce(self, exclude: set[int]) -> list[tuple[bool, bool]]:
        """Evict until under the limit; per round: (any events evicted, telemetry left)."""
        rounds = []
        for _ in range(100):
            n = rows_to_evict(used_bytes=self.used, max_bytes=self.max_bytes, rows=len(self.rows))
            if n == 0:
                break
            telemetry = [i for i, ev, _ in self.rows if not ev]
            events = [i for i, ev, _ in self.rows if ev]
            victims = choose_size_victims(telemetry, events, n, exclude)
            if not victims:
                break
            gone = set(victims.telemetry) | set(victims.events)
            self.rows = [r for r in self.rows if r[0] not in gone]
            left = any(not ev and i not in exclude for i, ev, _ in self.rows)
            rounds.append((bool(victims.events), left))
        return rounds


operations = st.lists(
    st.one_of(
        st.tuples(st.just("telemetry"), st.integers(50, 3000)),
        st.tuples(st.just("event"), st.integers(50, 3000)),
        st.tuples(st.just("enforce"), st.integers(0, 0)),
    ),
    max_size=80,
)


@given(ops=operations, max_bytes=st.integers(2_000, 200_000), data=st.data())
def test_whatever_the_sequence_events_go_only_when_no_telemetry_is_left(
    ops: list[tuple[str, int]], max_bytes: int, data: st.DataObject
) -> None:
    model = Model(max_bytes=max_bytes + LOW_WATER_MIN_BYTES)  # low water above zero
    for op, size in ops:
        if op == "enforce":
            ids = [i for i, _, _ in model.rows]
            exclude = set(data.draw(st.lists(st.sampled_from(ids), max_size=5))) if ids else set()
            for events_evicted, telemetry_left in model.enforce(exclude):
                assert not (events_evicted and telemetry_left)
            in_flight = sum(s for i, _, s in model.rows if i in exclude)
            assert model.used <= model.max_bytes or model.used == in_flight
        else:
            model.append(is_event=op == "event", size=size)


def test_age_limit_picks_rows_stamped_before_the_cutoff() -> None:
    cutoff = age_cutoff_ns(now_ns=10_000_000_000, max_age_s=4)
    assert cutoff == 6_000_000_000
    rows = [(1, 5_000_000_000), (2, 6_000_000_000), (3, 1), (4, 9_000_000_000)]
    assert expired(rows, cutoff, exclude={3}) == [1]


# Batching and lanes.

devices = st.sampled_from(["rfid-a", "rfid-b", "sw-1", "door-2"])


@st.composite
def row_lists(draw: st.DrawFn) -> list[Row]:
    ids = draw(st.lists(st.integers(1, 10_000), unique=True, max_size=120).map(sorted))
    return [
        Row(i, draw(devices), b"x" * draw(st.integers(1, 400)), is_event=draw(st.booleans()))
        for i in ids
    ]


@given(
    rows=row_lists(),
    max_batches=st.integers(0, 12),
    max_per_message=st.integers(1, 20),
    max_message_bytes=st.integers(1, 3000),
    data=st.data(),
)
def test_batches_keep_each_devices_order_and_the_limits(
    rows: list[Row],
    max_batches: int,
    max_per_message: int,
    max_message_bytes: int,
    data: st.DataObject,
) -> None:
    exclude = set(data.draw(st.lists(st.sampled_from([r.id for r in rows] or [0]))))
    plan = plan_batches(
        rows,
        exclude=exclude,
        max_batches=max_batches,
        max_per_message=max_per_message,
        max_message_bytes=max_message_bytes,
    )
    assert len(plan.batches) <= max_batches
    batched = [row for batch in plan.batches for row in batch]
    for batch in plan.batches:
        assert len({row.device for row in batch}) == 1
        assert len(batch) <= max_per_message
        assert len(batch) == 1 or sum(len(r.body) + 1 for r in batch) <= max_message_bytes
    # The cursor: everything up to it was batched or skipped, nothing after it was.
    consumed = [r for r in rows if plan.cursor is not None and r.id <= plan.cursor]
    assert sorted(r.id for r in batched) == [r.id for r in consumed if r.id not in exclude]
    assert plan.complete == (len(consumed) == len(rows))
    # Per device, the batches in list order give the device's rows in id order.
    for device in {r.device for r in rows}:
        sent = [r.id for batch in plan.batches for r in batch if r.device == device]
        assert sent == sorted(sent)


def test_a_reading_larger_than_the_byte_limit_travels_alone() -> None:
    rows = [Row(1, "sw", b"x" * 50, is_event=False), Row(2, "sw", b"y" * 500, is_event=False)]
    plan = plan_batches(
        rows, exclude=set(), max_batches=5, max_per_message=10, max_message_bytes=100
    )
    assert [[r.id for r in b] for b in plan.batches] == [[1], [2]]


def test_batching_stops_at_the_first_row_needing_a_batch_beyond_the_limit() -> None:
    rows = [
        Row(1, "a", b"1", is_event=True),
        Row(2, "b", b"2", is_event=True),
        Row(3, "a", b"3", is_event=True),
    ]
    plan = plan_batches(rows, exclude=set(), max_batches=1, max_per_message=5, max_message_bytes=99)
    assert [[r.id for r in b] for b in plan.batches] == [[1]]
    assert plan.cursor == 1  # row 3 would fit, but row 2 must not be skipped
    assert not plan.complete


@given(
    max_in_flight=st.integers(2, 65_535),
    live=st.integers(0, 70_000),
    historical=st.integers(0, 70_000),
)
def test_historical_batches_leave_a_reserve_for_live_ones(
    max_in_flight: int, live: int, historical: int
) -> None:
    live = min(live, max_in_flight)
    historical = min(historical, max_in_flight - live)
    free = slots(live_in_flight=live, historical_in_flight=historical, max_in_flight=max_in_flight)
    assert free.live == max_in_flight - live - historical
    assert 0 <= free.historical <= free.live
    reserve = max(1, max_in_flight // 8)
    assert historical + free.historical <= max_in_flight - reserve or free.historical == 0


def test_a_full_replay_still_leaves_a_slot_for_a_card_tap() -> None:
    free = slots(live_in_flight=0, historical_in_flight=56, max_in_flight=64)
    assert free.historical == 0
    assert free.live == 8


def test_live_boundary_moves_past_commits_older_than_the_window() -> None:
    boundary = LiveBoundary(window_s=5.0)
    assert boundary.boundary(now=0.0) is None  # after a start, everything is backlog
    boundary.record(10, at=100.0)
    boundary.record(20, at=103.0)
    assert boundary.boundary(now=104.0) == 10
    assert boundary.boundary(now=105.5) == 20
    assert boundary.boundary(now=108.5) is None


def test_live_boundary_forgets_old_commits_even_when_nobody_asks() -> None:
    boundary = LiveBoundary(window_s=5.0)
    for i in range(10_000):
        boundary.record(i + 1, at=float(i))
    assert len(boundary._commits) <= 6


def test_the_replay_pacer_refills_at_its_rate_up_to_one_burst() -> None:
    pacer = ReplayPacer(rate=1000, burst=500)
    assert pacer.available(now=0.0) == 500
    pacer.spend(500)
    assert pacer.available(now=0.1) == 100
    assert pacer.ready_at(now=0.1, readings=500) == pytest.approx(0.5)
    pacer.spend(100)
    assert pacer.available(now=100.0) == 500


def test_an_unpaced_replay_always_gets_a_full_round() -> None:
    pacer = ReplayPacer(rate=None, burst=500)
    pacer.spend(500)
    assert pacer.available(now=0.0) == 500
    assert pacer.ready_at(now=3.0, readings=500) == 3.0


# Answers: receipts that do not come, refusals.


def test_the_confirm_timeout_doubles_once_per_wait_given_and_a_receipt_resets_it() -> None:
    timer = ConfirmTimer(base_s=30, max_s=100)
    timer.timed_out(30)
    timer.timed_out(30)  # another batch of the same burst
    assert timer.current_s == 60
    timer.timed_out(60)
    assert timer.current_s == 100  # capped
    timer.timed_out(30)  # a late one given the old wait: no shrinking
    assert timer.current_s == 100
    timer.confirmed()
    assert timer.current_s == 30


def test_a_refusal_holds_a_device_longer_each_time_until_a_publish_is_accepted() -> None:
    backoff = Backoff(first_s=1.0, max_s=4.0)
    assert not backoff.holds(0.0)
    holds = []
    now = 0.0
    for _ in range(4):
        backoff.refused(now)
        backoff.refused(now + 0.1)  # sent before the hold: the same refusal
        holds.append(backoff.until - now)
        now = backoff.until
    assert holds == [1.0, 2.0, 4.0, 4.0]
    assert backoff.holds(now - 0.01)
    backoff.accepted()
    backoff.refused(now)
    assert backoff.until - now == 1.0


def test_rows_of_held_devices_are_skipped_and_the_first_one_named() -> None:
    rows = [Row(i, "rfid" if i % 2 else "sw", b"{}", is_event=False) for i in range(1, 7)]
    plan = plan_batches(
        rows, exclude=(), max_batches=10, max_per_message=10, max_message_bytes=1000, hold={"rfid"}
    )
    assert [[r.id for r in b] for b in plan.batches] == [[2, 4, 6]]
    assert plan.held == {"rfid": 1}
    assert plan.cursor == 6


def test_take_hands_out_nothing_beyond_either_window() -> None:
    in_flight = slots(live_in_flight=0, historical_in_flight=2, max_in_flight=8)
    unconfirmed = slots(live_in_flight=0, historical_in_flight=14, max_in_flight=16)
    both = narrower(in_flight, unconfirmed)
    assert (both.live, both.historical) == (2, 0)
