"""The agent's sequence number: increasing across restarts, one fsync per block."""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

import pytest

from edge_agent.errors import AgentError
from edge_agent.sequence import FILE_NAME, SequenceCounter

if TYPE_CHECKING:
    from pathlib import Path


def _stored_mark(state_dir: Path) -> int:
    return int((state_dir / FILE_NAME).read_text(encoding="ascii"))


def test_fresh_state_starts_at_zero_and_reserves_a_block(tmp_path: Path) -> None:
    counter = SequenceCounter(tmp_path / "state", block=10)
    assert [counter.next() for _ in range(3)] == [0, 1, 2]
    assert _stored_mark(tmp_path / "state") == 10


def test_restart_continues_above_every_number_handed_out(tmp_path: Path) -> None:
    first = SequenceCounter(tmp_path, block=10)
    before = [first.next() for _ in range(25)]  # crosses two block boundaries
    second = SequenceCounter(tmp_path, block=10)  # as if the agent was killed and restarted
    after = [second.next() for _ in range(3)]
    assert min(after) > max(before)
    assert before == list(range(25))


def test_restart_without_any_reading_still_moves_on(tmp_path: Path) -> None:
    SequenceCounter(tmp_path, block=10)
    counter = SequenceCounter(tmp_path, block=10)
    assert counter.next() == 10


def test_mark_is_written_once_per_block(tmp_path: Path) -> None:
    counter = SequenceCounter(tmp_path, block=100)
    path = tmp_path / FILE_NAME
    inode = path.stat().st_ino
    for _ in range(99):
        counter.next()
    assert path.stat().st_ino == inode  # not replaced: no write, no fsync per reading
    counter.next()
    counter.next()
    assert path.stat().st_ino != inode
    assert _stored_mark(tmp_path) == 200


def test_numbers_are_unique_across_threads(tmp_path: Path) -> None:
    counter = SequenceCounter(tmp_path, block=7)
    seen: list[int] = []
    lock = threading.Lock()

    def take() -> None:
        mine = [counter.next() for _ in range(200)]
        with lock:
            seen.extend(mine)

    threads = [threading.Thread(target=take) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(seen) == list(range(800))


def test_state_dir_that_is_a_file_is_a_clear_agent_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("", encoding="ascii")
    with pytest.raises(AgentError, match=f"cannot create the state directory {blocker}/state: "):
        SequenceCounter(blocker / "state")


def test_unwritable_state_dir_is_logged_and_numbering_goes_on_from_the_clock(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / FILE_NAME).write_text("5000\n", encoding="ascii")
    # A folder where the temporary file would go: the mark cannot be replaced (even as root).
    (state / f".{FILE_NAME}.tmp").mkdir()
    before = time.time_ns() // 1000
    with caplog.at_level(logging.ERROR):
        counter = SequenceCounter(state)  # a full disk at start must not stop the agent
    first, second = counter.next(), counter.next()
    assert before <= first < second
    assert f"cannot write the sequence file {state}/sequence" in caplog.text
    assert "readings are still sent" in caplog.text


def test_damaged_file_names_the_path(tmp_path: Path) -> None:
    (tmp_path / FILE_NAME).write_text("garbage\n", encoding="ascii")
    with pytest.raises(AgentError, match=f"sequence file {tmp_path / FILE_NAME} is damaged"):
        SequenceCounter(tmp_path)


def test_failure_to_reserve_later_numbers_from_the_clock_so_nothing_repeats(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    state = tmp_path / "state"
    counter = SequenceCounter(state, block=2)
    assert [counter.next(), counter.next()] == [0, 1]
    # The mark (2) cannot be advanced: a folder where the temporary file would go.
    blocker = state / f".{FILE_NAME}.tmp"
    blocker.mkdir()
    before = time.time_ns() // 1000
    with caplog.at_level(logging.ERROR):
        in_memory = [counter.next() for _ in range(5)]
    assert before <= in_memory[0]
    assert in_memory == sorted(set(in_memory))
    assert "readings are still sent, numbered from the clock" in caplog.text
    assert len(caplog.records) == 1  # not one error per reading
    # Restarted with the disk fixed: it continues from the stored mark, and none of the
    # numbers handed out from memory comes again (a late receipt must not match).
    blocker.rmdir()
    restarted = SequenceCounter(state, block=2)
    again = {restarted.next() for _ in range(10)}
    assert again.isdisjoint({0, 1, *in_memory})
