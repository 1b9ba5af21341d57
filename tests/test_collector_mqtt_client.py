"""The tuned paho client: same messages as paho's own path, bulk acks, malformed packets.

Against a real broker: the fast path delivers what paho's path does and bulk acks stick.
From a raw socket (a fake broker that sends a CONNACK, then arbitrary bytes; Hypothesis):
whatever the bytes, the tuned client delivers what paho delivers and ends as paho does
with a malformed packet, never with an exception out of its network loop.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from typing import TYPE_CHECKING, Final

import paho.mqtt.client as paho
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from paho.mqtt.enums import CallbackAPIVersion, _ConnectionState
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from collector.mqtt_client import TunedClient, tuned_client
from collector.session import NetworkThread
from pelangi.backoff import Backoff
from pelangi.mqtt import MqttSettings, disconnect_and_stop
from sandbox.waiting import wait_until

if TYPE_CHECKING:
    from collections.abc import Iterator

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


# -- malformed and truncated packets from a raw socket (Hypothesis) ---------------------

CONNACK_V5: Final = bytes([0x20, 3, 0, 0, 0])
"""CONNACK (MQTT v5): session not present, success, no properties."""


def remaining_length(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def publish_packet(topic: bytes, payload: bytes, qos: int, mid: int, props: bytes) -> bytes:
    body = len(topic).to_bytes(2, "big") + topic
    if qos:
        body += mid.to_bytes(2, "big")
    body += remaining_length(len(props)) + props + payload
    return bytes([0x30 | qos << 1]) + remaining_length(len(body)) + body


class FakeBroker:
    """Accepts one connection at a time: reads CONNECT, sends CONNACK, then given bytes."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.server.getsockname()[1]
        self.server.settimeout(TIMEOUT)

    def serve(self, chunks: list[bytes]) -> threading.Thread:
        def main() -> None:
            conn, _ = self.server.accept()
            # The client may close first (a protocol error): then the rest is not sent.
            with conn, contextlib.suppress(OSError):
                read_packet(conn)  # CONNECT
                conn.sendall(CONNACK_V5)
                for chunk in chunks:
                    conn.sendall(chunk)
                conn.shutdown(socket.SHUT_WR)
                while conn.recv(65536):
                    pass  # until the client closes: no reset before it read everything

        thread = threading.Thread(target=main, daemon=True)
        thread.start()
        return thread

    def close(self) -> None:
        self.server.close()


def read_packet(conn: socket.socket) -> bytes:
    head = conn.recv(1)
    length, shift = 0, 0
    while True:
        byte = conn.recv(1)[0]
        length |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            break
    body = b""
    while len(body) < length:
        body += conn.recv(length - len(body))
    return head + body


Outcome = tuple[list[tuple[bytes, bytes, int, int]], str]


def outcome(broker: FakeBroker, chunks: list[bytes], client: paho.Client) -> Outcome:
    """What ``client`` makes of the bytes: the messages it delivered, and how it ended."""
    messages: list[tuple[bytes, bytes, int, int]] = []

    def on_message(_c: paho.Client, _u: object, message: paho.MQTTMessage) -> None:
        messages.append((message._topic, bytes(message.payload), message.mid, message.qos))

    client.on_message = on_message
    if isinstance(client, TunedClient):
        client.on_fast_message = lambda t, p, m, q: messages.append((t, p, m, q))
    served = broker.serve(chunks)
    client.connect("127.0.0.1", broker.port, keepalive=60)
    end = "open"
    try:
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            rc = client.loop(0.2)
            if client.socket() is None:
                end = "protocol error" if rc == paho.MQTT_ERR_PROTOCOL else "closed"
                break
    except Exception as exc:  # noqa: BLE001 - what escapes is the outcome
        end = f"raised {type(exc).__name__}"
    finally:
        if client.socket() is not None:
            client._sock_close()
        client._reset_sockets()
    served.join(TIMEOUT)
    assert not served.is_alive(), "the fake broker still serves a client that has closed"
    return messages, end


_topics = st.binary(min_size=0, max_size=12)
_valid_publish = st.builds(
    publish_packet,
    topic=_topics,
    payload=st.binary(max_size=300),
    qos=st.integers(0, 2),
    mid=st.integers(1, 65535),
    props=st.sampled_from([b"", b"\x01\x01", b"\x23\x00\x05", b"\x26\x00\x01a\x00\x01b", b"\x99"]),
)
_packets = st.one_of(
    _valid_publish,
    # A PUBLISH cut short, or with a remaining length that lies about its body.
    st.tuples(_valid_publish, st.integers(1, 40)).map(
        lambda pair: (
            pair[0][:1]
            + remaining_length(max(0, len(pair[0]) - 2 - pair[1]))
            + pair[0][2 : max(2, len(pair[0]) - pair[1])]
        )
    ),
    st.tuples(st.integers(0x30, 0x3F), st.binary(max_size=20)).map(
        lambda pair: bytes([pair[0]]) + remaining_length(len(pair[1])) + pair[1]
    ),
    st.just(bytes([0xD0, 0])),  # PINGRESP
)


@pytest.fixture(scope="module")
def fake_broker() -> Iterator[FakeBroker]:
    broker = FakeBroker()
    yield broker
    broker.close()


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(packets=st.lists(_packets, min_size=1, max_size=8), cuts=st.lists(st.integers(1, 400)))
def test_the_tuned_client_ends_like_paho_on_any_publish_bytes_and_never_raises(
    fake_broker: FakeBroker, packets: list[bytes], cuts: list[int]
) -> None:
    stream = b"".join(packets)
    chunks, pos = [], 0
    for cut in cuts:  # arbitrary TCP segment boundaries: exercises the read buffer
        chunks.append(stream[pos : pos + cut])
        pos += cut
    chunks.append(stream[pos:])
    chunks = [chunk for chunk in chunks if chunk]
    settings_ = MqttSettings(host="127.0.0.1", port=fake_broker.port)
    tuned_messages, tuned_end = outcome(fake_broker, chunks, tuned_client(settings_, "fuzz"))
    plain = paho.Client(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5, manual_ack=True)
    paho_messages, paho_end = outcome(fake_broker, chunks, plain)
    assert tuned_messages == paho_messages
    assert not tuned_end.startswith("raised"), tuned_end
    # A packet paho cannot decode ends both: paho with an exception (or as malformed),
    # the tuned client always as malformed (a protocol error, as paho does).
    if paho_end.startswith("raised") or paho_end == "protocol error":
        assert tuned_end == "protocol error", paho_end
    else:
        assert tuned_end == paho_end


@pytest.mark.parametrize(
    "garbage",
    [
        bytes([0x32, 0x01, 0x00]),  # a QoS 1 PUBLISH cut inside its topic length
        bytes([0x90, 0x02, 0x00]),  # a SUBACK without its reason codes
        bytes([0x40, 0x00]),  # a PUBACK without a packet id
        bytes([0xFF, 0xFF, 0xFF, 0xFF, 0xFF]),  # a remaining length of more than 4 bytes
        bytes([0x20, 0x03, 0x00, 0x00, 0x00]),  # a second CONNACK
    ],
)
def test_the_network_thread_survives_any_bytes_and_connects_again(
    fake_broker: FakeBroker, garbage: bytes
) -> None:
    received = Received()
    client = tuned_client(MqttSettings(host="127.0.0.1", port=fake_broker.port), "survivor")
    client.on_fast_message = received.on_fast
    client.connect_async("127.0.0.1", fake_broker.port, keepalive=60)
    network = NetworkThread(
        client,
        MqttSettings(host="127.0.0.1", port=fake_broker.port),
        backoff=Backoff(base=0.01, cap=0.05),
    )
    first = fake_broker.serve([garbage])
    network.start()
    try:
        first.join(TIMEOUT)
        assert not first.is_alive(), "the client kept the connection that sent garbage"
        second = fake_broker.serve([publish_packet(b"a/b", b"after", 1, 7, b"")])
        wait_until(lambda: received.total() == 1, timeout=TIMEOUT, what="the next connection")
        assert network.alive
    finally:
        network.stop()
        client._reset_sockets()
    second.join(TIMEOUT)
    assert not second.is_alive(), "the fake broker still serves a client that has stopped"
    assert received.fast == [(b"a/b", b"after", 7, 1)]
