"""The collector's own MQTT network thread against a real broker.

Only the network thread writes to the socket, whichever thread queues a packet (writers
queue PUBACKs and receipts); a deliberate reconnect is a normal DISCONNECT (no Will).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import pytest

from collector.mqtt_client import tuned_client
from collector.session import NetworkThread
from pelangi.mqtt import MqttSettings
from sandbox.waiting import wait_until

if TYPE_CHECKING:
    from collections.abc import Iterator

    from collector.mqtt_client import TunedClient
    from sandbox.servers import Mosquitto

pytestmark = pytest.mark.servers

TIMEOUT = 15.0


class Writers:
    """Records which threads write to the client's socket."""

    def __init__(self, client: TunedClient) -> None:
        self.names: set[str] = set()
        self.published = 0
        self.lock = threading.Lock()
        send = client._sock_send

        def recorded(data: bytes | bytearray) -> int:
            with self.lock:
                self.names.add(threading.current_thread().name)
            return send(data)

        client._sock_send = recorded  # type: ignore[method-assign,assignment]
        client.on_publish = self._on_publish

    def _on_publish(self, *_args: object) -> None:
        with self.lock:
            self.published += 1


@pytest.fixture
def connected(mosquitto: Mosquitto) -> Iterator[tuple[TunedClient, NetworkThread, Writers]]:
    settings = MqttSettings(host=mosquitto.host, port=mosquitto.port)
    client = tuned_client(settings, "session-test")
    client.will_set("will/session-test", b"gone", qos=1)
    writers = Writers(client)
    client.connect_async(mosquitto.host, mosquitto.port, keepalive=30)
    network = NetworkThread(client, settings, name="net-under-test")
    network.start()
    wait_until(client.is_connected, timeout=TIMEOUT, what="connected")
    yield client, network, writers
    network.stop()
    client._reset_sockets()


def test_only_the_network_thread_writes_whoever_queues(
    connected: tuple[TunedClient, NetworkThread, Writers],
) -> None:
    client, _, writers = connected

    def queue() -> None:
        for k in range(200):
            client.publish("t/x", b"receipt", qos=1)
            client.ack_many([k + 1])  # unknown ids: harmless to the broker

    others = [threading.Thread(target=queue, name=f"writer-{k}") for k in range(3)]
    for thread in others:
        thread.start()
    for thread in others:
        thread.join(TIMEOUT)
        assert not thread.is_alive(), f"{thread.name} still queueing after {TIMEOUT} s"
    wait_until(lambda: writers.published == 600, timeout=TIMEOUT, what="600 PUBACKs back")
    assert writers.names == {"net-under-test"}


def test_a_deliberate_reconnect_is_a_normal_disconnect_without_the_will(
    mosquitto: Mosquitto, connected: tuple[TunedClient, NetworkThread, Writers]
) -> None:
    client, network, _ = connected
    network.reconnect_now()
    wait_until(
        lambda: (
            mosquitto.log_text().count("New client connected from") >= 2 and client.is_connected()
        ),
        timeout=TIMEOUT,
        what="connected again",
    )
    log = mosquitto.log_text()
    assert "Client session-test disconnected." in log
    assert "closed its connection" not in log
