"""Engines SIGKILLed for real, standbys taking over: nothing re-sent, nothing forgotten.

Each engine is ``sandbox/alerts_worker.py`` in a process of its own, on the test's SQLite
file or PostgreSQL database, delivering to a file (the sink) and logging each delivery.
The ``hold`` file stands in for a mail server that is down: messages wait in the outbox.
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import pytest

from collector.alerts.model import Phase
from collector.alerts.store import AlertStore, Delivery
from collector.state import StateSettings, open_state
from sandbox.alerts_worker import PASSWORD_ENV, door, notification_id, write_doors
from sandbox.processes import ChildProcess
from sandbox.waiting import wait_until

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sandbox.logbook import LogBook

REPO: Final = Path(__file__).resolve().parents[1]
TTL_S: Final = 1.0
TIMEOUT_S: Final = 15.0


class Rig:
    """The shared database, the doors, the sink, and the engines started on them."""

    def __init__(self, tmp_path: Path, settings: StateSettings, log_book: LogBook) -> None:
        self.tmp_path = tmp_path
        self.settings = settings
        self.log_book = log_book
        self.sink = tmp_path / "sink.jsonl"
        self.doors = tmp_path / "doors.json"
        self.hold = tmp_path / "hold"
        self.database = open_state(settings)
        self.store = AlertStore(self.database)
        self.engines: list[ChildProcess] = []
        self._removers: list[Any] = []

    def start(self, holder: str, *options: str, ttl_s: float = TTL_S) -> ChildProcess:
        argv = [sys.executable, "-m", "sandbox.alerts_worker", "--url", self.settings.url]
        argv += ["--holder", holder, "--sink", str(self.sink), "--doors", str(self.doors)]
        argv += ["--hold", str(self.hold), "--ttl", str(ttl_s), *options]
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        if self.settings.password is not None:
            env[PASSWORD_ENV] = self.settings.password.get_secret_value()
        engine = ChildProcess(argv, log_path=self.tmp_path / f"{holder}.log", env=env, cwd=REPO)
        self.engines.append(engine.start())
        self._removers.append(self.log_book.add(holder, engine))
        return engine

    def says(self, engine: ChildProcess, line: str) -> None:
        def said() -> bool:
            if not engine.running:
                raise AssertionError(f"{engine.name} {engine.describe_exit()} before: {line}")
            return line in engine.log_text()

        wait_until(said, timeout=TIMEOUT_S, what=f"{engine.name} says {line!r}")

    def active(self, engine: ChildProcess, holder: str) -> None:
        self.says(engine, f"active {holder} ")

    def deliveries(self) -> list[Delivery]:
        return self.store.deliveries()

    def sent(self) -> list[dict[str, str]]:
        if not self.sink.exists():
            return []
        return [json.loads(line) for line in self.sink.read_text().splitlines()]

    def wait_sent(self, count: int) -> None:
        what = f"{count} messages are in the sink"
        wait_until(lambda: len(self.sent()) >= count, timeout=TIMEOUT_S, what=what)

    def sent_ids(self) -> list[str]:
        return [line["id"] for line in self.sent()]

    def kinds_by_device(self) -> list[tuple[str, str, str]]:
        return sorted((s["device"], s["kind"], s["holder"]) for s in self.sent())

    def close(self) -> None:
        for engine in self.engines:
            engine.kill()
        for remove in self._removers:
            remove()
        self.database.close()


@pytest.fixture
def rig(tmp_path: Path, state_settings: StateSettings, log_book: LogBook) -> Iterator[Rig]:
    made = Rig(tmp_path, state_settings, log_book)
    try:
        yield made
    finally:
        made.close()


def doors(open_: range, closed: range = range(0)) -> dict[str, bool]:
    return {f"pintu-{i}": i in open_ for i in [*open_, *closed]}


def test_a_standby_takes_over_after_sigkills_without_resending_or_forgetting(rig: Rig) -> None:
    a = rig.start("engine-a")
    rig.active(a, "engine-a")
    b = rig.start("engine-b")
    rig.says(b, "standby engine-b")

    # Five doors held open: five messages, sent by a.
    write_doors(rig.doors, doors(range(1, 6)))
    wait_until(lambda: len(rig.deliveries()) == 5, timeout=TIMEOUT_S, what="5 delivered")
    lease = rig.store.lease()
    assert lease is not None
    assert lease.holder == "engine-a"

    # SIGKILL a while they fire: b takes over once a's lease has expired, not before.
    a.kill()
    killed = rig.store.lease()
    assert killed is not None
    rig.active(b, "engine-b")
    taken = rig.store.lease()
    assert taken is not None
    assert taken.holder == "engine-b"
    assert taken.acquired_at >= killed.expires_at
    assert "active engine-b 5 alerts" in b.log_text()  # resumed where a stopped

    # The mail server goes down; three doors close, a sixth opens; SIGKILL b with the
    # three resolutions and the new alarm queued, not delivered.
    rig.hold.touch()
    write_doors(rig.doors, doors(range(4, 7), closed=range(1, 4)))
    wait_until(lambda: len(rig.store.outbox()) == 4, timeout=TIMEOUT_S, what="4 queued")
    b.kill()
    assert len(rig.sent()) == 5

    # While no engine runs, door 4 closes too; the mail server comes back; c starts.
    write_doors(rig.doors, doors(range(5, 7), closed=range(1, 5)))
    rig.hold.unlink()
    c = rig.start("engine-c")
    rig.active(c, "engine-c")
    rig.wait_sent(10)
    # Let c run on for several rounds (its lease renewed past this point) to show that
    # nothing more arrives.
    settled = datetime.now(UTC) + timedelta(seconds=0.5)

    def renewed_past_settled() -> bool:
        lease = rig.store.lease()
        return lease is not None and lease.expires_at - timedelta(seconds=TTL_S) > settled

    wait_until(renewed_past_settled, timeout=TIMEOUT_S, what="c renewed its lease")

    ids = rig.sent_ids()
    assert len(ids) == len(set(ids)) == 10
    assert rig.kinds_by_device() == [
        *[(f"pintu-{i}", kind, "engine-a" if kind == "firing" else "engine-c")
          for i in range(1, 5) for kind in ("firing", "resolved")],
        ("pintu-5", "firing", "engine-a"),
        ("pintu-6", "firing", "engine-c"),
    ]  # fmt: skip
    assert sorted(d.notification_id for d in rig.deliveries()) == sorted(ids)
    assert rig.store.outbox() == []
    phases = {a.key.device: a.phase for a in rig.store.alerts()}
    assert phases == {
        **{f"pintu-{i}": Phase.RESOLVED for i in range(1, 5)},
        "pintu-5": Phase.FIRING,
        "pintu-6": Phase.FIRING,
    }

    # A clean stop releases the lease at once.
    assert c.stop() == 0
    released = rig.store.lease()
    assert released is not None
    assert released.holder is None


KILLS: Final = 4


def assert_states_match_their_messages(store: AlertStore) -> None:
    """Each alert's newest message (queued or logged) is the one its state calls for."""
    state = store.load_state()
    known = {e.notification.id for e in store.outbox()}
    known |= {d.notification_id for d in store.deliveries()}
    newest: dict[str, tuple[str, str]] = {}
    for notification in known:
        key, _, instant = notification.split("|")
        device = key.rsplit("/", 1)[1]
        newest[device] = max(newest.get(device, (instant, notification)), (instant, notification))
    assert {device: n for device, (_, n) in newest.items()} == {
        alert.key.device: notification_id(alert) for alert in state.values()
    }
    assert all(door(device) in state for device in newest)


def test_sigkills_mid_stream_leave_no_state_without_its_message_and_lose_none(rig: Rig) -> None:
    for run in range(KILLS):
        holder = f"flapper-{run}"
        engine = rig.start(holder, "--flap", "4", "--tick", "0.005", ttl_s=0.3)
        rig.active(engine, holder)
        rig.wait_sent(len(rig.sent()) + 8)
        engine.kill()  # wherever it is: in a transaction, between a send and its log...
        assert_states_match_their_messages(rig.store)

    drainer = rig.start("drainer")  # no doors of its own: it only delivers what waits
    rig.active(drainer, "drainer")
    wait_until(lambda: rig.store.outbox() == [], timeout=TIMEOUT_S, what="the outbox drained")
    assert drainer.stop() == 0
    assert_states_match_their_messages(rig.store)

    sent = Counter(rig.sent_ids())
    logged = [d.notification_id for d in rig.deliveries()]
    assert len(logged) == len(set(logged))  # the log holds each delivery once
    assert set(sent) == set(logged)  # nothing sent unlogged, nothing logged unsent
    # A kill between the sink's write and the commit of `delivered` is the one way to
    # send twice: the successor sends it again. At most once per kill.
    assert sum(count - 1 for count in sent.values()) <= KILLS
