"""Self-detection of a stalled collector, and systemd's notification protocol.

On Mosquitto a shared-subscription member that is connected but stalled keeps its share
of the messages (in flight and queued): nobody else gets them until it recovers. A stall
must therefore end the process, so the supervisor (systemd ``Restart=always``) starts a
fresh one with the same client id, which receives the unacknowledged messages again.

:class:`Watchdog` checks, once a second, that every writer thread has shown a sign of
life within ``stall_timeout_s`` (they wake at least once a second, also while idle or
waiting out an InfluxDB outage, and before every write attempt). If one has not, it
calls ``on_stall`` with the reason (the CLI logs it and exits with status 70). While all
is well it pings systemd's watchdog (``WATCHDOG=1``): if the watchdog thread itself
stops, systemd's ``WatchdogSec`` restarts the unit.

:class:`SystemdNotifier` implements ``sd_notify`` (a datagram to ``$NOTIFY_SOCKET``) in a
few lines, so no library is needed; without ``NOTIFY_SOCKET`` it does nothing.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

log = logging.getLogger(__name__)

CHECK_INTERVAL_S = 1.0


class SystemdNotifier:
    """Sends ``sd_notify`` states (``READY=1``, ``WATCHDOG=1``, ``STOPPING=1``) if asked to."""

    def __init__(self, address: str | None = None) -> None:
        """Use ``address`` (default: ``$NOTIFY_SOCKET``; none: every call does nothing)."""
        address = address if address is not None else os.environ.get("NOTIFY_SOCKET")
        if address and address.startswith("@"):
            address = "\0" + address[1:]  # an abstract socket
        self._address = address or None

    @property
    def enabled(self) -> bool:
        """Whether a notification socket was given."""
        return self._address is not None

    def notify(self, state: str) -> None:
        """Send ``state``; failures are logged, never raised (systemd is optional)."""
        if self._address is None:
            return
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.sendto(state.encode(), self._address)
        except OSError as exc:
            log.debug("sd_notify %r failed: %s", state, exc)


def stall_reason(oldest_beat: float, now: float, stall_timeout_s: float) -> str | None:
    """Why the collector counts as stalled, or None (pure)."""
    silent = now - oldest_beat
    if silent > stall_timeout_s:
        return (
            f"a storage writer has shown no sign of life for {silent:.0f} s "
            f"(limit {stall_timeout_s:g} s)"
        )
    return None


class Watchdog:
    """A thread that calls ``on_stall`` once if the writers stall, else pings systemd."""

    def __init__(
        self,
        oldest_beat: Callable[[], float],
        stall_timeout_s: float,
        on_stall: Callable[[str], None],
        notifier: SystemdNotifier,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Watch ``oldest_beat`` (clock time of the least recent writer heartbeat)."""
        self._oldest_beat = oldest_beat
        self._timeout = stall_timeout_s
        self._on_stall = on_stall
        self._notifier = notifier
        self._clock = clock
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._main, name="pelangi-watchdog", daemon=True)

    def start(self) -> None:
        """Start watching."""
        self._thread.start()

    def stop(self) -> None:
        """Stop watching (before a deliberate shutdown, which may take a while)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _main(self) -> None:
        while not self._stop.wait(CHECK_INTERVAL_S):
            reason = stall_reason(self._oldest_beat(), self._clock(), self._timeout)
            if reason is not None:
                log.critical("stalled: %s; stopping so the supervisor starts a fresh one", reason)
                self._on_stall(reason)
                return
            self._notifier.notify("WATCHDOG=1")


__all__ = ["CHECK_INTERVAL_S", "SystemdNotifier", "Watchdog", "stall_reason"]
