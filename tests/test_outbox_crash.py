"""kill -9 at random moments loses nothing the outbox accepted.

A child process appends from several threads as fast as it can and prints each reading's
row id after ``append()`` returned; another thread takes batches, acknowledging some
(announced *before* ``ack()``: from then on the row may be gone) and releasing others.
The test SIGKILLs the child at random points, restarts it, and finally checks that every
reading the child reported accepted is still in the outbox, unless it was acknowledged.
"""

from __future__ import annotations

import json
import queue
import random
import signal
import subprocess
import sys
import textwrap
import threading
from typing import IO, TYPE_CHECKING

from edge_agent.outbox import Outbox, OutboxSettings

if TYPE_CHECKING:
    from pathlib import Path

ROUNDS = 6
LINE_TIMEOUT_S = 30.0

_CHILD = textwrap.dedent(
    """
    import json, sys, threading, time
    from pathlib import Path
    from edge_agent.outbox import Outbox, OutboxEntry, OutboxSettings

    path, round_ = Path(sys.argv[1]), int(sys.argv[2])
    outbox = Outbox.open(path, OutboxSettings(sync="full", max_per_message=50))
    out = threading.Lock()

    def emit(line):
        with out:
            sys.stdout.write(line + "\\n")
            sys.stdout.flush()

    def writer(t):
        n = 0
        while True:
            labels = [f"{round_}-{t}-{n}-{k}" for k in range(10 if n % 7 == 0 else 1)]
            entries = [
                OutboxEntry(
                    f"dev-{t}",
                    json.dumps({"kind": "interface", "label": label}).encode(),
                    is_event=n % 5 == 0,
                    ts=time.time_ns(),
                    seq=n,
                )
                for label in labels
            ]
            rows = outbox.append_many(entries)  # now and then a whole poll in one commit
            for row, label in zip(rows, labels):
                emit(f"ok {row} {label}")
            n += 1

    def sender():
        while True:
            outbox.wait_for_work(0.05)
            for batch in outbox.take(200):
                if batch.id % 3:
                    emit("ack " + " ".join(map(str, batch.reading_ids)))  # before: may go now
                    outbox.ack([batch.id])
                else:
                    outbox.release([batch.id])

    for t in range(4):
        threading.Thread(target=writer, args=(t,), daemon=True).start()
    threading.Thread(target=sender, daemon=True).start()
    emit("ready")
    threading.Event().wait()
    """
)


def _pump(stream: IO[str], lines: queue.Queue[str | None]) -> None:
    """Forward complete lines; a last line cut off by the kill (no newline) is dropped."""
    for line in stream:
        if line.endswith("\n"):
            lines.put(line.rstrip("\n"))
    lines.put(None)


def _run_round(
    script: Path, db: Path, round_: int, kill_after: int
) -> tuple[dict[int, str], set[int]]:
    """Run the child until it reported ``kill_after`` accepted readings, then kill -9 it."""
    accepted: dict[int, str] = {}
    acked: set[int] = set()
    child = subprocess.Popen(
        [sys.executable, str(script), str(db), str(round_)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    assert child.stderr is not None
    lines: queue.Queue[str | None] = queue.Queue()
    reader = threading.Thread(target=_pump, args=(child.stdout, lines), daemon=True)
    reader.start()
    try:
        killed = False
        while True:
            line = lines.get(timeout=LINE_TIMEOUT_S)
            if line is None:
                break  # the pipe closed: the child is dead
            kind, _, rest = line.partition(" ")
            if kind == "ok":
                row, label = rest.split(" ")
                accepted[int(row)] = label
            elif kind == "ack":
                acked.update(int(row) for row in rest.split())
            else:
                assert kind == "ready", line
            if not killed and (kind == "ok" or kill_after == 0) and len(accepted) >= kill_after:
                child.send_signal(signal.SIGKILL)  # lines already in the pipe still count
                killed = True
        assert child.wait(timeout=LINE_TIMEOUT_S) == -signal.SIGKILL, child.stderr.read()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        reader.join(timeout=LINE_TIMEOUT_S)
        child.stdout.close()
        child.stderr.close()
    return accepted, acked


def test_kill_9_at_random_moments_loses_no_accepted_reading(tmp_path: Path) -> None:
    script = tmp_path / "child.py"
    script.write_text(_CHILD)
    db = tmp_path / "state" / "outbox.db"
    rng = random.Random()  # noqa: S311 - test randomness, not cryptography
    seed = rng.randrange(2**32)
    rng.seed(seed)
    accepted: dict[int, str] = {}
    acked: set[int] = set()
    for round_ in range(ROUNDS):
        kill_after = 0 if round_ == 1 else rng.randrange(1, 3000)  # once right after opening
        got, gone = _run_round(script, db, round_, kill_after)
        assert not set(got) & set(accepted), "an id was handed out twice"
        accepted |= got
        acked |= gone
    assert len(accepted) > ROUNDS  # the rounds really did write

    outbox = Outbox.open(db, OutboxSettings(sync="full", max_per_message=1000))
    try:
        present: dict[int, str] = {}
        while batches := outbox.take():
            for batch in batches:
                for row, body in zip(batch.reading_ids, batch.readings, strict=True):
                    present[row] = json.loads(body)["label"]
            outbox.ack(b.id for b in batches)
    finally:
        outbox.close()
    missing = [
        row for row, label in accepted.items() if row not in acked and present.get(row) != label
    ]
    assert not missing, (
        f"lost {len(missing)} accepted readings (seed {seed}): {sorted(missing)[:10]}"
    )
    for row, label in present.items():
        assert accepted.get(row, label) == label  # what is there is what was written
