"""Receipts in the outbox against real SQLite files: confirm, timeouts, windows, boots, upgrade.

A reading leaves the outbox when a collector's receipt names its ``seq``; what the broker
accepted waits for that receipt, bounded, and goes out again when it does not come.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
from typing import TYPE_CHECKING

import pytest

from edge_agent.outbox import Outbox, OutboxEntry, OutboxSettings, UnsendableReadingError
from pelangi.receipts import ranges_of
from sandbox.outboxes import BASE_NS, FakeClock, Outboxes

if TYPE_CHECKING:
    from pathlib import Path


def reading(seq: int) -> bytes:
    return json.dumps({"kind": "interface", "seq": seq, "ts": BASE_NS + seq}).encode()


def entries(seqs: range, device: str = "sw-1", **extra: int | None) -> list[OutboxEntry]:
    return [
        OutboxEntry(device, reading(s), is_event=False, ts=BASE_NS + s, seq=s, **extra)
        for s in seqs
    ]


def seqs_on_disk(path: Path) -> list[int]:
    with sqlite3.connect(path) as db:
        found = [int(json.loads(b)["seq"]) for (b,) in db.execute("SELECT body FROM reading")]
    db.close()
    return sorted(found)


def test_a_receipt_deletes_its_readings_wherever_they_are(open_outbox: Outboxes) -> None:
    outbox = open_outbox(max_per_message=3)
    outbox.append_many(entries(range(100, 109)))
    awaiting, in_flight, released = outbox.take()
    outbox.published(awaiting.id)
    outbox.release([released.id])  # waiting on disk again
    assert outbox.stats().awaiting_readings == 3
    out = outbox.confirm([(100, 101), (103, 103), (106, 108), (5000, 6000)])
    assert out == 3  # 100, 101 (awaiting) and 103 (in flight); 106-108 wait on disk
    assert outbox.flush()
    assert seqs_on_disk(outbox.path) == [102, 104, 105]
    stats = outbox.stats()
    assert (stats.confirmed, stats.readings, stats.acknowledged) == (6, 3, 0)
    assert stats.awaiting_readings == 1  # 102 still awaits its receipt
    outbox.ack([in_flight.id])  # no confirming collector after all: 104, 105 go
    assert outbox.flush()
    assert seqs_on_disk(outbox.path) == [102]


def test_a_receipt_for_readings_stored_before_a_restart_finds_them_by_seq(
    open_outbox: Outboxes, tmp_path: Path
) -> None:
    outbox = open_outbox()
    outbox.append_many(entries(range(1, 2001)))
    outbox.published(outbox.take()[0].id)
    outbox.close()  # the receipt comes after the agent restarted
    again = open_outbox(tmp_path / "outbox.db")
    assert again.confirm(ranges_of(range(1, 1501))) == 0  # nothing is out: all on disk
    assert again.flush()
    assert seqs_on_disk(again.path) == list(range(1501, 2001))
    assert again.stats().confirmed == 1500
    assert again.stats().telemetry == 500


def test_without_a_receipt_the_batch_goes_out_again_and_the_wait_doubles(
    open_outbox: Outboxes, clock: FakeClock
) -> None:
    outbox = open_outbox(confirm_timeout_s=30, confirm_timeout_max_s=120)
    outbox.append_many(entries(range(1, 5)))
    [batch] = outbox.take()
    outbox.published(batch.id)
    while outbox.wait_for_work(0):  # what the appends and the PUBACK woke it for
        pass
    assert not outbox.wait_for_work(0.05)
    assert outbox.take() == []
    clock.now += 20
    assert outbox.stats().oldest_awaiting_s == pytest.approx(20)
    outbox.confirm([(2, 3)])  # part of it is stored
    clock.now += 10
    assert outbox.wait_for_work(0.5)  # the receipt is overdue: the sender is woken
    [again] = outbox.take()
    assert again.seqs == (1, 4)  # only what no receipt named
    stats = outbox.stats()
    assert (stats.resent, stats.confirm_timeout_s, stats.awaiting_messages) == (2, 60, 0)
    assert "awaiting a receipt" not in outbox.summary()
    outbox.published(again.id)
    assert "2 awaiting a receipt" in outbox.summary()


def test_what_awaits_a_receipt_is_bounded(open_outbox: Outboxes, clock: FakeClock) -> None:
    outbox = open_outbox(max_per_message=1, max_in_flight_messages=8, max_unconfirmed_messages=16)
    outbox.append_many(entries(range(1, 101)))
    clock.now += 60  # a backlog
    sent = 0
    while batches := outbox.take():
        for batch in batches:
            outbox.published(batch.id)
        sent += len(batches)
    assert sent == 14  # 16 less the reserve for live readings
    assert outbox.stats().awaiting_messages == 14
    outbox.confirm([(1, 5)])
    assert len(outbox.take()) == 5  # a receipt makes room


def test_waiting_until_idle_ends_with_the_last_answer(open_outbox: Outboxes) -> None:
    outbox = open_outbox(max_per_message=1)
    outbox.append_many(entries(range(1, 4)))
    batches = outbox.take()
    assert not outbox.wait_until_idle(0.05)

    def answer() -> None:
        outbox.published(batches[0].id)  # awaiting a receipt is not in flight
        outbox.ack([batches[1].id])
        outbox.refused(batches[2].id)

    answering = threading.Timer(0.05, answer)
    answering.start()
    assert outbox.wait_until_idle(5.0)
    answering.join()
    assert outbox.stats().in_flight_messages == 0


def test_mono_ns_comes_back_only_within_the_boot_that_stamped_it(
    open_outbox: Outboxes, tmp_path: Path
) -> None:
    outbox = open_outbox(boot_id="boot-a")
    outbox.append_many([*entries(range(1, 3), mono_ns=7_000), *entries(range(3, 4))])
    [batch] = outbox.take()
    assert batch.mono_ns == (7_000, 7_000, None)

    def rewrite(body: bytes, mono_ns: int) -> bytes:
        value = json.loads(body)
        value["ts"] = mono_ns
        return json.dumps(value).encode()

    envelope = json.loads(batch.payload("site", "gw", rewrite))
    assert [r["ts"] for r in envelope["readings"]] == [7_000, 7_000, BASE_NS + 3]
    assert json.loads(batch.payload("site", "gw"))["readings"][0]["ts"] == BASE_NS + 1
    outbox.close()
    rebooted = open_outbox(tmp_path / "outbox.db", boot_id="boot-b")
    rebooted.append_many(entries(range(4, 5), mono_ns=9_000))
    # A monotonic clock of another boot means nothing: only this boot's comes back.
    assert mono_by_seq(rebooted) == {1: None, 2: None, 3: None, 4: 9_000}
    rebooted.close()
    same = open_outbox(tmp_path / "outbox.db", boot_id="boot-a")
    assert mono_by_seq(same) == {1: 7_000, 2: 7_000, 3: None, 4: None}


def mono_by_seq(outbox: Outbox) -> dict[int, int | None]:
    return {
        seq: mono
        for batch in outbox.take()
        for seq, mono in zip(batch.seqs, batch.mono_ns, strict=True)
    }


def test_seq_and_mono_ns_are_checked(open_outbox: Outboxes) -> None:
    outbox = open_outbox()
    with pytest.raises(UnsendableReadingError, match="seq"):
        outbox.append("sw", b"{}", is_event=False, ts=BASE_NS, seq=-1)
    with pytest.raises(UnsendableReadingError, match="mono_ns"):
        outbox.append("sw", b"{}", is_event=False, ts=BASE_NS, seq=1, mono_ns=-5)
    assert outbox.stats().readings == 0


def test_settings_keep_the_windows_and_timeouts_consistent() -> None:
    with pytest.raises(ValueError, match="max_unconfirmed_messages"):
        OutboxSettings(max_in_flight_messages=64, max_unconfirmed_messages=32)
    with pytest.raises(ValueError, match="confirm_timeout_max_s"):
        OutboxSettings(confirm_timeout_s=60, confirm_timeout_max_s=30)
    assert OutboxSettings().max_unconfirmed_messages == 256


# Files written by the agent before receipts (layout 1).

LAYOUT_1 = (  # today's layout 1, as edge_agent/outbox/_sqlite.py wrote it before layout 2
    "CREATE TABLE device (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)",
    (
        "CREATE TABLE reading (id INTEGER PRIMARY KEY AUTOINCREMENT, device INTEGER NOT NULL,"
        " event INTEGER NOT NULL, ts INTEGER NOT NULL, body BLOB NOT NULL)"
    ),
    "CREATE INDEX reading_by_class ON reading (event)",
    "CREATE TABLE counter (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID",
    "PRAGMA user_version = 1",
)


def old_file(path: Path, readings: int) -> None:
    """An outbox file of layout 1 with ``readings`` rows (seq = 1000 + n) and two odd ones."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    for statement in LAYOUT_1:
        db.execute(statement)
    db.execute("BEGIN")
    db.execute("INSERT INTO device (name) VALUES ('sw-1'), ('rfid-1')")
    db.executemany(
        "INSERT INTO reading (device, event, ts, body) VALUES (?, ?, ?, ?)",
        [(1 + n % 2, n % 2, BASE_NS + n, reading(1000 + n)) for n in range(readings)],
    )
    db.execute("INSERT INTO reading (device, event, ts, body) VALUES (1, 0, ?, ?)", (BASE_NS, b"{"))
    db.execute(
        "INSERT INTO reading (device, event, ts, body) VALUES (1, 0, ?, ?)",
        (BASE_NS, b'{"kind":"x","seq":"12"}'),
    )
    db.execute("INSERT INTO counter (name, value) VALUES ('size.telemetry', 7)")
    db.execute("COMMIT")
    db.close()


def test_a_file_of_the_agent_before_receipts_is_upgraded_and_keeps_every_reading(
    open_outbox: Outboxes, tmp_path: Path
) -> None:
    path = tmp_path / "outbox.db"
    old_file(path, 300)
    outbox = open_outbox(path)
    stats = outbox.stats()
    assert (stats.readings, stats.evicted_telemetry_size) == (302, 7)
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone() == (2,)
        rows = dict(db.execute("SELECT id, seq FROM reading").fetchall())
    db.close()
    assert [rows[i + 1] for i in range(300)] == list(range(1000, 1300))
    assert (rows[301], rows[302]) == (-1, -1)  # no integer seq: never confirmed, only acked
    assert outbox.confirm([(1000, 1149)]) == 0
    assert outbox.flush()
    assert outbox.stats().readings == 152
    batches = []
    while taken := outbox.take():
        batches += taken
        outbox.ack(b.id for b in taken)
    assert sorted(s for b in batches for s in b.seqs) == [-1, -1, *range(1150, 1300)]


_UPGRADE_KILLED = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from edge_agent.outbox import Outbox, OutboxSettings
    from edge_agent.outbox import _database, _sqlite

    def connect(path):
        db = _sqlite.connect(path)
        db.create_function("die", 0, lambda: os.kill(os.getpid(), signal.SIGKILL))
        return db

    _database.connect = connect
    # The whole upgrade runs, then the process dies before its COMMIT.
    _sqlite.UPGRADES[2] = (*_sqlite.UPGRADES[2], "SELECT die()")
    Outbox.open(Path(sys.argv[1]), OutboxSettings(sync="full"))
    print("the upgrade finished: it was not killed", flush=True)
    """
)


def test_a_crash_in_the_middle_of_the_upgrade_loses_nothing(
    open_outbox: Outboxes, tmp_path: Path
) -> None:
    path = tmp_path / "outbox.db"
    old_file(path, 20_000)
    script = tmp_path / "child.py"
    script.write_text(_UPGRADE_KILLED)
    child = subprocess.run(
        [sys.executable, str(script), str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert child.returncode == -signal.SIGKILL, child.stdout + child.stderr
    with sqlite3.connect(path) as db:  # rolled back: still the old layout, all there
        assert db.execute("PRAGMA user_version").fetchone() == (1,)
        columns = [row[1] for row in db.execute("PRAGMA table_info(reading)")]
        assert "seq" not in columns
        assert db.execute("SELECT count(*) FROM reading").fetchone() == (20_002,)
    db.close()
    outbox = open_outbox(path)
    assert outbox.stats().readings == 20_002
    assert outbox.confirm([(1000, 20_999)]) == 0
    assert outbox.flush()
    assert outbox.stats().readings == 2  # the two without a seq
