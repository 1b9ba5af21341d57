"""The connection's state: the current client, connected, ended or stopping; the counters.

No network IO, one condition variable. Three threads meet here: paho's network thread
of the current client changes it (CONNACK, PUBACKs, the end of the connection), the
supervisor (:mod:`edge_agent.uplink.supervisor`) waits on it, and the publishing threads
read it. :class:`edge_agent.uplink.connection.MqttConnection` acts on what it says.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from edge_agent.uplink.delivery import ConnectionStats
from edge_agent.uplink.pubacks import Pubacks

if TYPE_CHECKING:
    import paho.mqtt.client as paho
    from paho.mqtt.reasoncodes import ReasonCode


class ConnectionState:
    """One connection at a time: its client, where it stands, and the counters."""

    def __init__(self) -> None:
        """No client yet, nothing counted."""
        self._cond = threading.Condition()
        # Under _cond.
        self._client: paho.Client | None = None
        self._connected = False
        self._ended = False  # the current client's connection is over
        self._stopping = False
        self._bdseq = 0
        self._pubacks: Pubacks[ReasonCode] = Pubacks()  # current connection only
        self._attempts = self._connections = self._births = 0

    @property
    def connected(self) -> bool:
        """True while connected to the broker."""
        with self._cond:
            return self._connected

    def stats(self, *, receipts: int, receipt_mode: bool) -> ConnectionStats:
        """A snapshot of the counters, with the inbox's and the gate's figures."""
        with self._cond:
            return ConnectionStats(
                connected=self._connected,
                attempts=self._attempts,
                connections=self._connections,
                births=self._births,
                bdseq=self._bdseq,
                receipts=receipts,
                receipt_mode=receipt_mode,
            )

    # The supervisor's side.

    def attempt(self, bdseq: int) -> None:
        """A new client is about to connect, as connection ``bdseq``."""
        with self._cond:
            self._attempts += 1
            self._bdseq = bdseq

    def began(self, client: paho.Client) -> None:
        """``client`` has sent its CONNECT: it is the current one, its connection not over."""
        with self._cond:
            self._client = client
            self._ended = False

    def finished(self) -> None:
        """The current client is done with."""
        with self._cond:
            self._client = None

    def stop(self) -> None:
        """The agent stops: wake the supervisor."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()

    def wait_change(self, timeout: float) -> tuple[bool, bool, bool]:
        """Wait until the connection ended or stopping: return (ended, stopping, connected)."""
        with self._cond:
            self._cond.wait_for(lambda: self._ended or self._stopping, timeout)
            return self._ended, self._stopping, self._connected

    def wait_stopping(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s for :meth:`stop`; return whether it was called."""
        with self._cond:
            return self._cond.wait_for(lambda: self._stopping, timeout)

    # paho's network thread.

    def up(self) -> int:
        """The broker accepted the connection: return its ``bdseq``."""
        with self._cond:
            self._connected = True
            self._connections += 1
            return self._bdseq

    def down(self) -> tuple[bool, bool]:
        """The connection ended: return (whether it was connected, whether stopping).

        Nothing published on it will be answered now.
        """
        with self._cond:
            was_connected = self._connected
            self._connected = False
            self._ended = True
            self._pubacks.clear()
            self._cond.notify_all()
            return was_connected, self._stopping

    def answered(self, mid: int, reason: ReasonCode) -> tuple[int, str] | None:
        """The broker answered ``mid``: its (token, topic), or None if not recorded yet."""
        with self._cond:
            return self._pubacks.answered(mid, reason)

    # Publishing (any thread).

    def publishing_client(self) -> paho.Client | None:
        """The client to publish with: the current one while connected, else None."""
        with self._cond:
            return self._client if self._connected else None

    def sent(
        self, client: paho.Client, mid: int, token: int, topic: str
    ) -> tuple[bool, ReasonCode | None]:
        """``client`` published ``mid`` for ``token``: record it.

        Returns whether ``client`` is still current and connected (if not, the message
        counts as not sent), and the broker's answer if it came first.
        """
        with self._cond:
            if self._client is not client or not self._connected:
                return False, None
            return True, self._pubacks.sent(mid, token, topic)

    def birth(self, client: paho.Client) -> int | None:
        """A birth is to go out on ``client``: count it, return the ``bdseq`` it carries.

        None if ``client`` is no longer the current one (nothing is counted).
        """
        with self._cond:
            if self._client is not client:
                return None
            self._births += 1
            return self._bdseq
