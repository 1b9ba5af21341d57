"""Stall detection and systemd notifications (pure parts and a real datagram socket).

The real-process cases (a permanent 5xx, refused credentials, a missing database, an
outage that is waited out, an ended network thread) are in ``test_collector_stalls.py``.
"""

from __future__ import annotations

import socket
import threading
from typing import TYPE_CHECKING

from collector.deadletter import UniqueClock
from collector.progress import Progress
from collector.watchdog import SystemdNotifier, Watchdog, stall_reason

if TYPE_CHECKING:
    from pathlib import Path


def storage(**changes: object) -> Progress:
    """Healthy storage at t=100: nothing waiting, every writer just beat."""
    fields: dict[str, object] = {
        "waiting": 0,
        "last_progress": 100.0,
        "refusing_since": None,
        "failure": None,
        "oldest_beat": 100.0,
    }
    return Progress(**(fields | changes))  # type: ignore[arg-type]


def test_stalled_when_a_writer_is_silent_longer_than_the_limit() -> None:
    assert stall_reason(storage(), 159.0, now=159.0, stall_timeout_s=60) is None
    reason = stall_reason(storage(), 161.0, now=161.0, stall_timeout_s=60)
    assert reason == "a storage writer has shown no sign of life for 61 s (limit 60 s)"


def test_stalled_when_the_network_thread_has_ended_or_is_stuck() -> None:
    assert stall_reason(storage(), None, now=101.0, stall_timeout_s=60) == (
        "the MQTT network thread has ended: no message can arrive or be acknowledged"
    )
    healthy = storage(oldest_beat=170.0)
    assert stall_reason(healthy, 100.0, now=171.0, stall_timeout_s=60) == (
        "the MQTT network thread has been stuck for 71 s"
    )


def test_an_error_answer_that_persists_is_a_stall_no_answer_at_all_is_not() -> None:
    refusing = storage(
        waiting=500,
        oldest_beat=200.0,
        refusing_since=130.0,
        failure="InfluxDB at http://x: HTTP 500: engine: cache-max-memory-size exceeded",
    )
    assert stall_reason(refusing, 200.0, now=189.0, stall_timeout_s=60) is None
    assert stall_reason(refusing, 200.0, now=200.0, stall_timeout_s=60) == (
        "storage has refused every write for 70 s (limit 60 s): InfluxDB at http://x: "
        "HTTP 500: engine: cache-max-memory-size exceeded"
    )
    down = storage(
        waiting=500,
        oldest_beat=10_000.0,
        failure="InfluxDB at http://x: cannot connect: Connection refused",
    )
    assert stall_reason(down, 10_000.0, now=10_000.0, stall_timeout_s=60) is None


def test_waiting_without_progress_or_failure_is_a_stall_idle_is_not() -> None:
    idle = storage(oldest_beat=500.0)
    assert stall_reason(idle, 500.0, now=500.0, stall_timeout_s=60) is None
    stuck = storage(waiting=3, oldest_beat=500.0)
    assert stall_reason(stuck, 500.0, now=500.0, stall_timeout_s=60) == (
        "no reading stored for 400 s while 3 wait, and no write failed"
    )


def test_notifier_sends_states_to_the_socket_and_is_silent_without_one(tmp_path: Path) -> None:
    path = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        server.bind(str(path))
        notifier = SystemdNotifier(str(path))
        assert notifier.enabled
        notifier.notify("READY=1")
        assert server.recv(100) == b"READY=1"
    SystemdNotifier("").notify("READY=1")  # no socket: nothing happens, nothing raised
    assert not SystemdNotifier("").enabled


def test_watchdog_calls_on_stall_once_and_pings_while_healthy(tmp_path: Path) -> None:
    path = tmp_path / "notify.sock"
    now = [0.0]
    stalls: list[str] = []
    stalled = threading.Event()

    def on_stall(reason: str) -> None:
        stalls.append(reason)
        stalled.set()

    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        server.bind(str(path))
        server.settimeout(5)
        dog = Watchdog(
            lambda t: "stalled" if t > 10 else None,
            on_stall,
            SystemdNotifier(str(path)),
            clock=lambda: now[0],
        )
        dog.start()
        assert server.recv(100) == b"WATCHDOG=1"
        now[0] = 11.0
        assert stalled.wait(5)
        dog.stop()
    assert stalls == ["stalled"]


def test_unique_clock_never_repeats_even_when_time_stands_still() -> None:
    clock = UniqueClock(lambda: 1000)
    assert [clock(), clock(), clock()] == [1000, 1001, 1002]
