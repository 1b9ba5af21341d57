"""The batching policy (pure) and the writer threads' retry, split and ack behaviour.

A scripted writer stands in for InfluxDB; the real-server behaviour (InfluxDB down and
back, a real rejection) is covered in ``test_collector_service.py`` and
``test_collector_faults.py``.
"""

from __future__ import annotations

import random
import threading
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING

from collector.batching import Batcher, Delivery, Token
from collector.config import BatchSettings
from collector.confirmations import Confirm
from collector.errors import PointsRejected, StorageUnavailable
from collector.metrics import Metrics
from collector.writer_pool import WriterPool
from pelangi.backoff import Backoff
from sandbox.waiting import wait_until

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

TIMEOUT = 10.0


def line(seq: int) -> str:
    return f'card_read,device=d,gateway=g,site=s uid="00000001",seq={seq}i {1000 + seq}'


class ScriptedWriter:
    """Stores like InfluxDB 1.x: refuses lines with a bad ``seq`` but keeps the others."""

    target = "InfluxDB at fake://"

    def __init__(self) -> None:
        self.stored: list[str] = []
        self.calls: list[int] = []
        self.bad_seqs: set[int] = set()
        self.down = False
        self.answer: str | None = None
        """An error the server answers every write with (None: it does not)."""
        self.outage_after_refusal = 0
        """How many writes fail (connection refused) after the next line refused alone."""
        self._failing = 0
        self.lock = threading.Lock()

    def write(self, lines: Sequence[str]) -> None:
        with self.lock:
            self.calls.append(len(lines))
            if self.answer is not None:
                raise StorageUnavailable("fake://", self.answer, answered=True)
            if self.down or self._failing:
                self._failing = max(0, self._failing - 1)
                raise StorageUnavailable("fake://", "connection refused")
            bad = [x for x in lines if any(f",seq={s}i " in x for s in self.bad_seqs)]
            self.stored.extend(x for x in lines if x not in bad)
            if bad:
                if len(lines) == 1:
                    self._failing, self.outage_after_refusal = self.outage_after_refusal, 0
                raise PointsRejected(f"partial write: field type conflict dropped={len(bad)}")

    def ping(self) -> str:
        return "fake"

    def close(self) -> None:
        pass

    def stored_seqs(self) -> list[int]:
        with self.lock:
            return sorted(
                int(x.split(",seq=")[1].split("i")[0]) for x in self.stored if ",seq=" in x
            )


# -- the batching policy ----------------------------------------------------------------


def test_a_batch_is_due_after_max_delay_from_its_first_line() -> None:
    batcher = Batcher(max_points=100, max_delay_s=0.2)
    assert batcher.next_due() is None
    assert batcher.add(Delivery([line(1)], 1), now=10.0) == []
    assert batcher.add(Delivery([line(2)], 2), now=10.1) == []
    assert batcher.next_due() == 10.2
    sealed = batcher.seal()
    assert sealed is not None
    assert (sealed.lines, sealed.tokens, sealed.messages) == ([line(1), line(2)], [1, 2], 2)
    assert batcher.next_due() is None


def test_a_full_batch_is_sealed_at_once_and_a_message_is_never_split() -> None:
    batcher = Batcher(max_points=5, max_delay_s=10)
    assert batcher.add(Delivery([line(k) for k in range(3)], 1), now=0) == []
    sealed = batcher.add(Delivery([line(k) for k in range(3, 6)], 2), now=0)
    assert [(len(b.lines), b.tokens) for b in sealed] == [(3, [1])]
    big = batcher.add(Delivery([line(k) for k in range(6, 14)], 3), now=0)
    assert [(len(b.lines), b.tokens) for b in big] == [(3, [2]), (8, [3])]
    assert batcher.open_points == 0


def test_messages_without_token_or_lines_still_count() -> None:
    batcher = Batcher(max_points=5, max_delay_s=1)
    batcher.add(Delivery([], 7), now=0)
    batcher.add(Delivery([line(1)], None), now=0)
    sealed = batcher.seal()
    assert sealed is not None
    assert (sealed.lines, sealed.tokens, sealed.messages) == ([line(1)], [7], 2)


# -- the writer threads ------------------------------------------------------------------


class Harness:
    def __init__(self, **batch: int) -> None:
        settings = {"max_points": 100, "max_delay_ms": 20, "writers": 2} | batch
        self.writer = ScriptedWriter()
        self.acks: list[Token] = []
        self.confirmed: list[int] = []
        self.letters_stored_at_ack: list[int] = []
        self.dead: list[tuple[str, str]] = []
        self.metrics = Metrics()
        self.lock = threading.Lock()
        rng = random.Random(7)  # noqa: S311 - not crypto
        self.pool = WriterPool(
            [self.writer] * settings["writers"],
            self._stored,
            BatchSettings.model_validate(settings),
            self.metrics,
            dead_letter=self._dead_letter,
            backoff=lambda: Backoff(base=0.02, cap=0.1, rng=rng),
        )
        self.pool.start()

    def _dead_letter(self, line: str, reason: str) -> str:
        self.dead.append((line, reason))
        seq = line.split(",seq=")[1].split("i", maxsplit=1)[0]
        return f'dead_letter,reason=storage_refused payload="{seq}" {len(self.dead)}'

    def dead_letters_stored(self) -> list[str]:
        with self.writer.lock:
            return [x for x in self.writer.stored if x.startswith("dead_letter,")]

    def _stored(self, tokens: list[Token], confirms: list[Confirm]) -> None:
        with self.lock:
            self.letters_stored_at_ack.append(len(self.dead_letters_stored()))
            self.acks.extend(tokens)
            self.confirmed.extend(seq for confirm in confirms for seq in confirm.seqs)

    def submit(self, *seqs: int) -> None:
        for seq in seqs:
            assert self.pool.submit(Delivery([line(seq)], seq, Confirm("s", "g", (seq,))))

    def acked(self) -> list[Token]:
        with self.lock:
            return sorted(self.acks)

    def wait_acked(self, tokens: list[int]) -> None:
        wait_until(lambda: self.acked() == sorted(tokens), timeout=TIMEOUT, what=f"{tokens} acked")


@contextmanager
def harness(**batch: int) -> Iterator[Harness]:
    h = Harness(**batch)
    try:
        yield h
    finally:
        h.pool.close(1.0)


def test_stores_then_acks_every_message_with_two_writers() -> None:
    with harness(max_points=10) as h:
        h.submit(*range(1, 96))
        h.wait_acked(list(range(1, 96)))
        assert h.writer.stored_seqs() == list(range(1, 96))
        assert sorted(h.confirmed) == list(range(1, 96))
        assert max(h.writer.calls) <= 10
        assert h.pool.unacked == (0, 0)
        assert h.metrics.snapshot().readings_written == 95


def test_unavailable_storage_acks_nothing_retries_and_resumes_without_loss() -> None:
    with harness() as h:
        h.writer.down = True
        h.submit(1, 2, 3)
        wait_until(
            lambda: h.metrics.snapshot().storage_retries >= 3, timeout=TIMEOUT, what="retries"
        )
        assert h.acked() == []
        assert h.confirmed == []
        assert h.pool.unacked == (3, 3)
        h.writer.down = False
        h.wait_acked([1, 2, 3])
        assert sorted(h.confirmed) == [1, 2, 3]
        assert h.writer.stored_seqs() == [1, 2, 3]


def test_a_rejected_point_is_isolated_dead_lettered_and_the_rest_stored_and_acked() -> None:
    with harness(max_points=1000, max_delay_ms=50, writers=1) as h:
        h.writer.bad_seqs = {37}
        h.submit(*range(100))
        h.wait_acked(list(range(100)))
        assert sorted(set(h.writer.stored_seqs())) == [s for s in range(100) if s != 37]
        assert h.metrics.snapshot().points_rejected == 1
        assert len(h.dead) == 1
        assert ",seq=37i " in h.dead[0][0]
        assert "field type conflict" in h.dead[0][1]
        assert (
            len(h.writer.calls) <= 2 * 7 + 2
        )  # bisection (and the dead letter), not one per point


def test_an_outage_while_splitting_does_not_dead_letter_a_refused_point_twice() -> None:
    """Refused alone, then down once during the split: the retry resumes where it stopped."""
    with harness(max_points=1000, max_delay_ms=50, writers=1) as h:
        h.writer.bad_seqs = {0}
        h.writer.outage_after_refusal = 1
        h.submit(*range(8))
        h.wait_acked(list(range(8)))
        assert sorted(set(h.writer.stored_seqs())) == list(range(1, 8))
        assert [reason for _, reason in h.dead] == ["partial write: field type conflict dropped=1"]
        assert h.metrics.snapshot().points_rejected == 1
        assert h.metrics.snapshot().storage_retries >= 1


def test_a_refused_point_is_acked_only_once_its_dead_letter_is_stored() -> None:
    """Down right after the refusal: neither the batch nor its dead letter is acked yet."""
    with harness(max_points=1000, max_delay_ms=50, writers=1) as h:
        h.writer.bad_seqs = {3}
        h.writer.outage_after_refusal = 5
        h.submit(*range(1, 6))
        wait_until(
            lambda: h.metrics.snapshot().storage_retries >= 3, timeout=TIMEOUT, what="retries"
        )
        assert (h.acked(), h.confirmed, h.dead_letters_stored()) == ([], [], [])
        h.wait_acked([1, 2, 3, 4, 5])
        assert h.dead_letters_stored() == ['dead_letter,reason=storage_refused payload="3" 1']
        assert h.letters_stored_at_ack == [1]
        assert sorted(h.confirmed) == [1, 2, 3, 4, 5]


def test_progress_tells_an_error_answer_from_no_answer_at_all() -> None:
    with harness() as h:
        h.writer.down = True
        h.submit(1)
        wait_until(lambda: h.pool.progress().failure, timeout=TIMEOUT, what="a failure seen")
        down = h.pool.progress()
        assert (down.waiting, down.refusing_since) == (1, None)
        assert down.failure == "InfluxDB at fake://: connection refused"
        h.writer.answer = "HTTP 503: overloaded"
        refusing = wait_until(
            lambda: (p := h.pool.progress()).refusing_since is not None and p,
            timeout=TIMEOUT,
            what="the error answer seen",
        )
        assert refusing.failure == "InfluxDB at fake://: HTTP 503: overloaded"
        assert refusing.refusing_since is not None
        h.writer.answer, h.writer.down = None, False
        h.wait_acked([1])
        done = h.pool.progress()
        assert (done.waiting, done.failure, done.refusing_since) == (0, None, None)
        assert done.last_progress >= refusing.refusing_since


def test_submit_takes_nothing_at_the_message_cap_until_storage_catches_up() -> None:
    with harness(max_unacked=4) as h:
        h.writer.down = True
        h.submit(1, 2, 3, 4)
        started = time.monotonic()
        assert h.pool.submit(Delivery([line(5)], 5)) is False  # refused, at once
        assert time.monotonic() - started < 0.1
        assert (h.pool.unacked, h.pool.has_room) == ((4, 4), False)
        h.writer.down = False
        h.wait_acked([1, 2, 3, 4])
        assert h.pool.has_room
        h.submit(5)
        h.wait_acked([1, 2, 3, 4, 5])


def test_submit_takes_nothing_at_the_point_cap_whatever_the_message_count() -> None:
    with harness(max_points=10, max_unacked_points=10) as h:
        h.writer.down = True
        assert h.pool.submit(Delivery([line(k) for k in range(10)], 1))
        assert h.pool.submit(Delivery([line(99)], 2)) is False
        assert h.pool.unacked == (1, 10)
        h.writer.down = False
        h.wait_acked([1])
        assert h.pool.submit(Delivery([line(99)], 2))
        h.wait_acked([1, 2])


def test_room_again_once_below_half_of_each_cap() -> None:
    with harness(max_unacked=4, max_delay_ms=10_000) as h:
        h.submit(1, 2)
        assert h.pool.has_room
        h.submit(3)
        assert not h.pool.has_room


def test_internal_lines_are_stored_but_never_block_or_ack() -> None:
    with harness(max_unacked=1) as h:
        h.writer.down = True
        h.submit(1)
        h.pool.add_internal([line(50)])  # would block if it counted against the cap
        h.writer.down = False
        h.wait_acked([1])
        wait_until(lambda: 50 in h.writer.stored_seqs(), timeout=TIMEOUT, what="stored")


def test_close_stores_what_is_held_then_refuses_new_messages() -> None:
    h = Harness(max_delay_ms=10_000)
    h.submit(1, 2)
    assert h.pool.close(5.0) == 0
    assert h.acked() == [1, 2]
    assert h.pool.submit(Delivery([line(3)], 3)) is False


def test_close_gives_up_after_its_timeout_when_storage_stays_down() -> None:
    h = Harness()
    h.writer.down = True
    h.submit(1, 2)
    assert h.pool.close(0.3) == 2
    assert h.acked() == []
