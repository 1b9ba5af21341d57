"""The MQTT side of the agent: one connection, readings published at QoS 1.

paho-mqtt runs its own network thread (``loop_start``) and reconnects by itself, pacing
retries between ``mqtt.reconnect_min_s`` and ``reconnect_max_s``. While the broker is
unreachable, paho keeps QoS 1 messages in memory and sends them once it is back (paho
refuses more than 65,535 outstanding: those readings are counted as dropped). The
durable outbox of a later issue will take that role; see :mod:`edge_agent.sink`.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import paho.mqtt.client as paho

from pelangi.mqtt import make_client
from pelangi.payloads import encode
from pelangi.throttle import LogThrottle

if TYPE_CHECKING:
    from paho.mqtt.properties import Properties
    from paho.mqtt.reasoncodes import ReasonCode

    from pelangi.mqtt import MqttSettings
    from pelangi.payloads import Envelope

log = logging.getLogger(__name__)

QOS: Final = 1
"""At least once: the broker acknowledges every reading; duplicates are harmless because a
redelivered reading has the same ``ts`` and overwrites itself in InfluxDB."""


@dataclass(frozen=True, slots=True)
class PublisherStats:
    """Counters of one publisher since it started."""

    connected: bool
    published: int
    """Readings handed to the MQTT client (sent, or queued while disconnected)."""
    acknowledged: int
    """Readings the broker confirmed it holds (PUBACK)."""
    rejected: int
    """Readings the broker refused (PUBACK with an error, e.g. not authorised)."""
    dropped: int
    """Readings the MQTT client could not even queue."""

    @property
    def waiting(self) -> int:
        """Readings published but neither acknowledged nor rejected yet."""
        return max(0, self.published - self.acknowledged - self.rejected)


class MqttPublisher:
    """Publish envelopes to the broker at QoS 1; a :class:`edge_agent.sink.ReadingSink`."""

    def __init__(self, settings: MqttSettings, client_id: str) -> None:
        """Prepare (not connect) a client with the fixed ``client_id`` of this gateway."""
        self.settings = settings
        self.client_id = client_id
        self._client = make_client(settings, client_id)
        self._client.on_connect = self._on_connect
        self._client.on_connect_fail = self._on_connect_fail
        self._client.on_disconnect = self._on_disconnect
        self._client.on_publish = self._on_publish
        self._connected = threading.Event()
        self._closing = False
        self._started = False
        self._lock = threading.Condition()
        self._topics: dict[int, str] = {}  # message id -> topic, until the broker answers
        self._early: dict[int, ReasonCode] = {}  # answers that beat submit() to its bookkeeping
        self._published = self._acknowledged = self._rejected = self._dropped = 0
        self._unreachable = LogThrottle(burst=1, interval_s=300.0)
        self._refusals = LogThrottle(burst=5, interval_s=60.0)

    @property
    def connected(self) -> bool:
        """True while connected to the broker."""
        return self._connected.is_set()

    def wait_connected(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the connection; return True if connected."""
        return self._connected.wait(timeout)

    def summary(self) -> str:
        """One line for the periodic statistics log."""
        stats = self.stats()
        state = "connected" if stats.connected else "not connected"
        text = (
            f"mqtt {self.settings.address} {state}: {stats.published} published, "
            f"{stats.acknowledged} acknowledged, {stats.waiting} waiting"
        )
        if stats.rejected or stats.dropped:
            text += f", {stats.rejected} rejected, {stats.dropped} dropped"
        return text

    def start(self) -> None:
        """Start connecting in the background; returns at once."""
        log.info("connecting to mqtt %s as %s", self.settings.address, self.client_id)
        self._client.connect_async(
            self.settings.host, self.settings.port, keepalive=self.settings.keepalive_s
        )
        self._client.loop_start()
        self._started = True

    def submit(self, envelope: Envelope) -> None:
        """Publish ``envelope`` at QoS 1 on its topic (queued in memory while disconnected)."""
        topic = str(envelope.topic)
        info = self._client.publish(topic, encode(envelope), qos=QOS)
        if info.rc not in (paho.MQTT_ERR_SUCCESS, paho.MQTT_ERR_NO_CONN):
            with self._lock:
                self._dropped += 1
            log.error(
                "dropped a reading for %s: the MQTT client cannot queue it (%s); "
                "too many readings are waiting for mqtt %s",
                envelope.device,
                paho.error_string(info.rc),
                self.settings.address,
            )
            return
        with self._lock:
            self._published += 1
            early = self._early.pop(info.mid, None)
            if early is None:
                self._topics[info.mid] = topic
            else:
                self._settle(topic, early)

    def stats(self) -> PublisherStats:
        """A snapshot of the counters."""
        with self._lock:
            return PublisherStats(
                connected=self.connected,
                published=self._published,
                acknowledged=self._acknowledged,
                rejected=self._rejected,
                dropped=self._dropped,
            )

    def close(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds for outstanding acknowledgements, then disconnect."""
        if not self._started:
            return
        with self._lock:
            self._lock.wait_for(
                lambda: self._published <= self._acknowledged + self._rejected, timeout
            )
        waiting = self.stats().waiting
        if waiting:
            log.warning(
                "stopping with %d reading(s) not yet acknowledged by mqtt %s; they are lost",
                waiting,
                self.settings.address,
            )
        self._closing = True
        self._client.disconnect()
        self._client.loop_stop()
        # paho closes its internal socket pair only when the client object is freed. Our
        # bound-method callbacks make a reference cycle that only the garbage collector
        # would break (in any order, so the sockets may be finalised first and warn):
        # dropping them lets the client go as soon as this publisher does.
        _drop_callbacks(self._client)

    # paho callbacks: they run in paho's network thread.

    def _on_connect(
        self,
        _client: paho.Client,
        _userdata: Any,  # noqa: ANN401 - paho's signature
        _flags: paho.ConnectFlags,
        reason_code: ReasonCode,
        _properties: Properties | None,
    ) -> None:
        if reason_code.is_failure:
            # paho tries again by itself; a wrong password would otherwise log every retry.
            self._connect_trouble(
                f"mqtt {self.settings.address} refused the connection: {reason_code}"
            )
            return
        self._connected.set()
        self._unreachable.reset()
        waiting = self.stats().waiting
        backlog = f"; sending {waiting} waiting reading(s)" if waiting else ""
        log.info("connected to mqtt %s%s", self.settings.address, backlog)

    def _on_connect_fail(self, _client: paho.Client, _userdata: Any) -> None:  # noqa: ANN401
        self._connect_trouble(f"cannot reach mqtt {self.settings.address}")

    def _connect_trouble(self, problem: str) -> None:
        """Log a failed connection attempt: the first in full, then a summary every 5 min."""
        now = time.monotonic()
        if self._unreachable.allow(now):
            log.warning(
                "%s; trying again every %.0f s at most", problem, self.settings.reconnect_max_s
            )
        else:
            log.debug("%s; trying again", problem)
        missed = self._unreachable.due(now).total()
        if missed:
            log.warning(
                "%s (%d more attempts); %d reading(s) waiting",
                problem,
                missed,
                self.stats().waiting,
            )

    def _on_disconnect(
        self,
        _client: paho.Client,
        _userdata: Any,  # noqa: ANN401 - paho's signature
        _flags: paho.DisconnectFlags,
        reason_code: ReasonCode,
        _properties: Properties | None,
    ) -> None:
        was_connected = self._connected.is_set()
        self._connected.clear()
        if self._closing:
            log.info("disconnected from mqtt %s", self.settings.address)
        elif was_connected:
            log.warning(
                "lost connection to mqtt %s (%s); reconnecting", self.settings.address, reason_code
            )

    def _on_publish(
        self,
        _client: paho.Client,
        _userdata: Any,  # noqa: ANN401 - paho's signature
        mid: int,
        reason_code: ReasonCode,
        _properties: Properties,
    ) -> None:
        with self._lock:
            topic = self._topics.pop(mid, None)
            if topic is None:
                self._early[mid] = reason_code
            else:
                self._settle(topic, reason_code)

    def _settle(self, topic: str, reason_code: ReasonCode) -> None:
        """Count the broker's answer for a reading on ``topic`` (called with the lock held)."""
        if reason_code.is_failure:
            self._rejected += 1
            now = time.monotonic()
            if self._refusals.allow(now):
                log.error(
                    "mqtt %s rejected a reading on %s because: %s "
                    "(check the broker's access rules for this gateway)",
                    self.settings.address,
                    topic,
                    reason_code,
                )
            missed = self._refusals.due(now).total()
            if missed:
                log.error(
                    "mqtt %s rejected %d more reading(s) in the last minute",
                    self.settings.address,
                    missed,
                )
        else:
            self._acknowledged += 1
        self._lock.notify_all()


def _drop_callbacks(client: paho.Client) -> None:
    client.on_connect = None
    client.on_connect_fail = None
    client.on_disconnect = None
    client.on_publish = None
