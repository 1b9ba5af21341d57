"""The outbox's WAL checkpoints: made by the writer's own connection, between its commits.

SQLite up to 3.51.2 (Debian 12 ships 3.40.1) can corrupt a WAL database when one
connection checkpoints while another commits a transaction that resets the WAL
(https://sqlite.org/wal.html#walresetbug). A clean ``make bench`` once found the
outbox "malformed" mid-replay while a checkpoint thread ran beside the writer. The
outbox now writes and checkpoints through one connection on one thread; these tests
hold it to that, with a real file and every statement SQLite runs in the process.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from typing import TYPE_CHECKING

from edge_agent.outbox import OutboxEntry
from edge_agent.outbox._database import CHECKPOINT_BYTES
from sandbox.outboxes import BASE_NS

if TYPE_CHECKING:
    from pathlib import Path

    import pytest

    from sandbox.outboxes import Outboxes

WRITES = ("BEGIN", "COMMIT", "INSERT", "DELETE", "UPDATE", "ALTER", "CREATE")


class Traced:
    """Every statement run on every SQLite connection the process opens, by whom."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.lock = threading.Lock()
        self.statements: list[tuple[int, str, str]] = []  # (connection, thread, SQL)
        real_connect = sqlite3.connect
        opened = 0

        def connect(*args: object, **kwargs: object) -> sqlite3.Connection:
            nonlocal opened
            db = real_connect(*args, **kwargs)  # type: ignore[call-overload]
            with self.lock:
                opened += 1
                number = opened
            db.set_trace_callback(lambda sql: self._note(number, sql))
            return db  # type: ignore[no-any-return]

        monkeypatch.setattr(sqlite3, "connect", connect)

    def _note(self, connection: int, sql: str) -> None:
        with self.lock:
            self.statements.append((connection, threading.current_thread().name, sql))

    def writers(self) -> set[tuple[int, str]]:
        """(connection, thread) of every statement that wrote or checkpointed."""
        with self.lock:
            return {
                (connection, thread)
                for connection, thread, sql in self.statements
                if sql.lstrip().upper().startswith(WRITES) or "WAL_CHECKPOINT" in sql.upper()
            }

    def commits(self) -> int:
        """How many transactions were committed."""
        with self.lock:
            return sum(sql.lstrip().upper().startswith("COMMIT") for _, _, sql in self.statements)

    def checkpoints(self) -> int:
        """How many checkpoints ran."""
        with self.lock:
            return sum("WAL_CHECKPOINT" in sql.upper() for _, _, sql in self.statements)


def fill(outbox_path: Path, open_outbox: Outboxes, megabytes: int, *, settle: bool = False) -> None:
    """Append ``megabytes`` of telemetry (~1 kB a reading, 20 a commit), taken and acked.

    ``settle`` waits for each round's delete before the next append, so every round ends
    with no append waiting and the writer may checkpoint (a busy machine otherwise lets
    the next append arrive first, and the WAL legitimately grows on towards the urgent size).
    """
    outbox = open_outbox(outbox_path)
    for first in range(0, megabytes * 1024, 20):
        outbox.append_many(
            [
                OutboxEntry("switch-1", reading(seq), is_event=False, ts=BASE_NS + seq, seq=seq)
                for seq in range(first, first + 20)
            ]
        )
        outbox.ack(batch.id for batch in outbox.take())
        if settle:
            assert outbox.flush()
    assert outbox.flush()


def reading(seq: int) -> bytes:
    """One switch port's telemetry, padded to ~1 kB."""
    return json.dumps({"kind": "interface", "seq": seq, "pad": "x" * 1000}).encode()


def test_one_connection_on_the_writer_thread_writes_and_checkpoints(
    tmp_path: Path, open_outbox: Outboxes, monkeypatch: pytest.MonkeyPatch
) -> None:
    traced = Traced(monkeypatch)
    path = tmp_path / "outbox.db"
    fill(path, open_outbox, megabytes=3 * CHECKPOINT_BYTES // (1024 * 1024))
    open_outbox.close_all()

    # One checkpoint per ~4 MB of WAL, not one per round. A round here writes ~20 kB of
    # readings and deletes the last round's, ~70 kB of WAL pages, so a 4 MB WAL holds ~60
    # commits (measured: 21 checkpoints in 1,232 commits; 156 when a reset WAL file kept
    # its old 8 MB and looked due after every round).
    assert traced.checkpoints() >= 2, "a WAL of three checkpoint sizes was never checkpointed"
    assert traced.checkpoints() * 30 <= traced.commits(), (traced.checkpoints(), traced.commits())
    writers = traced.writers()
    assert {thread for _, thread in writers} == {"outbox-writer"}, writers
    assert len({connection for connection, _ in writers}) == 1, writers


def test_the_wal_stays_near_the_checkpoint_size(tmp_path: Path, open_outbox: Outboxes) -> None:
    """Checkpoints keep up with a steady writer: the WAL is reused, not grown."""
    path = tmp_path / "outbox.db"
    fill(path, open_outbox, megabytes=4 * CHECKPOINT_BYTES // (1024 * 1024), settle=True)
    wal = path.with_name(f"{path.name}-wal")
    # Each idle round after the WAL passes CHECKPOINT_BYTES copies it; the next commit
    # starts it again from the top (truncated to journal_size_limit), so it never grows
    # far past that. Without checkpoints it would hold all 16 MB written.
    assert wal.stat().st_size < 2 * CHECKPOINT_BYTES, wal.stat().st_size
