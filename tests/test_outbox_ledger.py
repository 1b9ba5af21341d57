"""The outbox's in-flight ledger, without SQLite: lanes, cursors, releases, windows, pacing.

The file is a list of rows here; :func:`take` reads it the way the store reads SQLite.
"""

from __future__ import annotations

from typing import Any

import hypothesis.strategies as st
from hypothesis import given, settings

from edge_agent.outbox import OutboxBatch, OutboxSettings
from edge_agent.outbox.ledger import Ledger, Scan
from edge_agent.outbox.policy import Row


class File:
    """Rows as the store would find them: ids ascending, deleted rows gone."""

    def __init__(self) -> None:
        self.rows: dict[int, Row] = {}
        self.next_id = 1

    def append(
        self, ledger: Ledger, device: str, n: int, at: float, *, event: bool = False
    ) -> list[int]:
        ids = list(range(self.next_id, self.next_id + n))
        for row_id in ids:
            self.rows[row_id] = Row(row_id, device, f'{{"id":{row_id}}}'.encode(), event)
        self.next_id += n
        ledger.committed(ids[0], at)
        return ids

    def read(self, where: Scan) -> list[Row]:
        found = [
            r
            for i, r in sorted(self.rows.items())
            if i > where.after and (where.before is None or i < where.before)
        ]
        return found[: where.limit]

    def delete(self, ledger: Ledger, rows: list[tuple[int, bool]]) -> None:
        for row_id, _ in rows:
            self.rows.pop(row_id, None)
        ledger.deleted(i for i, _ in rows)


def make(**overrides: Any) -> Ledger:
    return Ledger(OutboxSettings.model_validate({"replay_max_readings_per_s": None, **overrides}))


def take(ledger: Ledger, file: File, now: float, limit: int = 1000) -> list[OutboxBatch]:
    taken = ledger.start_take(now, limit)
    live = taken.live_scan()
    if live is not None:
        taken.offer_live(file.read(live))
    historical = taken.historical_scan()
    if historical is not None:
        taken.offer_historical(file.read(historical))
    return ledger.finish_take(taken)


def ids(batches: list[OutboxBatch]) -> list[tuple[int, ...]]:
    return [b.reading_ids for b in batches]


def test_rows_committed_within_the_live_window_go_first_and_live() -> None:
    ledger, file = make(live_window_s=5.0), File()
    old = file.append(ledger, "sw", 2, at=0.0)
    new = file.append(ledger, "rfid", 1, at=60.0)
    live, backlog = take(ledger, file, now=60.0)
    assert (live.reading_ids, live.historical) == (tuple(new), False)
    assert (backlog.reading_ids, backlog.historical) == (tuple(old), True)
    assert take(ledger, file, now=60.0) == []  # in flight: not handed out twice
    assert (ledger.in_flight_messages, ledger.in_flight_readings) == (2, 3)


def test_acknowledged_rows_stay_in_use_until_the_writer_deleted_them() -> None:
    ledger, file = make(), File()
    file.append(ledger, "sw", 3, at=0.0)
    [batch] = take(ledger, file, now=100.0)
    deletes = ledger.ack([batch.id])
    assert deletes == [(1, False), (2, False), (3, False)]
    assert ledger.acknowledged == 3
    assert ledger.in_use() == {1, 2, 3}  # not evictable, not handed out again
    ledger.release([batch.id])  # too late: unknown now, ignored
    assert take(ledger, file, now=100.0) == []
    file.delete(ledger, deletes)
    assert ledger.in_use() == frozenset()
    assert ledger.ack([batch.id]) == []  # unknown ids are ignored


def test_a_released_batch_goes_out_again_after_those_taken_before() -> None:
    ledger, file = make(max_per_message=2), File()
    file.append(ledger, "sw", 6, at=0.0)
    first = take(ledger, file, now=100.0)
    assert ids(first) == [(1, 2), (3, 4), (5, 6)]
    ledger.ack([first[0].id])
    ledger.release([first[1].id])
    assert ids(take(ledger, file, now=100.0)) == [(3, 4)]
    ledger.release_all()
    assert ids(take(ledger, file, now=100.0)) == [(3, 4), (5, 6)]


def test_a_release_while_a_round_reads_makes_the_rows_scanned_again() -> None:
    ledger, file = make(max_per_message=1), File()
    file.append(ledger, "sw", 3, at=0.0)
    [one, _, _] = take(ledger, file, now=100.0)
    file.append(ledger, "sw", 1, at=0.0)  # backlog by now
    taken = ledger.start_take(100.0, 1000)
    scan = taken.historical_scan()
    assert scan is not None
    taken.offer_historical(file.read(scan))
    ledger.release([one.id])  # meanwhile, on paho's thread
    assert ids(ledger.finish_take(taken)) == [(4,)]
    assert ids(take(ledger, file, now=100.0)) == [(1,)]  # the cursor stayed back


def test_the_backlog_leaves_an_eighth_of_the_window_for_live_rows() -> None:
    ledger, file = make(max_per_message=1, max_in_flight_messages=16), File()
    file.append(ledger, "sw", 100, at=0.0)
    assert len(take(ledger, file, now=100.0)) == 14
    assert take(ledger, file, now=100.0) == []
    tap = file.append(ledger, "rfid", 3, at=100.0, event=True)
    assert ids(take(ledger, file, now=100.0)) == [(tap[0],), (tap[1],)]  # the window is full
    assert ledger.in_flight_messages == 16


def test_the_backlog_is_paced_and_the_sender_told_when_to_look_again() -> None:
    ledger, file = make(replay_max_readings_per_s=100, take_max_readings=50), File()
    file.append(ledger, "sw", 500, at=0.0)
    assert sum(len(b) for b in take(ledger, file, now=100.0, limit=50)) == 50
    assert ledger.wake_at() is None  # a whole page of the data: more work, at once
    assert ledger.has_work
    ledger.work_seen()
    assert take(ledger, file, now=100.0, limit=50) == []
    wake_at = ledger.wake_at()
    assert wake_at is not None
    assert abs(wake_at - 100.5) < 1e-9  # 50 readings at 100/s
    ledger.woke()
    assert ledger.wake_at() is None
    assert sum(len(b) for b in take(ledger, file, now=100.2, limit=50)) == 20


def test_a_round_started_before_the_file_was_replaced_hands_out_nothing() -> None:
    ledger, file = make(), File()
    file.append(ledger, "sw", 3, at=0.0)
    taken = ledger.start_take(100.0, 1000)
    scan = taken.historical_scan()
    assert scan is not None
    taken.offer_historical(file.read(scan))
    ledger.reset()
    assert ledger.finish_take(taken) == []
    assert ledger.in_flight_messages == 0
    fresh = File()  # the new file starts at id 1 again: the cursors did too
    fresh.append(ledger, "sw", 2, at=0.0)
    assert ids(take(ledger, fresh, now=100.0)) == [(1, 2)]


def test_commits_and_opening_wake_the_sender() -> None:
    ledger, file = make(), File()
    assert not ledger.has_work
    ledger.wake()
    assert ledger.has_work
    ledger.work_seen()
    file.append(ledger, "sw", 1, at=0.0)
    assert ledger.has_work


class Sender:
    """A sender driving the ledger at random; it checks each batch as it is handed out."""

    def __init__(self) -> None:
        self.ledger = make(max_per_message=3, max_in_flight_messages=6, live_window_s=5.0)
        self.file = File()
        self.now = 0.0
        self.out: dict[int, OutboxBatch] = {}

    def take(self, limit: int) -> None:
        for batch in take(self.ledger, self.file, self.now, limit):
            held = {i for b in self.out.values() for i in b.reading_ids}
            assert not held & set(batch.reading_ids)
            assert all(i in self.file.rows for i in batch.reading_ids)
            self.out[batch.id] = batch

    def answer(self, k: int, *, ack: bool) -> None:
        if not self.out:
            return
        batch = self.out.pop(sorted(self.out)[k % len(self.out)])
        if ack:
            self.file.delete(self.ledger, self.ledger.ack([batch.id]))
        else:
            self.ledger.release([batch.id])

    def step(self, step: tuple[Any, ...]) -> None:
        match step:
            case ("append", device, n):
                self.file.append(self.ledger, device, n, at=self.now)
            case ("take", limit):
                self.take(limit)
            case ("ack" | "release" as what, k):
                self.answer(k, ack=what == "ack")
            case ("release_all",):
                self.ledger.release_all()
                self.out.clear()
            case ("time", seconds):
                self.now += seconds


@settings(max_examples=200, deadline=None)
@given(
    steps=st.lists(
        st.one_of(
            st.tuples(st.just("append"), st.sampled_from("abc"), st.integers(1, 5)),
            st.tuples(st.just("take"), st.integers(1, 20)),
            st.tuples(st.just("ack"), st.integers(0, 5)),
            st.tuples(st.just("release"), st.integers(0, 5)),
            st.tuples(st.just("release_all")),
            st.tuples(st.just("time"), st.sampled_from([0.5, 3.0, 10.0])),
        ),
        max_size=60,
    )
)
def test_whatever_happens_no_row_is_out_twice_and_every_row_goes_out(
    steps: list[tuple[Any, ...]],
) -> None:
    sender = Sender()
    for step in steps:
        sender.step(step)
    ledger, file = sender.ledger, sender.file
    assert ledger.in_flight_messages == len(sender.out)
    ledger.release_all()
    waiting = set(file.rows)
    delivered: set[int] = set()
    while batches := take(ledger, file, sender.now):
        for batch in batches:
            delivered.update(batch.reading_ids)
        file.delete(ledger, ledger.ack(b.id for b in batches))
    assert delivered == waiting  # every row went out, once the window allowed
    assert ledger.in_use() == frozenset()
