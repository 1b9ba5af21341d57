"""The connection's life cycle: one connection at a time, in one thread.

In order::

    bdseq += 1 -> begin (new paho client, Will = death(bdseq), connect, network thread)
    -> connected: heartbeat (the birth again, fresh ts) every heartbeat_s
    -> ... connection lost (or no CONNACK within CONNACK_TIMEOUT_S) -> finish
    -> wait a jittered backoff -> again

Why our own reconnect loop: paho doubles its delay without jitter, so 50 gateways that
lost the broker together retry together. Here the delay is drawn uniformly from
``[0, min(reconnect_max_s, reconnect_min_s * 2**attempt)]`` (full jitter,
:class:`pelangi.backoff.Backoff`); the attempt count starts again only after a connection
that lasted :data:`STABLE_S`, so a broker that accepts and drops at once is not hammered.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Final, Protocol

if TYPE_CHECKING:
    import paho.mqtt.client as paho

    from edge_agent.uplink.certificates import BirthDeathCounter
    from pelangi.backoff import Backoff

log = logging.getLogger(__name__)

STABLE_S: Final = 30.0
"""A connection that lasted this long starts the backoff again from its shortest delay."""
CONNACK_TIMEOUT_S: Final = 15.0
"""A broker that accepts TCP but does not answer CONNECT within this time is left."""
TICK_S: Final = 1.0


class Link(Protocol):
    """What the supervisor drives (:class:`edge_agent.uplink.connection.MqttConnection`)."""

    def begin(self, bdseq: int) -> paho.Client | None:
        """Connect a new client for connection ``bdseq``; None if that failed (logged)."""
        ...

    def wait_change(self, timeout: float) -> tuple[bool, bool, bool]:
        """Wait until the connection ended or stopping: return (ended, stopping, connected)."""
        ...

    def heartbeat(self, client: paho.Client) -> None:
        """Publish the birth again with a fresh ts."""
        ...

    def leave(self, client: paho.Client) -> None:
        """Disconnect so that the broker publishes the Will (the agent stops)."""
        ...

    def give_up(self, client: paho.Client) -> None:
        """The broker did not answer the connection request: say so, disconnect."""
        ...

    def finish(self, client: paho.Client) -> None:
        """The connection is over: stop its network thread, drop the client."""
        ...

    def wait_stopping(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s for the agent to stop; return whether it is stopping."""
        ...


class Supervisor:
    """Runs :class:`Link`'s connections until it stops (see the module docstring)."""

    def __init__(
        self, link: Link, bdseq: BirthDeathCounter, backoff: Backoff, heartbeat_s: float
    ) -> None:
        """Drive ``link``, numbering connections with ``bdseq``, pausing by ``backoff``."""
        self._link = link
        self._bdseq = bdseq
        self._backoff = backoff
        self._heartbeat_s = heartbeat_s
        self._thread = threading.Thread(target=self._run, name="mqtt-connection", daemon=True)

    def start(self) -> None:
        """Start the supervisor thread."""
        self._thread.start()

    def join(self, timeout: float) -> bool:
        """Wait for the thread to end (after the link stops); return whether it did."""
        if self._thread.is_alive():
            self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        while not self._link.wait_stopping(0):
            client = self._link.begin(self._bdseq.next())
            lasted = 0.0
            if client is not None:
                lasted = self._serve(client)
                self._link.finish(client)
            if lasted >= STABLE_S:
                self._backoff.reset()
            delay = self._backoff.next_delay()
            log.debug("next attempt to connect in %.1f s", delay)
            if self._link.wait_stopping(delay):
                return

    def _serve(self, client: paho.Client) -> float:
        """Run one connection until it ends (or we stop); return how long it was up."""
        started = time.monotonic()
        connected_at: float | None = None
        next_beat = 0.0
        while True:
            ended, stopping, connected = self._link.wait_change(TICK_S)
            now = time.monotonic()
            if ended:
                break
            if stopping:
                self._link.leave(client)
                break
            if connected:
                if connected_at is None:
                    connected_at = now
                    next_beat = now + self._heartbeat_s
                elif now >= next_beat:
                    next_beat = now + self._heartbeat_s
                    self._link.heartbeat(client)
            elif now - started > CONNACK_TIMEOUT_S:
                self._link.give_up(client)
                break
        return 0.0 if connected_at is None else time.monotonic() - connected_at
