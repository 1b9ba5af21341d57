"""The tuned paho client against a real broker: same messages as paho's path, bulk acks work."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion, _ConnectionState
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from collector.mqtt_client import TunedClient, tuned_client
from pelangi.mqtt import MqttSettings, disconnect_and_stop
from sandbox.waiting import wait_until

if TYPE_CHECKING:
    from sandbox.servers import Mosquitto

pytestmark = pytest.mark.servers

TIMEOUT = 10.0
TOPIC = "pelangi/s/g/reading/d"


def test_paho_still_has_the_internals_the_tuned_client_overrides() -> None:
    for name in ("_handle_publish", "_sock_recv", "_sock_close", "_packet_queue", "loop_read"):
        assert callable(getattr(paho.Client, name)), name
    client = paho.Client(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5)
    assert {"command", "packet"} <= set(client._in_packet)
    assert hasattr(client, "_in_callback_mutex")
    assert hasattr(client, "_state")
    assert _ConnectionState.MQTT_CS_DISCONNECTING.name == "MQTT_CS_DISCONNECTING"


class Received:
    def __init__(self) -> None:
        self.fast: list[tuple[bytes, bytes, int, int]] = []
        self.slow: list[tuple[str, bytes, int, int]] = []
        self.lock = threading.Lock()

    def on_fast(self, topic: bytes, payload: bytes, mid: int, qos: int) -> None:
        with self.lock:
            self.fast.append((topic, payload, mid, qos))

    def on_message(self, _c: paho.Client, _u: object, message: paho.MQTTMessage) -> None:
        with self.lock:
            self.slow.append((message.topic, bytes(message.payload), message.mid, message.qos))

    def total(self) -> int:
        with self.lock:
            return len(self.fast) + len(self.slow)


def session(broker: Mosquitto, received: Received) -> TunedClient:
    client = tuned_client(MqttSettings(host=broker.host, port=broker.port), "tuned-test")
    client.on_fast_message = received.on_fast
    client.on_message = received.on_message
    subscribed = threading.Event()
    client.on_subscribe = lambda *_: subscribed.set()
    props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    props.SessionExpiryInterval = 600
    props.ReceiveMaximum = 1000  # nothing is acked while receiving
    client.connect(broker.host, broker.port, clean_start=False, properties=props)
    client.loop_start()
    client.subscribe(TOPIC, qos=1)
    assert subscribed.wait(TIMEOUT)
    return client


def publish(broker: Mosquitto, payloads: list[bytes], *, with_properties: bool = False) -> None:
    client = paho.Client(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5)
    client.connect(broker.host, broker.port)
    client.loop_start()
    props = None
    if with_properties:
        props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
        props.UserProperty = ("origin", "test")
    for payload in payloads:
        client.publish(TOPIC, payload, qos=1, properties=props).wait_for_publish(TIMEOUT)
    client.disconnect()
    client.loop_stop()


def test_fast_path_and_paho_path_deliver_the_same_messages_and_bulk_acks_stick(
    mosquitto: Mosquitto,
) -> None:
    received = Received()
    client = session(mosquitto, received)
    # Small and large payloads, so the read buffer splits packets at odd places.
    payloads = [bytes([k % 251]) * (k * 997 % 70_000) for k in range(300)]
    publish(mosquitto, payloads)
    publish(mosquitto, [b"with properties"], with_properties=True)
    wait_until(lambda: received.total() == 301, timeout=TIMEOUT, what="301 messages")
    assert [p for _, p, _, _ in received.fast] == payloads
    assert {(t, q) for t, _, _, q in received.fast} == {(TOPIC.encode(), 1)}
    assert [(t, p, q) for t, p, _, q in received.slow] == [(TOPIC, b"with properties", 1)]

    mids = [mid for _, _, mid, _ in received.fast] + [received.slow[0][2]]
    client.ack_many(mids[:200])
    disconnect_and_stop(client)

    # Only the 101 messages not acked come back to the resumed session.
    again = Received()
    client = session(mosquitto, again)
    try:
        wait_until(lambda: again.total() == 101, timeout=TIMEOUT, what="the unacked again")
        assert [p for _, p, _, _ in again.fast] == payloads[200:]
    finally:
        client.disconnect()
        client.loop_stop()
