"""A small stand-in for systemd in tests: restart a child process when it dies or stalls.

In production systemd supervises the collector (``config/systemd/pelangi-collector@.service``:
``Restart=always``, ``RestartSec``, ``RestartPreventExitStatus=2``, ``Type=notify`` with
``WatchdogSec``). The fault tests need the same behaviour on machines without systemd,
so :class:`Supervisor` does the parts that matter:

- restart the process ``restart_delay_s`` after it exits, whatever the reason, except
  exit status 2 (a configuration error: restarting cannot help);
- with ``watchdog_s``, hand the child a ``NOTIFY_SOCKET`` (a datagram socket in the work
  folder, as systemd does) and SIGKILL + restart it when no ``WATCHDOG=1`` arrived for
  ``watchdog_s`` after its first one: a frozen process (SIGSTOP, a deadlock) is
  replaced, as systemd's ``WatchdogSec`` would.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from typing import TYPE_CHECKING, Final, Self

if TYPE_CHECKING:
    from pathlib import Path
    from types import TracebackType

    from sandbox.processes import ChildProcess

EXIT_CONFIG: Final = 2
_POLL_S: Final = 0.05


class Supervisor:
    """Keeps one :class:`ChildProcess` running; see the module docstring."""

    def __init__(
        self,
        process: ChildProcess,
        *,
        restart_delay_s: float = 0.5,
        watchdog_s: float | None = None,
        notify_dir: Path | None = None,
    ) -> None:
        """Supervise ``process`` (not started yet).

        Args:
            process: the child to keep running.
            restart_delay_s: wait this long before restarting (systemd ``RestartSec``).
            watchdog_s: kill and restart when the child stops sending ``WATCHDOG=1``
                for this long (systemd ``WatchdogSec``); None: no watchdog.
            notify_dir: where the notification socket goes (required with ``watchdog_s``).
        """
        self.process = process
        self.restart_delay_s = restart_delay_s
        self.watchdog_s = watchdog_s
        self.restarts = 0
        self.watchdog_kills = 0
        self.exit_statuses: list[int | None] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._main, name="sandbox-supervisor", daemon=True)
        self._sock: socket.socket | None = None
        self._last_ping: float | None = None
        if watchdog_s is not None:
            if notify_dir is None:
                raise ValueError("a watchdog needs notify_dir for its socket")
            path = notify_dir / f"notify-{id(self):x}.sock"
            path.unlink(missing_ok=True)
            self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            self._sock.bind(str(path))
            self._sock.setblocking(False)  # noqa: FBT003 - the socket API
            env = dict(process.env if process.env is not None else os.environ)
            process.env = env | {"NOTIFY_SOCKET": str(path)}

    def start(self) -> Self:
        """Start the child and watch it."""
        self.process.start()
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop watching, then stop the child (SIGTERM, SIGKILL fallback)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        self.process.stop()
        if self._sock is not None:
            self._sock.close()

    def _main(self) -> None:
        while not self._stop.wait(_POLL_S):
            self._read_notifications()
            if self.process.running:
                if self._stalled():
                    self.watchdog_kills += 1
                    self.process.kill()
                else:
                    continue
            status = self.process.returncode
            self.exit_statuses.append(status)
            if status == EXIT_CONFIG or self._stop.wait(self.restart_delay_s):
                return
            self._last_ping = None
            self.process.start()
            self.restarts += 1

    def _read_notifications(self) -> None:
        if self._sock is None:
            return
        while True:
            try:
                data = self._sock.recv(4096)
            except BlockingIOError:
                return
            if b"WATCHDOG=1" in data.split(b"\n"):
                self._last_ping = time.monotonic()

    def _stalled(self) -> bool:
        if self.watchdog_s is None or self._last_ping is None:
            return False
        return time.monotonic() - self._last_ping > self.watchdog_s

    def __enter__(self) -> Self:
        """Start supervising."""
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Stop supervising and stop the child."""
        self.stop()


__all__ = ["Supervisor"]
