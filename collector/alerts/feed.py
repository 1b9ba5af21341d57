"""The alert engine's MQTT session: readings and gateway status in, acks out after they count.

One persistent, non-shared MQTT v5 session (``clean_start=False``, a Session Expiry
Interval), QoS 1 subscriptions to every reading (:func:`pelangi.topics.reading_filter`)
and every gateway's status (:func:`pelangi.topics.status_filter`), and manual acks. The
client is the collector's (:func:`collector.mqtt_client.tuned_client`) driven by the
collector's network thread (:class:`collector.session.NetworkThread`: jittered
reconnects, never dies of an error); only the consuming side is the engine's own.

Messages are queued for the engine thread as :class:`Message` values; the engine acks
them (:meth:`Feed.ack`) only once their effects are committed to the state database, so
a crash at any point leaves every message whose effect was not stored with the broker,
which sends it again to the next connection of this session.

Acks name a message by its packet id, which only means something within one broker
session: like :mod:`collector.subscriber`, each message carries the session it came from,
and acks for messages of an earlier session (the broker started afresh: ``session
present`` 0) are dropped rather than sent, where they could ack another message.
"""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from collector.mqtt_client import tuned_client
from collector.session import NetworkThread
from pelangi.topics import reading_filter, status_filter

if TYPE_CHECKING:
    from collections.abc import Iterable

    import paho.mqtt.client as paho
    from paho.mqtt.reasoncodes import ReasonCode

    from pelangi.mqtt import MqttSettings

log = logging.getLogger(__name__)

QOS: Final = 1
RECEIVE_MAXIMUM: Final = 1000
"""Unacked messages the broker may send us at once: a bound on what waits in memory
(the broker overshoots it somewhat once acks flow: ENV-NOTES), and room for a burst."""
FILTERS: Final = (reading_filter(), status_filter())


def client_id(session: str) -> str:
    """The MQTT client id of the engine session named ``session``."""
    return f"pelangi-alerts-{session}"


@dataclass(frozen=True, slots=True)
class Message:
    """One message for the engine: its topic, payload, and what acks it (None: QoS 0)."""

    topic: str
    payload: bytes
    token: int | None


class Feed:
    """The session of the module docstring; messages are taken with :meth:`get`."""

    def __init__(self, settings: MqttSettings, session: str, expiry_s: int) -> None:
        """Build the client for session ``session``; nothing connects until :meth:`start`."""
        self._settings = settings
        self._client_id = client_id(session)
        self._expiry_s = expiry_s
        self._client = tuned_client(settings, self._client_id)
        self._client.on_connect = self._on_connect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._client.on_fast_message = self._on_fast_message
        self._network = NetworkThread(self._client, settings, name="pelangi-alerts-mqtt")
        self._lock = threading.Lock()
        self._session = 0
        self._held: set[int] = set()
        self._queue: queue.SimpleQueue[Message] = queue.SimpleQueue()
        self.connected = threading.Event()
        """Set while the broker has our subscriptions (tests and logs wait on it)."""

    def start(self) -> None:
        """Connect (retrying in the background) and start receiving."""
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call] # paho
        properties.SessionExpiryInterval = self._expiry_s
        properties.ReceiveMaximum = RECEIVE_MAXIMUM
        log.info(
            "alert engine connecting to mqtt %s as %s", self._settings.address, self._client_id
        )
        self._client.connect_async(
            self._settings.host,
            self._settings.port,
            keepalive=self._settings.keepalive_s,
            clean_start=False,
            properties=properties,
        )
        self._network.start()

    def get(self, timeout: float) -> Message | None:
        """The next message, waiting at most ``timeout`` seconds (None: none came)."""
        try:
            return self._queue.get(timeout=max(0.0, timeout))
        except queue.Empty:
            return None

    def get_nowait(self) -> Message | None:
        """The next message if one waits."""
        try:
            return self._queue.get_nowait()
        except queue.Empty:
            return None

    def ack(self, tokens: Iterable[int | None]) -> None:
        """Acknowledge messages whose effects are stored (any thread)."""
        with self._lock:
            mids = [t & 0xFFFF for t in tokens if t is not None and t >> 16 == self._session]
            self._held.difference_update(mids)
            self._client.ack_many(mids)

    def stop(self) -> None:
        """Disconnect after the acks already queued; unacked messages stay with the broker."""
        self._network.stop()
        # See collector.subscriber.Subscriber.close: free paho's socket pair ourselves.
        self._client._reset_sockets()  # noqa: SLF001
        self.connected.clear()

    # -- paho callbacks (network thread) -----------------------------------------------------

    def _on_connect(
        self,
        client: paho.Client,
        _userdata: Any,  # noqa: ANN401 - paho's signature
        flags: paho.ConnectFlags,
        reason_code: ReasonCode,
        _properties: Properties | None,
    ) -> None:
        if reason_code.is_failure:
            log.error("mqtt %s refused the alert engine: %s", self._settings.address, reason_code)
            return
        with self._lock:
            if not flags.session_present:
                self._session = (self._session + 1) & 0xFFFF
                self._held.clear()
        log.info(
            "alert engine connected to mqtt %s (%s)",
            self._settings.address,
            "session resumed" if flags.session_present else "new session",
        )
        # Renewed on every connect: harmless when the session holds them, needed when the
        # broker lost it. Retained status (the last birth or Will of each gateway) only on
        # a new subscription: a resumed session has seen them.
        options = SubscribeOptions(qos=QOS, retainHandling=SubscribeOptions.RETAIN_SEND_IF_NEW_SUB)
        client.subscribe([(topic, options) for topic in FILTERS])

    def _on_subscribe(
        self,
        _client: paho.Client,
        _userdata: Any,  # noqa: ANN401 - paho's signature
        _mid: int,
        reason_codes: list[ReasonCode],
        _properties: Properties | None,
    ) -> None:
        refused = [code for code in reason_codes if code.is_failure]
        if refused:
            log.error(
                "mqtt %s refused the alert engine's subscriptions %s: %s (check the ACL)",
                self._settings.address,
                FILTERS,
                refused[0],
            )
            return
        log.info("alert engine subscribed to %s: watching", ", ".join(FILTERS))
        self.connected.set()

    def _on_disconnect(
        self,
        _client: paho.Client,
        _userdata: Any,  # noqa: ANN401 - paho's signature
        _flags: paho.DisconnectFlags,
        reason_code: ReasonCode,
        _properties: Properties | None,
    ) -> None:
        self.connected.clear()
        log.info("alert engine disconnected from mqtt %s (%s)", self._settings.address, reason_code)

    def _on_message(
        self,
        _client: paho.Client,
        _userdata: Any,  # noqa: ANN401 - paho's signature
        message: paho.MQTTMessage,
    ) -> None:
        # Messages with MQTT v5 properties come this way (paho decoded them).
        self._on_fast_message(message._topic, bytes(message.payload), message.mid, message.qos)  # noqa: SLF001

    def _on_fast_message(self, topic: bytes, payload: bytes, mid: int, qos: int) -> None:
        token: int | None = None
        if qos:
            with self._lock:
                if mid in self._held:
                    return  # a re-sent copy of one we hold: acking that one covers both
                self._held.add(mid)
                token = self._session << 16 | mid
        self._queue.put(Message(topic.decode("utf-8", errors="replace"), payload, token))


__all__ = ["FILTERS", "Feed", "Message", "client_id"]
