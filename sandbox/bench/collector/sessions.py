"""The broker side: its settings, persistent sessions and the publisher of the backlog."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from pelangi.mqtt import MqttSettings, make_client
from sandbox.bench.collector.runs import STALL_TIMEOUT_S
from sandbox.processes import SandboxError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from paho.mqtt.reasoncodes import ReasonCode

    from sandbox.servers import Mosquitto

MqttProtocol = Literal["3.1.1", "5"]
LoopStyle = Literal["forever", "start"]

SESSION_EXPIRY_S: Final = 3600
PUBLISH_WINDOW: Final = 10_000
"""Unacknowledged publishes allowed in flight (paho refuses more than 65,535)."""

BROKER_CONF: Final = """\
# Unlimited offline queue: the default (1,000) silently drops the rest of a backlog.
max_queued_messages 0
max_queued_bytes 0
# The in-flight window of MQTT 3.1.1 clients; v5 clients ask with Receive Maximum.
max_inflight_messages 1000
"""


@dataclass(frozen=True, slots=True)
class Session:
    """A persistent session on the broker, and how its consumer connects.

    MQTT v5 (what the collector speaks): ``clean_start=False``, a Session Expiry Interval
    and Receive Maximum. MQTT 3.1.1 (paho's default): ``clean_session=False``; the
    broker's ``max_inflight_messages`` is the window.
    """

    client_id: str
    protocol: MqttProtocol = "5"
    receive_maximum: int = 20

    def client(self, broker: Mosquitto) -> paho.Client:
        """A paho client for this session (not connected)."""
        if self.protocol == "5":
            return make_client(MqttSettings(host=broker.host, port=broker.port), self.client_id)
        return paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            clean_session=False,
            protocol=paho.MQTTv311,
        )

    def connect(self, client: paho.Client, broker: Mosquitto) -> None:
        """Connect ``client``, resuming the session."""
        if self.protocol == "3.1.1":
            client.connect(broker.host, broker.port)
            return
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call] # paho
        properties.SessionExpiryInterval = SESSION_EXPIRY_S
        properties.ReceiveMaximum = self.receive_maximum
        client.connect(broker.host, broker.port, clean_start=False, properties=properties)


def register_session(broker: Mosquitto, session: Session, topic_filter: str) -> None:
    """Create ``session`` on the broker with a QoS 1 subscription, and leave it offline."""
    client = session.client(broker)
    subscribed = threading.Event()
    client.on_subscribe = lambda *_args: subscribed.set()
    session.connect(client, broker)
    client.loop_start()
    try:
        client.subscribe(topic_filter, qos=1)
        if not subscribed.wait(10):
            raise SandboxError(f"{session.client_id}: no SUBACK from {broker.address} in 10 s")
    finally:
        client.disconnect()
        client.loop_stop()


class NetworkLoop:
    """Runs a connected client's network loop in a thread, one of paho's two ways.

    ``forever``: ``loop_forever()`` in a thread of our own, as a script's main loop would;
    paho then writes each outgoing packet (a PUBACK) straight to the socket. ``start``:
    paho's ``loop_start()`` thread (what the collector uses), where every outgoing packet
    also wakes the loop through a socketpair.
    """

    def __init__(self, client: paho.Client, style: LoopStyle) -> None:
        """Prepare to run ``client``'s loop; nothing runs until :meth:`start`."""
        self._client = client
        self._style = style
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the loop (the client must have connected)."""
        if self._style == "start":
            self._client.loop_start()
            return
        self._thread = threading.Thread(
            target=self._client.loop_forever, name="bench-mqtt-loop", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Disconnect and wait for the loop to end.

        Raises:
            SandboxError: the loop did not end within 10 s.
        """
        self._client.disconnect()
        if self._style == "start":
            self._client.loop_stop()
            return
        if self._thread is not None:
            self._thread.join(10)
            if self._thread.is_alive():
                raise SandboxError("the MQTT loop did not end within 10 s of disconnecting")


def publish_backlog(broker: Mosquitto, backlog: Sequence[tuple[str, bytes]]) -> float:
    """Publish ``backlog`` at QoS 1; return once the broker acknowledged all (seconds taken).

    Raises:
        SandboxError: the broker refused a message or stopped acknowledging.
    """
    client = Session("bench-publisher").client(broker)
    client.max_inflight_messages_set(100)
    state = threading.Condition()
    acked = published = 0
    refused: list[str] = []

    def on_publish(
        _client: paho.Client,
        _userdata: object,
        _mid: int,
        reason_code: ReasonCode,
        _properties: Properties,
    ) -> None:
        nonlocal acked
        with state:
            acked += 1
            if reason_code.is_failure:
                refused.append(str(reason_code))
            state.notify_all()

    def window_open() -> bool:
        return published - acked < PUBLISH_WINDOW

    client.on_publish = on_publish
    started = time.perf_counter()
    client.connect(broker.host, broker.port)
    client.loop_start()
    try:
        for sent, (topic, payload) in enumerate(backlog):
            with state:
                if not state.wait_for(window_open, STALL_TIMEOUT_S):
                    raise SandboxError(f"the broker stopped acknowledging after {acked:,}")
            info = client.publish(topic, payload, qos=1)
            published += 1
            if info.rc != paho.MQTT_ERR_SUCCESS:
                raise SandboxError(
                    f"publishing message {sent:,} failed: {paho.error_string(info.rc)}"
                )
        with state:
            if not state.wait_for(lambda: acked >= len(backlog), STALL_TIMEOUT_S):
                raise SandboxError(f"the broker acknowledged {acked:,} of {len(backlog):,}")
        if refused:
            raise SandboxError(f"the broker refused {len(refused):,} messages: {refused[0]}")
    finally:
        client.disconnect()
        client.loop_stop()
    return time.perf_counter() - started
