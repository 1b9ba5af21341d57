"""The batching, retry and ack policy, with a scripted writer and a clock the test moves.

The real-server behaviour (InfluxDB down and back, a real rejection) is covered in
``test_collector_service.py``; here the policy's decisions are checked one by one.
"""

from __future__ import annotations

import random
import threading
from typing import TYPE_CHECKING

import pytest

from collector.config import BatchSettings
from collector.errors import PointsRejected, StorageUnavailable
from collector.metrics import Metrics
from collector.pipeline import Pipeline, PipelineThread
from pelangi.backoff import Backoff
from pelangi.card import em4100
from pelangi.payloads import SCHEMA_VERSION, CardRead, Envelope
from pelangi.sandbox.waiting import wait_until

if TYPE_CHECKING:
    from collections.abc import Sequence

TS = 1_764_300_000_000_000_000
CARD = em4100(bytes.fromhex("01001293D8"))


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class ScriptedWriter:
    """Stores like InfluxDB 1.x: refuses lines with a bad ``seq`` but keeps the others."""

    target = "InfluxDB at fake://"

    def __init__(self) -> None:
        self.stored: list[str] = []
        self.calls: list[int] = []
        self.bad_seqs: set[int] = set()
        self.down = False
        self.down_on_call: int | None = None
        self.lock = threading.Lock()

    def write(self, lines: Sequence[str]) -> None:
        with self.lock:
            self.calls.append(len(lines))
            if self.down or self.down_on_call == len(self.calls):
                raise StorageUnavailable("fake://", "connection refused")
            bad = [line for line in lines if any(f",seq={s}i " in line for s in self.bad_seqs)]
            self.stored.extend(line for line in lines if line not in bad)
            if bad:
                raise PointsRejected(f"partial write: field type conflict dropped={len(bad)}")

    def ping(self) -> str:
        return "fake"

    def close(self) -> None:
        pass

    def stored_seqs(self) -> list[int]:
        with self.lock:
            return [int(line.split(",seq=")[1].split("i")[0]) for line in self.stored]


def message(*seqs: int, ts: int | None = None) -> Envelope:
    readings = tuple(CardRead(seq=seq, ts=ts or TS + seq, card=CARD) for seq in seqs)
    return Envelope(v=SCHEMA_VERSION, site="site", gateway="gw", device="reader", readings=readings)


class Harness:
    def __init__(self, *, max_points: int = 100, max_delay_s: float = 0.2) -> None:
        self.clock = FakeClock()
        self.writer = ScriptedWriter()
        self.acks: list[int] = []
        self.dead: list[tuple[str, str]] = []
        self.metrics = Metrics()
        self.pipeline: Pipeline[int] = Pipeline(
            self.writer,
            self.acks.append,
            self.metrics,
            max_points=max_points,
            max_delay_s=max_delay_s,
            clock=self.clock,
            backoff=Backoff(base=1.0, cap=4.0, rng=random.Random(7)),  # noqa: S311 - not crypto
            dead_letter=lambda line, reason: self.dead.append((line, reason)),
        )

    def add(self, *seqs: int) -> None:
        """One single-reading message per seq, token = seq."""
        for seq in seqs:
            self.pipeline.add(message(seq), seq)


def test_waits_for_max_delay_then_writes_and_acks() -> None:
    h = Harness(max_points=100, max_delay_s=0.2)
    h.add(1, 2, 3)
    h.pipeline.flush()
    assert (h.writer.calls, h.acks) == ([], [])
    assert h.pipeline.next_due() == pytest.approx(h.clock.now + 0.2)
    h.clock.advance(0.2)
    h.pipeline.flush()
    assert h.writer.calls == [3]
    assert h.acks == [1, 2, 3]
    assert h.pipeline.held == 0
    assert h.pipeline.next_due() is None


def test_writes_as_soon_as_max_points_are_held() -> None:
    h = Harness(max_points=5, max_delay_s=10)
    h.add(*range(12))
    assert h.pipeline.next_due() == h.clock.now
    h.pipeline.flush()
    assert h.writer.calls == [5, 5]
    assert h.acks == list(range(10))
    assert h.pipeline.held_points == 2  # not due yet: below max_points and young


def test_a_message_is_never_split_across_batches() -> None:
    h = Harness(max_points=5, max_delay_s=10)
    h.pipeline.add(message(*range(8)), 1)
    h.add(100)
    h.pipeline.flush()
    assert h.writer.calls == [8]
    assert h.acks == [1]


def test_force_writes_everything_held_regardless_of_age() -> None:
    h = Harness(max_points=100, max_delay_s=10)
    h.add(1, 2)
    h.pipeline.flush(force=True)
    assert h.acks == [1, 2]


def test_unavailable_storage_keeps_the_batch_acks_nothing_and_retries_after_backoff() -> None:
    h = Harness(max_points=100, max_delay_s=0.2)
    h.writer.down = True
    h.add(1, 2, 3)
    h.clock.advance(0.2)
    h.pipeline.flush()
    assert h.writer.calls == [3]
    assert h.acks == []
    assert h.pipeline.held == 3
    retry_at = h.pipeline.next_due()
    assert retry_at is not None
    assert h.clock.now < retry_at <= h.clock.now + 1.0

    # Not before the backoff delay, even when forced.
    h.pipeline.flush(force=True)
    assert h.writer.calls == [3]

    # Still down at the retry: still nothing acked, and the delay grows (up to its cap).
    h.add(4)
    h.clock.now = retry_at
    h.pipeline.flush()
    assert h.writer.calls == [3, 4]
    assert h.acks == []
    second_retry = h.pipeline.next_due()
    assert second_retry is not None
    assert h.clock.now <= second_retry <= h.clock.now + 2.0

    h.writer.down = False
    h.clock.now = second_retry
    h.pipeline.flush()
    assert h.writer.stored_seqs() == [1, 2, 3, 4]
    assert h.acks == [1, 2, 3, 4]
    snapshot = h.metrics.snapshot()
    assert (snapshot.storage_retries, snapshot.readings_written) == (2, 4)
    assert h.pipeline.next_due() is None


def test_a_rejected_point_is_isolated_and_everything_else_stored_and_acked() -> None:
    h = Harness(max_points=1000, max_delay_s=0.2)
    h.writer.bad_seqs = {37}
    h.add(*range(100))
    h.clock.advance(0.2)
    h.pipeline.flush()
    assert sorted(set(h.writer.stored_seqs())) == [s for s in range(100) if s != 37]
    assert h.acks == list(range(100))
    assert h.metrics.snapshot().points_rejected == 1
    assert len(h.dead) == 1
    assert ",seq=37i " in h.dead[0][0]
    assert "field type conflict" in h.dead[0][1]
    # Bisection: about two writes per halving, not one write per point.
    assert len(h.writer.calls) <= 2 * 7 + 1


def test_several_rejected_points_in_one_message_drop_only_themselves() -> None:
    h = Harness(max_points=1000, max_delay_s=0.2)
    h.writer.bad_seqs = {3, 5}
    h.pipeline.add(message(*range(8)), 1)
    h.add(50)
    h.clock.advance(0.2)
    h.pipeline.flush()
    assert sorted(set(h.writer.stored_seqs())) == [0, 1, 2, 4, 6, 7, 50]
    assert h.acks == [1, 50]
    assert h.metrics.snapshot().points_rejected == 2


def test_unavailable_while_splitting_keeps_the_whole_batch() -> None:
    h = Harness(max_points=1000, max_delay_s=0.2)
    h.writer.bad_seqs = {2}
    h.writer.down_on_call = 2
    h.add(1, 2, 3, 4)
    h.clock.advance(0.2)
    h.pipeline.flush()
    assert h.acks == []
    assert h.pipeline.held == 4
    due = h.pipeline.next_due()
    assert due is not None
    h.clock.now = due
    h.pipeline.flush()
    assert h.acks == [1, 2, 3, 4]
    assert sorted(set(h.writer.stored_seqs())) == [1, 3, 4]


def test_unstorable_reading_is_dropped_and_its_message_acked_at_once() -> None:
    h = Harness()
    h.pipeline.add(message(1, ts=2**63 - 1), 1)
    assert h.acks == [1]
    assert h.pipeline.held == 0
    assert h.metrics.snapshot().points_rejected == 1


def test_a_message_with_some_unstorable_readings_stores_the_rest() -> None:
    h = Harness()
    readings = (
        CardRead(seq=1, ts=TS, card=CARD),
        CardRead(seq=2, ts=2**63 - 1, card=CARD),
    )
    envelope = Envelope(v=1, site="site", gateway="gw", device="reader", readings=readings)
    h.pipeline.add(envelope, 9)
    assert h.pipeline.held_points == 1
    h.pipeline.flush(force=True)
    assert (h.writer.stored_seqs(), h.acks) == ([1], [9])


# -- the thread that runs it ---------------------------------------------------------------


def start_thread(writer: ScriptedWriter, acks: list[int], **batch: int) -> PipelineThread[int]:
    thread: PipelineThread[int] = PipelineThread(
        writer, acks.append, BatchSettings.model_validate(batch), Metrics()
    )
    thread.start()
    return thread


def test_submit_blocks_at_max_unacked_until_storage_catches_up() -> None:
    writer, acks = ScriptedWriter(), list[int]()
    writer.down = True
    storage = start_thread(writer, acks, max_points=100, max_delay_ms=10, max_unacked=3)
    try:
        for seq in range(3):
            assert storage.submit(message(seq), seq)
        fourth: list[bool] = []
        submitter = threading.Thread(target=lambda: fourth.append(storage.submit(message(3), 3)))
        submitter.start()
        wait_until(lambda: writer.calls, timeout=5, what="the first write was tried")
        submitter.join(timeout=0.3)
        assert submitter.is_alive(), "submit() should block while 3 messages are unacked"
        assert storage.unacked == 3

        writer.down = False
        submitter.join(timeout=10)
        assert fourth == [True]
        wait_until(lambda: len(acks) == 4, timeout=10, what="all four messages are acked")
        assert writer.stored_seqs() == [0, 1, 2, 3]
        assert storage.unacked == 0
    finally:
        storage.close(timeout=1)


def test_close_stores_what_is_held_then_refuses_new_messages() -> None:
    writer, acks = ScriptedWriter(), list[int]()
    storage = start_thread(writer, acks, max_points=100, max_delay_ms=10_000, max_unacked=10)
    assert storage.submit(message(1), 1)
    assert storage.submit(message(2), 2)
    assert storage.close(timeout=5) == 0
    assert acks == [1, 2]
    assert not storage.submit(message(3), 3)


def test_close_gives_up_after_its_timeout_when_storage_stays_down() -> None:
    writer, acks = ScriptedWriter(), list[int]()
    writer.down = True
    storage = start_thread(writer, acks, max_points=100, max_delay_ms=10_000, max_unacked=10)
    assert storage.submit(message(1), 1)
    assert storage.close(timeout=0.5) == 1
    assert acks == []


def test_close_releases_a_blocked_submit() -> None:
    writer, acks = ScriptedWriter(), list[int]()
    writer.down = True
    storage = start_thread(writer, acks, max_points=100, max_delay_ms=10, max_unacked=1)
    assert storage.submit(message(1), 1)
    result: list[bool] = []
    submitter = threading.Thread(target=lambda: result.append(storage.submit(message(2), 2)))
    submitter.start()
    storage.close(timeout=0.2)
    submitter.join(timeout=5)
    assert result == [False]
