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
            body = f'{{"seq":{row_id}}}'.encode()
            self.rows[row_id] = Row(row_id, device, body, event, seq=row_id)
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


# Receipts: published, confirmed, timed out, refused.


def test_a_published_batch_awaits_its_receipt_and_counts_against_the_unconfirmed_window() -> None:
    ledger, file = (
        make(max_per_message=1, max_in_flight_messages=4, max_unconfirmed_messages=8),
        File(),
    )
    file.append(ledger, "sw", 20, at=0.0)
    first = take(ledger, file, now=100.0)
    assert len(first) == 3  # the in-flight window, less the live reserve
    for batch in first:
        ledger.published(batch.id, now=100.0)
    assert (ledger.in_flight_messages, ledger.awaiting_messages, ledger.awaiting_readings) == (
        0,
        3,
        3,
    )
    assert ledger.in_use() >= {i for b in first for i in b.reading_ids}  # not handed out again
    second = take(ledger, file, now=100.0)
    assert len(second) == 3
    for batch in second:
        ledger.published(batch.id, now=100.0)
    # 6 unconfirmed: the backlog may use 7 of the 8 (one kept for live readings).
    assert len(take(ledger, file, now=100.0)) == 1
    assert take(ledger, file, now=100.0) == []
    tap = file.append(ledger, "rfid", 1, at=100.0, event=True)
    assert ids(take(ledger, file, now=100.0)) == [tuple(tap)]  # the reserve
    assert take(ledger, file, now=100.0) == []


def test_a_receipt_takes_its_rows_out_of_whatever_batch_holds_them() -> None:
    ledger, file = make(max_per_message=4), File()
    file.append(ledger, "sw", 8, at=0.0)
    awaiting, _ = take(ledger, file, now=100.0)
    ledger.published(awaiting.id, now=100.0)
    deletes = ledger.confirm([(1, 2), (4, 6), (100, 200)])  # seq = row id here
    assert sorted(deletes) == [(1, False), (2, False), (4, False), (5, False), (6, False)]
    assert ledger.confirmed == 5
    assert ledger.awaiting_readings == 1  # row 3 still awaits
    assert ledger.in_flight_readings == 2  # rows 7 and 8
    assert ledger.in_use() == frozenset(range(1, 9))  # confirmed rows until deleted
    file.delete(ledger, deletes)
    assert ledger.confirm([(5, 5)]) == []  # a late duplicate: ignored


def test_a_batch_confirmed_while_in_flight_keeps_its_slot_until_the_puback() -> None:
    ledger, file = make(max_per_message=2, max_in_flight_messages=2), File()
    file.append(ledger, "sw", 4, at=0.0)
    [batch] = take(ledger, file, now=100.0)  # one slot: the other is the live reserve
    file.delete(ledger, ledger.confirm([(1, 2)]))
    assert ledger.in_flight_messages == 1
    assert take(ledger, file, now=100.0) == []
    ledger.published(batch.id, now=100.0)  # nothing left to wait for
    assert (ledger.in_flight_messages, ledger.awaiting_messages) == (0, 0)
    assert ids(take(ledger, file, now=100.0)) == [(3, 4)]


def test_without_a_receipt_only_the_unconfirmed_rows_go_out_again_and_the_wait_doubles() -> None:
    ledger, file = make(confirm_timeout_s=30, confirm_timeout_max_s=100), File()
    file.append(ledger, "sw", 4, at=0.0)
    [batch] = take(ledger, file, now=100.0)
    ledger.published(batch.id, now=100.0)
    file.delete(ledger, ledger.confirm([(2, 3)]))
    assert ledger.confirm_timeout_s == 30
    assert ledger.wake_at() == 130.0
    assert take(ledger, file, now=129.9) == []
    [again] = take(ledger, file, now=130.0)
    assert again.reading_ids == (1, 4)
    assert ledger.resent == 2
    assert ledger.confirm_timeout_s == 60
    ledger.published(again.id, now=130.0)
    assert ledger.oldest_wait_s(now=150.0) == 20.0
    [third] = take(ledger, file, now=190.0)
    assert ledger.confirm_timeout_s == 100  # capped
    ledger.published(third.id, now=190.0)
    ledger.confirm([(1, 1)])  # a receipt: the collector keeps up again
    assert ledger.confirm_timeout_s == 30


def test_batches_of_one_burst_timing_out_together_double_the_wait_once() -> None:
    ledger, file = make(max_per_message=1, confirm_timeout_s=10, confirm_timeout_max_s=1000), File()
    file.append(ledger, "sw", 5, at=0.0)
    for batch in take(ledger, file, now=100.0):
        ledger.published(batch.id, now=100.0)
    assert len(take(ledger, file, now=111.0)) == 5
    assert ledger.confirm_timeout_s == 20


def test_release_all_sends_what_awaits_a_receipt_again_too() -> None:
    ledger, file = make(), File()
    file.append(ledger, "sw", 2, at=0.0)
    [batch] = take(ledger, file, now=100.0)
    ledger.published(batch.id, now=100.0)
    ledger.release_all()
    assert ledger.awaiting_messages == 0
    assert ids(take(ledger, file, now=100.0)) == [(1, 2)]


def test_a_refused_device_is_held_back_with_a_growing_backoff_while_others_flow() -> None:
    ledger, file = make(), File()
    file.append(ledger, "rfid", 1, at=0.0, event=True)
    file.append(ledger, "sw", 1, at=0.0)
    refused, other = take(ledger, file, now=100.0)
    ledger.refused(refused.id, now=100.0)
    assert ledger.refused_by_broker == 1
    assert ledger.in_use() == {other.reading_ids[0]}  # the refused row waits again
    ledger.ack([other.id])
    file.append(ledger, "sw", 1, at=100.0)
    assert ids(take(ledger, file, now=100.5)) == [(3,)]  # sw flows, rfid is held
    assert ledger.wake_at() == 101.0
    [again] = take(ledger, file, now=101.0)
    assert again.reading_ids == refused.reading_ids
    ledger.refused(again.id, now=101.0)  # refused again after the hold: twice as long
    assert take(ledger, file, now=102.9) == []
    [third] = take(ledger, file, now=103.0)
    ledger.published(third.id, now=103.0)  # accepted: the next refusal starts at 1 s
    ledger.refused(third.id, now=103.0)  # answered already: ignored
    assert ledger.awaiting_messages == 1
    file.append(ledger, "rfid", 1, at=103.0, event=True)
    [tap] = take(ledger, file, now=103.0)
    ledger.refused(tap.id, now=103.0)
    assert take(ledger, file, now=103.9) == []
    assert ids(take(ledger, file, now=104.0)) == [tap.reading_ids]


def test_refusals_of_batches_sent_before_the_hold_do_not_grow_it() -> None:
    ledger, file = make(max_per_message=1), File()
    file.append(ledger, "rfid", 3, at=0.0, event=True)
    batches = take(ledger, file, now=100.0)
    for batch in batches:
        ledger.refused(batch.id, now=100.0)
    assert take(ledger, file, now=100.5) == []
    assert len(take(ledger, file, now=101.0)) == 3  # held 1 s, not 4


class Sender:
    """A sender driving the ledger at random; it checks each batch as it is handed out."""

    def __init__(self) -> None:
        self.ledger = make(
            max_per_message=3,
            max_in_flight_messages=6,
            max_unconfirmed_messages=8,
            live_window_s=5.0,
            confirm_timeout_s=30,
        )
        self.file = File()
        self.now = 0.0
        self.out: dict[int, OutboxBatch] = {}

    def take(self, limit: int) -> None:
        for batch in take(self.ledger, self.file, self.now, limit):
            held = {i for b in self.out.values() for i in b.reading_ids}
            assert not held & set(batch.reading_ids)
            assert all(i in self.file.rows for i in batch.reading_ids)
            self.out[batch.id] = batch

    def answer(self, k: int, how: str) -> None:
        if not self.out:
            return
        batch_id = sorted(self.out)[k % len(self.out)]
        if how == "published":
            self.ledger.published(batch_id, self.now)  # stays out until confirmed
            return
        self.out.pop(batch_id)
        if how == "ack":
            self.file.delete(self.ledger, self.ledger.ack([batch_id]))
        elif how == "refused":
            self.ledger.refused(batch_id, self.now)
        else:
            self.ledger.release([batch_id])

    def confirm(self, first: int, size: int) -> None:
        deletes = self.ledger.confirm([(first, first + size)])
        confirmed = {i for i, _ in deletes}
        assert confirmed <= {i for b in self.out.values() for i in b.reading_ids}
        for batch_id, batch in list(self.out.items()):
            if set(batch.reading_ids) <= confirmed:
                self.out.pop(batch_id)  # the ledger may still hold it empty until a PUBACK
        self.file.delete(self.ledger, deletes)
        # What waits on disk the writer deletes by seq (= row id here).
        for row_id in range(first, first + size + 1):
            if row_id not in self.ledger.in_use():
                self.file.rows.pop(row_id, None)

    def expire(self) -> None:
        """Batches whose receipt is overdue are out no more."""
        self.ledger.tick(self.now)
        in_use = self.ledger.in_use()
        for batch_id, batch in list(self.out.items()):
            if not set(batch.reading_ids) & in_use:
                self.out.pop(batch_id)

    def step(self, step: tuple[Any, ...]) -> None:
        match step:
            case ("append", device, n):
                self.file.append(self.ledger, device, n, at=self.now)
            case ("take", limit):
                self.take(limit)
            case ("ack" | "release" | "published" | "refused" as how, k):
                self.answer(k, how)
            case ("confirm", first, size):
                self.confirm(first, size)
            case ("release_all",):
                self.ledger.release_all()
                self.out.clear()
            case ("time", seconds):
                self.now += seconds
                self.expire()


@settings(max_examples=200, deadline=None)
@given(
    steps=st.lists(
        st.one_of(
            st.tuples(st.just("append"), st.sampled_from("abc"), st.integers(1, 5)),
            st.tuples(st.just("take"), st.integers(1, 20)),
            st.tuples(
                st.sampled_from(["ack", "release", "published", "refused"]), st.integers(0, 5)
            ),
            st.tuples(st.just("confirm"), st.integers(1, 60), st.integers(0, 5)),
            st.tuples(st.just("release_all")),
            st.tuples(st.just("time"), st.sampled_from([0.5, 3.0, 10.0, 40.0])),
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
    ledger.release_all()
    waiting = set(file.rows)
    delivered: set[int] = set()
    now = sender.now + 120  # every hold is over
    while batches := take(ledger, file, now):
        for batch in batches:
            delivered.update(batch.reading_ids)
        file.delete(ledger, ledger.ack(b.id for b in batches))
    assert delivered == waiting  # every row went out, once the windows allowed
    assert ledger.in_use() == frozenset()
    assert (ledger.in_flight_messages, ledger.awaiting_messages) == (0, 0)
