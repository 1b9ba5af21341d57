"""The durable outbox against real SQLite files: order, lanes, limits, errors, recovery."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    rule,
)

import edge_agent.outbox
from edge_agent.outbox import (
    Outbox,
    OutboxBatch,
    OutboxEntry,
    OutboxError,
    OutboxSettings,
    UnsendableReadingError,
)
from pelangi.card import CardId
from pelangi.payloads import CardRead, decode
from pelangi.receipts import ranges_of
from sandbox.outboxes import BASE_NS, FakeClock, Outboxes
from sandbox.waiting import wait_until

CONFIRM_TIMEOUT_S = 25.0
DAY_S = 86_400.0


def card(seq: int, ts: int = BASE_NS) -> bytes:
    read = CardRead(seq=seq, ts=ts, card=CardId(raw="01001293D8", uid="001293D8"))
    return read.model_dump_json().encode()


def telemetry(seq: int, pad: int = 200) -> bytes:
    return json.dumps({"kind": "interface", "seq": seq, "pad": "x" * pad}).encode()


def seq_of(body: bytes) -> int:
    return int(json.loads(body)["seq"])


def drain(outbox: Outbox, clock: FakeClock | None = None) -> list[OutboxBatch]:
    """Take and acknowledge everything; return the batches in the order handed out.

    With ``clock``, a minute passes before each round (so a paced replay goes on).
    """
    batches = []
    while True:
        if clock is not None:
            clock.now += 60
        taken = outbox.take()
        if not taken:
            break
        batches += taken
        outbox.ack(b.id for b in taken)
    assert outbox.flush()
    return batches


def test_the_public_api_is_exactly_all() -> None:
    public = {name for name in dir(edge_agent.outbox) if not name.startswith("_")}
    modules = {"bench", "ledger", "policy", "settings", "snapshot", "store"}
    assert public - modules == set(edge_agent.outbox.__all__)


# Storing and handing out.


def test_appended_readings_come_out_as_an_envelope_the_collector_accepts(
    open_outbox: Outboxes,
) -> None:
    outbox = open_outbox()
    ids = [
        outbox.append("rfid-lobby", card(n), is_event=True, ts=BASE_NS + n, seq=n) for n in range(3)
    ]
    assert ids == sorted(ids)
    [batch] = outbox.take()
    assert batch.reading_ids == tuple(ids)
    assert not batch.historical
    envelope = decode(batch.payload("bukit-pelangi", "gw-1"))
    assert envelope.device == "rfid-lobby"
    assert [r.seq for r in envelope.readings] == [0, 1, 2]
    assert not envelope.historical


def test_readings_wait_until_acknowledged_and_survive_a_restart(
    open_outbox: Outboxes, tmp_path: Path
) -> None:
    outbox = open_outbox()
    outbox.append_many(
        [OutboxEntry("sw-1", telemetry(n), is_event=False, ts=BASE_NS + n, seq=n) for n in range(5)]
    )
    taken = outbox.take()
    assert sum(len(b) for b in taken) == 5
    assert outbox.take() == []  # in flight: not handed out twice
    outbox.close()
    again = open_outbox(tmp_path / "outbox.db")  # in flight when closed: sent again
    batches = drain(again)
    assert [seq_of(r) for b in batches for r in b.readings] == [0, 1, 2, 3, 4]
    assert all(b.historical for b in batches)  # found on disk: backlog
    again.close()
    assert open_outbox(tmp_path / "outbox.db").stats().readings == 0


def test_released_batches_are_handed_out_again(open_outbox: Outboxes) -> None:
    outbox = open_outbox(max_per_message=2)
    outbox.append_many(
        [OutboxEntry("sw-1", telemetry(n), is_event=False, ts=BASE_NS + n, seq=n) for n in range(6)]
    )
    first = outbox.take()
    assert [len(b) for b in first] == [2, 2, 2]
    outbox.ack([first[0].id])
    outbox.release([first[1].id])
    second = outbox.take()
    assert [b.reading_ids for b in second] == [first[1].reading_ids]
    outbox.release_all()
    assert [b.reading_ids for b in outbox.take()] == [first[1].reading_ids, first[2].reading_ids]


def test_each_device_keeps_its_order_across_batches(open_outbox: Outboxes) -> None:
    outbox = open_outbox(max_per_message=3)
    entries = [
        OutboxEntry(f"dev-{n % 3}", telemetry(n), is_event=n % 2 == 0, ts=BASE_NS + n, seq=n)
        for n in range(40)
    ]
    outbox.append_many(entries)
    batches = drain(outbox)
    for device in ("dev-0", "dev-1", "dev-2"):
        sent = [seq_of(r) for b in batches if b.device == device for r in b.readings]
        assert sent == [n for n in range(40) if f"dev-{n % 3}" == device]
    assert all(len(b) <= 3 for b in batches)


def test_messages_respect_the_byte_limit(open_outbox: Outboxes) -> None:
    outbox = open_outbox(max_message_bytes=2048)
    outbox.append_many(
        [OutboxEntry("sw", telemetry(n, 900), is_event=False, ts=BASE_NS, seq=n) for n in range(6)]
    )
    batches = outbox.take()
    assert [len(b) for b in batches] == [2, 2, 2]
    assert all(len(b.payload("s", "g")) <= 2048 + 1024 for b in batches)


def test_live_readings_overtake_the_backlog_and_are_not_historical(
    open_outbox: Outboxes, clock: FakeClock
) -> None:
    outbox = open_outbox(live_window_s=5.0)
    old = outbox.append("rfid-1", card(1), is_event=True, ts=BASE_NS, seq=1)
    clock.now += 60  # an outage later
    new = outbox.append("rfid-1", card(2), is_event=True, ts=BASE_NS + 60, seq=2)
    live, backlog = outbox.take()
    assert (live.reading_ids, live.historical) == ((new,), False)
    assert (backlog.reading_ids, backlog.historical) == ((old,), True)
    assert decode(backlog.payload("s", "g")).historical


def test_a_card_tap_during_a_long_replay_goes_out_first(
    open_outbox: Outboxes, clock: FakeClock
) -> None:
    outbox = open_outbox(max_per_message=10, max_in_flight_messages=16)
    outbox.append_many(
        [OutboxEntry("sw", telemetry(n), is_event=False, ts=BASE_NS, seq=n) for n in range(1000)]
    )
    clock.now += 60
    replay = outbox.take(max_readings=50)
    assert all(b.historical for b in replay)
    tap = outbox.append("rfid-1", card(1), is_event=True, ts=BASE_NS + 60, seq=1)
    [first, *rest] = outbox.take(max_readings=50)
    assert (first.reading_ids, first.historical) == ((tap,), False)
    assert all(b.historical for b in rest)


def test_the_backlog_never_fills_the_whole_in_flight_window(
    open_outbox: Outboxes, clock: FakeClock
) -> None:
    outbox = open_outbox(max_per_message=1, max_in_flight_messages=8)
    outbox.append_many(
        [OutboxEntry("sw", telemetry(n), is_event=False, ts=BASE_NS, seq=n) for n in range(100)]
    )
    clock.now += 60
    assert len(outbox.take()) == 7  # one slot kept for live readings
    assert outbox.take() == []
    tap = outbox.append("rfid-1", card(1), is_event=True, ts=BASE_NS + 60, seq=1)
    assert [b.reading_ids for b in outbox.take()] == [(tap,)]
    assert outbox.take() == []  # the window is full now
    assert outbox.stats().in_flight_messages == 8


def test_readings_committed_while_a_live_batch_is_out_keep_their_lane(
    open_outbox: Outboxes, clock: FakeClock
) -> None:
    outbox = open_outbox()
    a = outbox.append("rfid-1", card(1), is_event=True, ts=BASE_NS, seq=1)
    [first] = outbox.take()
    b = outbox.append("rfid-1", card(2), is_event=True, ts=BASE_NS + 1, seq=2)
    [second] = outbox.take()
    assert (first.reading_ids, second.reading_ids) == ((a,), (b,))
    outbox.release([first.id])
    clock.now += 60  # by now the released reading is backlog
    [again] = outbox.take()
    assert (again.reading_ids, again.historical) == ((a,), True)


def test_the_backlog_is_paced_and_live_readings_are_not(
    open_outbox: Outboxes, clock: FakeClock
) -> None:
    outbox = open_outbox(replay_max_readings_per_s=100, take_max_readings=50)
    outbox.append_many(
        [OutboxEntry("sw", telemetry(n), is_event=False, ts=BASE_NS, seq=n) for n in range(500)]
    )
    clock.now += 60
    assert sum(len(b) for b in outbox.take()) == 50  # a full bucket at once
    assert outbox.take() == []  # then the pacer says wait
    tap = outbox.append("rfid-1", card(1), is_event=True, ts=BASE_NS + 60, seq=1)
    assert [(b.reading_ids, b.historical) for b in outbox.take()] == [((tap,), False)]
    clock.now += 0.2
    assert sum(len(b) for b in outbox.take()) == 20  # 100 a second
    clock.now += 10
    assert outbox.wait_for_work(0)  # the pacer's wait is over: the sender is woken
    assert sum(len(b) for b in outbox.take()) == 50  # never more than one bucket


def test_wait_for_work_wakes_on_an_append_from_another_thread(open_outbox: Outboxes) -> None:
    outbox = open_outbox()
    assert outbox.wait_for_work(0.5)  # opening: whatever is stored may go out
    assert not outbox.wait_for_work(0.05)
    appended = threading.Event()

    def tap() -> None:
        outbox.append("rfid-1", card(1), is_event=True, ts=BASE_NS, seq=1)
        appended.set()

    worker = threading.Thread(target=tap)
    worker.start()
    assert outbox.wait_for_work(5.0)
    worker.join()
    assert appended.is_set()
    assert len(outbox.take()) == 1


def test_appends_from_many_threads_are_all_stored_once(open_outbox: Outboxes) -> None:
    outbox = open_outbox(sync="full")
    ids: list[int] = []
    lock = threading.Lock()

    def work(device: str) -> None:
        for n in range(50):
            row = outbox.append(device, telemetry(n), is_event=False, ts=BASE_NS + n, seq=n)
            with lock:
                ids.append(row)

    threads = [threading.Thread(target=work, args=(f"dev-{i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(ids)) == 400
    assert outbox.stats().telemetry == 400


def test_arguments_are_checked(open_outbox: Outboxes) -> None:
    outbox = open_outbox()
    with pytest.raises(UnsendableReadingError, match="device"):
        outbox.append("no/slash", card(1), is_event=True, ts=BASE_NS, seq=1)
    with pytest.raises(UnsendableReadingError, match="bytes"):
        outbox.append("sw", b"x" * 300_000, is_event=False, ts=BASE_NS, seq=0)
    with pytest.raises(UnsendableReadingError, match="ts"):
        outbox.append("sw", b"{}", is_event=False, ts=0, seq=0)
    assert outbox.append_many([]) == []


def test_closing_is_idempotent_and_appends_after_it_fail(open_outbox: Outboxes) -> None:
    outbox = open_outbox()
    outbox.close()
    outbox.close()
    with pytest.raises(OutboxError, match="closed"):
        outbox.append("sw", b"{}", is_event=False, ts=BASE_NS, seq=0)
    assert outbox.take() == []


# Limits.


def test_when_full_telemetry_goes_oldest_first_and_events_stay(
    open_outbox: Outboxes, tmp_path: Path
) -> None:
    outbox = open_outbox(max_bytes=1_000_000)
    events = outbox.append_many(
        [OutboxEntry("rfid-1", card(n), is_event=True, ts=BASE_NS + n, seq=n) for n in range(200)]
    )
    for chunk in range(40):  # ~2.4 MB of telemetry in polls of 50
        outbox.append_many(
            [
                OutboxEntry(
                    "sw-1",
                    telemetry(chunk * 50 + n, 1000),
                    is_event=False,
                    ts=BASE_NS,
                    seq=chunk * 50 + n,
                )
                for n in range(50)
            ]
        )
    assert outbox.flush()  # eviction follows the commit that went over the limit
    stats = outbox.stats()
    assert stats.used_bytes <= 1_000_000
    assert stats.events == 200
    assert stats.evicted_telemetry_size > 0
    assert stats.evicted_event_size == 0
    assert stats.evicted_telemetry_size + stats.telemetry == 2000
    batches = drain(outbox)
    assert [r for b in batches if b.device == "rfid-1" for r in b.reading_ids] == events
    kept = [seq_of(r) for b in batches if b.device == "sw-1" for r in b.readings]
    assert kept == list(range(2000 - len(kept), 2000))  # the newest survive
    outbox.close()
    again = open_outbox(tmp_path / "outbox.db")
    assert again.stats().evicted_telemetry_size == stats.evicted_telemetry_size  # persistent


def test_events_are_evicted_only_once_no_telemetry_is_left(
    open_outbox: Outboxes, caplog: pytest.LogCaptureFixture
) -> None:
    outbox = open_outbox(max_bytes=1_000_000)
    outbox.append_many(
        [
            OutboxEntry("sw-1", telemetry(n, 1000), is_event=False, ts=BASE_NS, seq=n)
            for n in range(5)
        ]
    )
    for chunk in range(30):
        outbox.append_many(
            [
                OutboxEntry(
                    "door-1",
                    telemetry(chunk * 50 + n, 1000),
                    is_event=True,
                    ts=BASE_NS,
                    seq=chunk * 50 + n,
                )
                for n in range(50)
            ]
        )
    assert outbox.flush()
    stats = outbox.stats()
    assert stats.telemetry == 0
    assert stats.evicted_telemetry_size == 5
    assert stats.evicted_event_size > 0
    assert stats.used_bytes <= 1_000_000
    kept = [seq_of(r) for b in drain(outbox) for r in b.readings]
    assert kept == list(range(1500 - len(kept), 1500))
    assert any(r.levelno == logging.ERROR and "event" in r.getMessage() for r in caplog.records)


def test_readings_in_flight_are_not_evicted(open_outbox: Outboxes) -> None:
    outbox = open_outbox(max_bytes=1_000_000, max_per_message=1000, max_message_bytes=200_000)
    outbox.append_many(
        [
            OutboxEntry("sw-1", telemetry(n, 1000), is_event=False, ts=BASE_NS, seq=n)
            for n in range(100)
        ]
    )
    taken = outbox.take()
    in_flight = {i for b in taken for i in b.reading_ids}
    for _ in range(30):
        outbox.append_many(
            [
                OutboxEntry("sw-2", telemetry(n, 1000), is_event=False, ts=BASE_NS, seq=n)
                for n in range(50)
            ]
        )
    assert outbox.flush()
    assert outbox.stats().evicted_telemetry_size > 0
    with sqlite3.connect(outbox.path) as db:
        present = {row[0] for row in db.execute("SELECT id FROM reading")}
    db.close()
    assert in_flight <= present


def test_readings_past_the_age_limit_are_evicted_and_counted(
    open_outbox: Outboxes, clock: FakeClock
) -> None:
    outbox = open_outbox(max_age_s=DAY_S, event_max_age_s=3 * DAY_S)
    now = clock.wall_ns()
    day_ns = round(DAY_S * 1e9)
    outbox.append("sw-1", telemetry(1), is_event=False, ts=now - 2 * day_ns, seq=1)
    outbox.append("rfid-1", card(1), is_event=True, ts=now - 2 * day_ns, seq=1)
    outbox.append("sw-1", telemetry(2), is_event=False, ts=now, seq=2)
    outbox.append("rfid-1", card(2), is_event=True, ts=now - 4 * day_ns, seq=2)
    assert outbox.enforce_limits()
    stats = outbox.stats()
    assert (stats.evicted_telemetry_age, stats.evicted_event_age) == (1, 1)
    assert (stats.telemetry, stats.events) == (1, 1)
    assert stats.oldest_age_s == pytest.approx(2 * DAY_S)


def test_the_age_limit_is_applied_on_its_own_as_time_passes(
    open_outbox: Outboxes, clock: FakeClock
) -> None:
    outbox = open_outbox(max_age_s=DAY_S)
    outbox.append("sw-1", telemetry(1), is_event=False, ts=clock.wall_ns(), seq=1)
    clock.now += 2 * DAY_S
    assert outbox.flush()  # the writer's next round sees the periodic check is due
    assert outbox.stats().evicted_telemetry_age == 1


def test_readings_the_broker_refused_stay_and_their_device_waits(
    open_outbox: Outboxes, tmp_path: Path, clock: FakeClock
) -> None:
    outbox = open_outbox()
    outbox.append("rfid-1", card(1), is_event=True, ts=BASE_NS, seq=1)
    outbox.append("sw-1", telemetry(2), is_event=False, ts=BASE_NS, seq=2)
    refused, other = outbox.take()
    outbox.refused(refused.id)  # e.g. the ACL denies rfid-1's topic
    outbox.ack([other.id])
    assert outbox.flush()
    stats = outbox.stats()
    assert (stats.refused_by_broker, stats.readings, stats.rejected) == (1, 1, 0)
    assert outbox.take() == []  # held back for 1 s
    clock.now += 1.0
    [again] = outbox.take()
    assert again.reading_ids == refused.reading_ids
    outbox.close()
    reopened = open_outbox(tmp_path / "outbox.db")
    assert (reopened.stats().events, reopened.stats().rejected) == (1, 0)  # nothing deleted


def test_the_summary_names_counts_evictions_and_problems(open_outbox: Outboxes) -> None:
    outbox = open_outbox(max_bytes=1_000_000)
    for _ in range(30):
        outbox.append_many(
            [
                OutboxEntry("sw-1", telemetry(n, 1000), is_event=False, ts=BASE_NS, seq=n)
                for n in range(50)
            ]
        )
    assert outbox.flush()
    line = outbox.summary()
    assert "telemetry" in line
    assert "of 1 MB" in line
    assert "evicted" in line


def test_the_default_path_is_in_the_state_folder(tmp_path: Path) -> None:
    assert OutboxSettings().resolve_path(tmp_path) == tmp_path / "outbox.db"
    custom = OutboxSettings(path=tmp_path / "x.db")
    assert custom.resolve_path(Path("/elsewhere")) == tmp_path / "x.db"


def test_settings_reject_events_dying_before_telemetry() -> None:
    with pytest.raises(ValueError, match="event_max_age_s"):
        OutboxSettings(max_age_s=DAY_S, event_max_age_s=60)


# Trouble: unwritable folders, full disks, damaged files, a second agent.


def test_an_unwritable_folder_is_reported_and_storing_resumes_once_fixed(
    open_outbox: Outboxes, tmp_path: Path
) -> None:
    blocker = tmp_path / "state"
    blocker.write_text("a file where the state folder should be")  # fails even for root
    outbox = open_outbox(blocker / "outbox.db")
    stats = outbox.stats()
    assert not stats.available
    assert stats.error is not None
    assert "a file stands where a folder is expected" in stats.error
    with pytest.raises(OutboxError) as caught:
        outbox.append("rfid-1", card(1), is_event=True, ts=BASE_NS, seq=1)
    assert str(blocker / "outbox.db") in str(caught.value)
    assert "Traceback" not in str(caught.value)
    assert outbox.stats().refused == 1
    assert "unavailable" in outbox.summary()
    blocker.unlink()
    row = outbox.append("rfid-1", card(2), is_event=True, ts=BASE_NS, seq=2)  # every append retries
    assert outbox.stats().available
    assert outbox.stats().error is None
    assert [b.reading_ids for b in outbox.take()] == [(row,)]


def test_a_read_only_folder_is_reported_and_storing_resumes(
    open_outbox: Outboxes, tmp_path: Path
) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    # chattr +i stops even root from creating files; skip where the file system can't.
    if subprocess.run(["chattr", "+i", str(folder)], check=False).returncode != 0:
        pytest.skip("chattr +i is not supported here")
    try:
        outbox = open_outbox(folder / "outbox.db")
        with pytest.raises(OutboxError, match=r"ro/outbox\.db") as caught:
            outbox.append("rfid-1", card(1), is_event=True, ts=BASE_NS, seq=1)
        assert "not permitted" in caught.value.cause
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True)
    outbox.append("rfid-1", card(2), is_event=True, ts=BASE_NS, seq=2)
    assert outbox.stats().events == 1


_DISK_FULL_CHILD = textwrap.dedent(
    """
    import json, resource, signal, sys, time
    from pathlib import Path
    from edge_agent.outbox import Outbox, OutboxError, OutboxSettings

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
    path = Path(sys.argv[1])
    outbox = Outbox.open(path, OutboxSettings(sync="full"))
    body = b'{"kind":"interface","pad":"' + b"x" * 2000 + b'"}'
    def append():
        return outbox.append("sw-1", body, is_event=False, ts=time.time_ns(), seq=0)

    accepted = [append() for _ in range(10)]
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (512 * 1024, hard))  # no file beyond 512 KiB
    report = {"failures": 0}
    for _ in range(2_000):  # keep trying while full: each append fails cleanly, or fits
        try:
            accepted.append(append())
        except OutboxError as exc:
            report["failures"] += 1
            report.setdefault("error", str(exc))
            report.setdefault("stats_error", outbox.stats().error)
            if report["failures"] >= 20:
                break
    resource.setrlimit(resource.RLIMIT_FSIZE, (hard, hard))  # space returns
    accepted.append(append())
    report["recovered_error"] = outbox.stats().error
    outbox.close()
    outbox = Outbox.open(path, OutboxSettings(sync="full"))
    stored = outbox.stats().telemetry
    outbox.close()
    report["accepted"] = len(accepted)
    report["stored"] = stored
    print(json.dumps(report), flush=True)
    """
)


def test_a_full_disk_is_reported_without_a_crash_and_storing_resumes(tmp_path: Path) -> None:
    script = tmp_path / "child.py"
    script.write_text(_DISK_FULL_CHILD)
    done = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "outbox.db")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert str(tmp_path / "outbox.db") in report["error"]
    assert "disk" in report["error"]
    assert report["stats_error"] in report["error"]
    assert report["failures"] == 20  # no crash loop: each append fails cleanly while full
    assert report["recovered_error"] is None
    assert report["stored"] == report["accepted"]  # nothing accepted was lost
    assert "Traceback" not in done.stderr
    assert "disk" in done.stderr  # logged


def test_a_damaged_file_is_moved_aside_and_a_new_outbox_started(
    open_outbox: Outboxes, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "outbox.db"
    path.write_bytes(b"this is not an SQLite database" * 200)
    outbox = open_outbox(path)
    stats = outbox.stats()
    assert stats.available
    assert stats.quarantined == 1
    aside = list(tmp_path.glob("outbox.db.corrupt-*"))
    assert len(aside) == 1
    assert aside[0].read_bytes().startswith(b"this is not")
    assert any("moved it aside" in r.getMessage() for r in caplog.records)
    outbox.append("rfid-1", card(1), is_event=True, ts=BASE_NS, seq=1)
    assert outbox.stats().events == 1


def test_damage_found_while_running_is_handled_the_same_way(
    open_outbox: Outboxes, tmp_path: Path
) -> None:
    path = tmp_path / "outbox.db"
    outbox = open_outbox(path, max_per_message=1000, max_message_bytes=200_000)
    outbox.append_many(
        [
            OutboxEntry("sw-1", telemetry(n, 1000), is_event=False, ts=BASE_NS, seq=n)
            for n in range(2000)
        ]
    )
    outbox.close()
    with path.open("r+b") as damaged:  # garbage over pages in the middle of the table
        damaged.seek(100 * 4096)
        damaged.write(os.urandom(40 * 4096))
    outbox = open_outbox(path)
    for _ in range(100):
        outbox.ack(b.id for b in outbox.take())  # never raises
        if outbox.stats().quarantined:
            break
    wait_until(lambda: outbox.stats().quarantined == 1, timeout=10, what="quarantined")
    outbox.append("rfid-1", card(1), is_event=True, ts=BASE_NS, seq=1)
    assert wait_until(lambda: outbox.stats().events == 1, timeout=10, what="stored again")
    assert len(list(tmp_path.glob("outbox.db.corrupt-*"))) == 1


def test_a_second_agent_cannot_use_the_same_outbox(open_outbox: Outboxes) -> None:
    first = open_outbox()
    second = open_outbox()
    assert first.stats().available
    assert not second.stats().available
    assert "another process" in (second.stats().error or "")
    first.close()
    second.append("rfid-1", card(1), is_event=True, ts=BASE_NS, seq=1)  # it retries and takes over
    assert second.stats().available


def test_a_file_from_a_newer_agent_is_left_alone(open_outbox: Outboxes, tmp_path: Path) -> None:
    path = tmp_path / "outbox.db"
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 99")
    db.close()
    outbox = open_outbox(path)
    assert "newer agent" in (outbox.stats().error or "")
    assert not list(tmp_path.glob("*.corrupt-*"))


# The whole protocol, explored: appends, takes, acks, releases, restarts, time passing.


class OutboxMachine(RuleBasedStateMachine):
    """Whatever happens, nothing accepted is lost and a device's lane keeps its order.

    Readings leave only when acknowledged or confirmed by a receipt; refused ones stay.
    """

    batches = Bundle("batches")

    def __init__(self) -> None:
        super().__init__()
        self.tmp = tempfile.TemporaryDirectory()  # one per run: pytest's tmp_path is per test
        self.path = Path(self.tmp.name) / "outbox.db"
        self.clock = FakeClock()
        self.config = OutboxSettings(
            sync="normal",
            max_per_message=3,
            max_in_flight_messages=6,
            take_max_readings=20,
            replay_max_readings_per_s=100,  # paced: 2 readings per 0.02 s step of time
            max_unconfirmed_messages=8,
            confirm_timeout_s=CONFIRM_TIMEOUT_S,
            confirm_timeout_max_s=CONFIRM_TIMEOUT_S,  # no doubling: the model knows when
        )
        self.outbox = self._open()
        self.stored: dict[int, bytes] = {}  # accepted and not yet acknowledged
        self.seq_of: dict[int, int] = {}  # row -> seq of what is stored
        self.confirmed: set[int] = set()  # rows a receipt named
        self.in_flight: dict[int, OutboxBatch] = {}  # out: in flight or awaiting a receipt
        self.published_at: dict[int, float] = {}  # the batches awaiting a receipt
        self.seq = 0
        self.last_sent: dict[tuple[str, bool], int] = {}  # (device, historical) -> last id

    def _open(self) -> Outbox:
        return Outbox.open(
            self.path, self.config, wall_ns=self.clock.wall_ns, monotonic=self.clock.monotonic
        )

    @rule(device=st.sampled_from(["a", "b", "c"]), is_event=st.booleans(), n=st.integers(1, 5))
    def append(self, device: str, *, is_event: bool, n: int) -> None:
        entries = []
        for _ in range(n):
            self.seq += 1
            entries.append(
                OutboxEntry(
                    device, telemetry(self.seq, 10), is_event=is_event, ts=BASE_NS, seq=self.seq
                )
            )
        for row, entry in zip(self.outbox.append_many(entries), entries, strict=True):
            self.stored[row] = entry.reading
            self.seq_of[row] = entry.seq

    @rule(target=batches, limit=st.integers(1, 20))
    def take(self, limit: int) -> object:
        taken = self.outbox.take(limit)
        for batch in taken:
            assert batch.id not in self.in_flight
            for row, body in zip(batch.reading_ids, batch.readings, strict=True):
                assert self.stored[row] == body
                assert all(row not in b.reading_ids for b in self.in_flight.values())
            lane = (batch.device, batch.historical)
            assert batch.reading_ids[0] > self.last_sent.get(lane, 0)
            self.last_sent[lane] = batch.reading_ids[-1]
            self.in_flight[batch.id] = batch
        return taken[0].id if taken else None

    @rule(batch=consumes(batches))
    def ack(self, batch: int | None) -> None:
        if batch is not None and batch in self.in_flight:
            self.published_at.pop(batch, None)
            for row in self.in_flight.pop(batch).reading_ids:
                self.stored.pop(row, None)  # (gone already if a receipt named it)
            self.outbox.ack([batch])

    @rule(batch=batches)
    def publish(self, batch: int | None) -> None:
        if batch is not None and batch in self.in_flight and batch not in self.published_at:
            self.outbox.published(batch)
            self.published_at[batch] = self.clock.now

    @rule(batch=consumes(batches))
    def refuse(self, batch: int | None) -> None:
        if batch is not None and batch in self.in_flight and batch not in self.published_at:
            self.in_flight.pop(batch)
            self.outbox.refused(batch)
            self.last_sent.clear()  # sent again later, after newer readings

    @rule(data=st.data())
    def confirm(self, data: st.DataObject) -> None:
        if not self.stored:
            return
        rows = data.draw(st.sets(st.sampled_from(sorted(self.stored)), max_size=8))
        self.outbox.confirm(ranges_of(self.seq_of[row] for row in rows))
        assert self.outbox.flush()  # the rows on disk too (before that, one may go out again)
        for row in rows:
            del self.stored[row]
        self.confirmed |= rows

    @rule(batch=consumes(batches))
    def release(self, batch: int | None) -> None:
        if batch is not None and batch in self.in_flight:
            self.in_flight.pop(batch)
            self.published_at.pop(batch, None)
            self.outbox.release([batch])
            self.last_sent.clear()  # redelivery may repeat older readings: order restarts

    @rule()
    def release_all(self) -> None:
        self.outbox.release_all()
        self.in_flight.clear()
        self.published_at.clear()
        self.last_sent.clear()

    @rule(seconds=st.sampled_from([0.02, 0.5, 3.0, 10.0]))
    def time_passes(self, seconds: float) -> None:
        self.clock.now += seconds
        self.outbox.wait_for_work(0)  # the outbox sees overdue receipts now
        for batch, at in list(self.published_at.items()):
            if at + CONFIRM_TIMEOUT_S <= self.clock.now:  # no receipt: out again
                del self.published_at[batch], self.in_flight[batch]
                self.last_sent.clear()

    @rule()
    def restart(self) -> None:
        self.outbox.close()
        self.outbox = self._open()
        self.in_flight.clear()
        self.published_at.clear()
        self.last_sent.clear()

    @invariant()
    def nothing_accepted_is_lost(self) -> None:
        assert self.outbox.flush()
        with sqlite3.connect(self.path) as db:
            present = dict(db.execute("SELECT id, body FROM reading").fetchall())
        db.close()
        for row, body in self.stored.items():
            assert present.get(row) == body
        assert not self.confirmed & set(present)  # what a receipt named is gone

    def teardown(self) -> None:
        self.outbox.close()
        self.tmp.cleanup()


def test_every_accepted_reading_is_delivered_in_the_end() -> None:
    class Drained(OutboxMachine):
        def teardown(self) -> None:
            self.outbox.release_all()
            delivered = {r for b in drain(self.outbox, self.clock) for r in b.reading_ids}
            assert set(self.stored) <= delivered
            super().teardown()

    runner = settings(
        max_examples=40,
        stateful_step_count=30,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )(Drained)
    runner.TestCase().runTest()
