"""Self-detection of a stalled collector, and systemd's notification protocol.

On Mosquitto a shared-subscription member that is connected but stalled keeps its share
of the messages (in flight and queued): nobody else gets them until it recovers. A stall
must therefore end the process, so the supervisor (systemd ``Restart=always``) starts a
fresh one with the same client id, which receives the unacknowledged messages again.

:class:`Watchdog` asks, once a second, :func:`stall_reason` whether the collector makes
progress; if not, it calls ``on_stall`` with the reason in words (the CLI logs it and
exits with status 70). Progress means (each checked within ``stall_timeout_s``):

- **readings stored, or nothing waiting**: write *attempts* are not progress. Storage
  that does not answer at all (connection refused, timeout: InfluxDB down or out of
  reach) is waited out however long it lasts, since the broker keeps the data and a
  restart cannot help; but an error *answer* that persists (HTTP 5xx, 401/403, the
  database missing) ends the process with that answer as the reason, instead of a retry
  loop that would look healthy forever;
- **the writer threads alive** (they beat at least once a second, also while idle or
  waiting, and before every write: a write that hangs stops the beat);
- **the MQTT network thread alive and not stuck** (:mod:`collector.session`: it beats
  every loop iteration).

While all is well it pings systemd's watchdog (``WATCHDOG=1``): if the watchdog thread
itself stops, systemd's ``WatchdogSec`` restarts the unit.

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

    from collector.progress import Progress

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


def stall_reason(
    storage: Progress,
    network_beat: float | None,
    now: float,
    stall_timeout_s: float,
) -> str | None:
    """Why the collector counts as stalled, or None (pure; see the module docstring).

    Args:
        storage: the writer pool's view (:meth:`collector.writer_pool.WriterPool.progress`).
        network_beat: the MQTT network thread's latest beat; None if it has ended.
        now: the same monotonic clock.
        stall_timeout_s: how long each kind of progress may be missing.
    """
    return _threads_stalled(storage, network_beat, now, stall_timeout_s) or _storage_stalled(
        storage, now, stall_timeout_s
    )


def _threads_stalled(
    storage: Progress, network_beat: float | None, now: float, stall_timeout_s: float
) -> str | None:
    silent = now - storage.oldest_beat
    if silent > stall_timeout_s:
        return (
            f"a storage writer has shown no sign of life for {silent:.0f} s "
            f"(limit {stall_timeout_s:g} s)"
        )
    if network_beat is None:
        return "the MQTT network thread has ended: no message can arrive or be acknowledged"
    if (stuck := now - network_beat) > stall_timeout_s:
        return f"the MQTT network thread has been stuck for {stuck:.0f} s"
    return None


def _storage_stalled(storage: Progress, now: float, stall_timeout_s: float) -> str | None:
    if storage.refusing_since is not None:
        refusing = now - storage.refusing_since
        if refusing <= stall_timeout_s:
            return None
        return (
            f"storage has refused every write for {refusing:.0f} s "
            f"(limit {stall_timeout_s:g} s): {storage.failure}"
        )
    idle = now - storage.last_progress
    if storage.waiting and storage.failure is None and idle > stall_timeout_s:
        return (
            f"no reading stored for {idle:.0f} s while {storage.waiting} wait, and no write failed"
        )
    return None


class Watchdog:
    """A thread that calls ``on_stall`` once if the collector stalls, else pings systemd."""

    def __init__(
        self,
        check: Callable[[float], str | None],
        on_stall: Callable[[str], None],
        notifier: SystemdNotifier,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Ask ``check(now)`` once a second why the collector is stalled (None: it is not)."""
        self._check = check
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
            reason = self._check(self._clock())
            if reason is not None:
                log.critical("stalled: %s; stopping so the supervisor starts a fresh one", reason)
                self._on_stall(reason)
                return
            self._notifier.notify("WATCHDOG=1")


__all__ = ["CHECK_INTERVAL_S", "SystemdNotifier", "Watchdog", "stall_reason"]
