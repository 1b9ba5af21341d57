"""The MQTT network thread: one paho client, connected and kept connected by us.

paho's own ``loop_start()`` thread reconnects with a fixed doubling (1, 2, 4, 8, 16,
30 s: readings resumed 21-30 s after a 40 s broker outage, measured) and dies with any
exception that escapes a callback or a packet handler. :class:`NetworkThread` runs
``client.loop()`` itself instead:

- **reconnects** after a random delay up to ``min(reconnect_max_s, reconnect_min_s *
  2**attempt)`` (full jitter, :class:`pelangi.backoff.Backoff`, as the agent does); the
  attempt count starts again after a connection that lasted :data:`STABLE_S`;
- **never dies of an error**: anything escaping ``loop()`` (a bug, a packet paho cannot
  decode) is logged and treated as a broken connection: the socket is closed, the session
  stays on the broker, and we connect again;
- **deliberate reconnects** (:meth:`NetworkThread.reconnect_now`): a normal DISCONNECT (the
  broker discards our Will: presence stays online) and at once a new CONNECT with the same
  client id and ``clean_start=False``, which makes the broker send again every message we
  have not acknowledged (how the collector takes back messages it left untaken while full);
- **timers** (:meth:`NetworkThread.every`) run on this thread while connected (presence);
- **a heartbeat** (:attr:`NetworkThread.beat`) for the watchdog: the monotonic time of the
  latest loop iteration; it goes stale if the thread is stuck or gone.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import paho.mqtt.client as paho

from pelangi.backoff import Backoff
from pelangi.throttle import ThrottledLog

if TYPE_CHECKING:
    from collections.abc import Callable

    from pelangi.mqtt import MqttSettings

log = logging.getLogger(__name__)

STABLE_S: Final = 30.0
"""A connection that lasted this long starts the backoff again from its shortest delay."""
TICK_S: Final = 0.5
"""Longest wait in one ``loop()`` call: timers and requests are served at least this often."""


@dataclass(slots=True)
class _Timer:
    interval_s: float
    action: Callable[[], None]
    due: float = 0.0


class NetworkThread:
    """Runs ``client``'s network loop on a thread of our own (see the module docstring)."""

    def __init__(
        self,
        client: paho.Client,
        settings: MqttSettings,
        *,
        name: str = "pelangi-mqtt",
        backoff: Backoff | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Drive ``client`` (already ``connect_async()``-ed: host, port, properties set)."""
        self._client = client
        self._address = settings.address
        self._backoff = backoff or Backoff(
            base=settings.reconnect_min_s, cap=settings.reconnect_max_s
        )
        self._clock = clock
        self._wake = threading.Event()
        self._stopping = False
        self._reconnect = False
        self._timers: list[_Timer] = []
        self._connected_at: float | None = None
        self._trouble = ThrottledLog(log, burst=1, interval_s=300.0, clock=clock)
        self.beat = clock()
        """Monotonic time of the latest loop iteration (the watchdog's view)."""
        self._thread = threading.Thread(target=self._main, name=name, daemon=True)

    @property
    def alive(self) -> bool:
        """Whether the thread runs."""
        return self._thread.is_alive()

    def every(self, interval_s: float, action: Callable[[], None]) -> None:
        """Run ``action`` on this thread every ``interval_s`` while connected (call before start).

        The first run is due one interval after each connect (the connect itself is
        handled in ``on_connect``).
        """
        self._timers.append(_Timer(interval_s, action))

    def start(self) -> None:
        """Start connecting (retrying in the background) and serving the connection."""
        # paho's "threaded mode": with no thread of its own (loop_start), paho writes a
        # packet queued by any thread (a writer's PUBACKs and receipts) to the socket on
        # that thread at once, beside ours: interleaved bytes, a broken connection (seen
        # under load). With this set it only wakes our select() and we write.
        self._client._thread = self._thread  # noqa: SLF001 - see above
        self._thread.start()

    def reconnect_now(self) -> None:
        """Disconnect normally (no Will) and connect again at once (any thread)."""
        self._reconnect = True
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        """Send DISCONNECT after everything already queued (acks!), then end the thread."""
        self._stopping = True
        self._wake.set()
        self._thread.join(timeout + 2 * TICK_S)

    # -- the thread ------------------------------------------------------------------------

    def _main(self) -> None:
        while not self._stopping:
            self.beat = self._clock()
            try:
                self._step()
            except Exception:  # the network thread must survive anything: log, reconnect
                log.exception(
                    "unexpected error on the mqtt connection to %s; reconnecting", self._address
                )
                self._drop_connection()
                self._pause(self._backoff.next_delay())
        self._leave()
        self._client._thread = None  # noqa: SLF001 - paho's threaded mode ends with us

    def _step(self) -> None:
        client = self._client
        if client.socket() is None:
            self._connect()
            return
        if self._reconnect:
            self._reconnect = False
            self._disconnect_cleanly()
            return
        rc = client.loop(self._wait())
        self._run_timers()
        if rc != paho.MQTT_ERR_SUCCESS and client.socket() is None:
            self._connection_ended()

    def _connect(self) -> None:
        try:
            self._client.reconnect()
        except (OSError, ValueError) as exc:  # refused, unreachable, timeout, TLS, DNS
            self._trouble.log(
                logging.WARNING, "cannot reach mqtt %s (%s); retrying", self._address, exc
            )
            self._pause(self._backoff.next_delay())
            return
        self._connected_at = self._clock()
        for timer in self._timers:
            timer.due = self._connected_at + timer.interval_s

    def _connection_ended(self) -> None:
        """The connection dropped (paho has called ``on_disconnect``): wait, then reconnect."""
        since, self._connected_at = self._connected_at, None
        if since is not None and self._clock() - since >= STABLE_S:
            self._backoff.reset()
            self._trouble = ThrottledLog(log, burst=1, interval_s=300.0, clock=self._clock)
        if not self._stopping:
            self._pause(self._backoff.next_delay())

    def _disconnect_cleanly(self, timeout: float = 5.0) -> None:
        """DISCONNECT after the queued packets; paho closes the socket once it is written."""
        client = self._client
        client.disconnect()
        deadline = self._clock() + timeout
        while client.socket() is not None and self._clock() < deadline:
            client.loop(TICK_S)
        if client.socket() is not None:
            self._drop_connection()
        self._connected_at = None

    def _drop_connection(self) -> None:
        sock = self._client.socket()
        if sock is not None:
            self._client._sock_close()  # noqa: SLF001 - paho has no public "close now"

    def _leave(self) -> None:
        if self._client.socket() is not None:
            self._disconnect_cleanly()

    def _wait(self) -> float:
        if not self._timers:
            return TICK_S
        left = min(timer.due for timer in self._timers) - self._clock()
        return max(0.0, min(TICK_S, left))

    def _run_timers(self) -> None:
        now = self._clock()
        for timer in self._timers:
            if now >= timer.due:
                timer.due = now + timer.interval_s
                timer.action()

    def _pause(self, seconds: float) -> None:
        """Wait ``seconds`` (less if asked to stop or reconnect), beating meanwhile."""
        end = self._clock() + seconds
        while not self._stopping and (left := end - self._clock()) > 0:
            self.beat = self._clock()
            if self._wake.wait(min(left, TICK_S)):
                self._wake.clear()
                if self._stopping:
                    return
        self.beat = self._clock()


__all__ = ["STABLE_S", "TICK_S", "NetworkThread"]
