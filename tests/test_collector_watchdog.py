"""Stall detection and systemd notifications (pure parts and a real datagram socket)."""

from __future__ import annotations

import socket
import threading
from typing import TYPE_CHECKING

from collector.deadletter import UniqueClock
from collector.watchdog import SystemdNotifier, Watchdog, stall_reason

if TYPE_CHECKING:
    from pathlib import Path


def test_stalled_only_when_a_writer_is_silent_longer_than_the_limit() -> None:
    assert stall_reason(oldest_beat=100.0, now=159.0, stall_timeout_s=60) is None
    reason = stall_reason(oldest_beat=100.0, now=161.0, stall_timeout_s=60)
    assert reason == "a storage writer has shown no sign of life for 61 s (limit 60 s)"


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
    beat = [0.0]
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
            lambda: beat[0], 10, on_stall, SystemdNotifier(str(path)), clock=lambda: now[0]
        )
        dog.start()
        assert server.recv(100) == b"WATCHDOG=1"
        now[0] = 11.0
        assert stalled.wait(5)
        dog.stop()
    assert len(stalls) == 1


def test_unique_clock_never_repeats_even_when_time_stands_still() -> None:
    clock = UniqueClock(lambda: 1000)
    assert [clock(), clock(), clock()] == [1000, 1001, 1002]
