"""Store and forward against a real Mosquitto: outbox first, PUBACK out, presence, liveness."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from typing import TYPE_CHECKING, Any

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from edge_agent.config import AgentSettings
from edge_agent.outbox import Outbox
from edge_agent.uplink.assembly import connection_for
from edge_agent.uplink.connection import MqttConnection
from edge_agent.uplink.fallback import Fallback
from edge_agent.uplink.publisher import MqttPublisher
from pelangi.card import em4100
from pelangi.liveness import REBIRTH, is_stale_death
from pelangi.payloads import SCHEMA_VERSION, CardRead, Envelope, InterfaceReading
from pelangi.topics import command_topic
from sandbox.probes import ReadingSubscriber, StatusSubscriber, announce_collector
from sandbox.servers import Mosquitto
from sandbox.waiting import wait_until

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = pytest.mark.servers

SITE = "test-site"
GATEWAY = "gw-test"
CARD = em4100(bytes.fromhex("01001293D8"))
TIMEOUT = 15.0
LIVE_WINDOW_S = 0.5


def _settings(tmp_path: Path, broker: Mosquitto, **extra: Any) -> AgentSettings:
    config: dict[str, Any] = {
        "site": SITE,
        "gateway": GATEWAY,
        "mqtt": {
            "host": broker.host,
            "port": broker.port,
            "reconnect_min_s": 0.1,
            "reconnect_max_s": 0.5,
        },
        "state_dir": str(tmp_path / "state"),
        "outbox": {"live_window_s": LIVE_WINDOW_S},
    }
    return AgentSettings.model_validate(config | extra)


def _card(seq: int, device: str = "rfid-lobby") -> Envelope:
    read = CardRead(seq=seq, ts=time.time_ns(), card=CARD)
    return Envelope(v=SCHEMA_VERSION, site=SITE, gateway=GATEWAY, device=device, readings=(read,))


def _poll(seq: int, device: str = "sw-1") -> Envelope:
    reading = InterfaceReading(seq=seq, ts=time.time_ns(), if_index=1, port="ge-0/0/1")
    return Envelope(
        v=SCHEMA_VERSION, site=SITE, gateway=GATEWAY, device=device, readings=(reading,)
    )


@pytest.fixture
def make_publisher(tmp_path: Path, mosquitto: Mosquitto) -> Iterator[Any]:
    """A factory of publishers for the test's broker; each is closed after the test."""
    made: list[MqttPublisher] = []

    def make(**extra: Any) -> MqttPublisher:
        publisher = MqttPublisher.build(_settings(tmp_path, mosquitto, **extra))
        made.append(publisher)
        return publisher

    yield make
    for publisher in made:
        publisher.close(5)


def _stored(publisher: MqttPublisher) -> int:
    return publisher.outbox.stats().readings


def _seqs(subscriber: ReadingSubscriber, device: str) -> list[int]:
    return [reading.seq for _, reading in subscriber.readings(device)]


def test_a_reading_is_on_disk_before_it_is_sent_and_leaves_after_the_puback(
    mosquitto: Mosquitto, make_publisher: Any
) -> None:
    publisher: MqttPublisher = make_publisher()
    for seq in range(50):
        publisher.submit(_card(seq))  # not started: nothing can be sent yet
    assert _stored(publisher) == 50
    with ReadingSubscriber(mosquitto) as subscriber:
        publisher.start()
        wait_until(lambda: len(_seqs(subscriber, "rfid-lobby")) == 50, timeout=TIMEOUT, what="all")
        wait_until(lambda: _stored(publisher) == 0, timeout=TIMEOUT, what="the outbox empties")
    assert _seqs(subscriber, "rfid-lobby") == list(range(50))
    health = publisher.health()
    assert health.counters["outbox.acknowledged"] == 50
    assert health.problems == ()


def test_an_outage_is_bridged_by_the_outbox_in_order_and_marked_historical(
    mosquitto: Mosquitto, make_publisher: Any
) -> None:
    publisher: MqttPublisher = make_publisher()
    with ReadingSubscriber(mosquitto) as subscriber:
        publisher.start()
        wait_until(lambda: publisher.gate.ready, timeout=TIMEOUT, what="ready")
        publisher.submit(_card(0))
        wait_until(lambda: _seqs(subscriber, "rfid-lobby") == [0], timeout=TIMEOUT, what="live")
        mosquitto.stop()  # graceful: the subscriber's session survives
        wait_until(lambda: not publisher.connection.connected, timeout=TIMEOUT, what="lost")
        for seq in range(1, 301):
            publisher.submit(_card(seq) if seq % 3 else _poll(seq))
        assert _stored(publisher) == 300
        time.sleep(2 * LIVE_WINDOW_S)  # pacing the scenario: the outage outlasts the live window
        mosquitto.start()
        wait_until(lambda: _stored(publisher) == 0, timeout=TIMEOUT, what="the backlog is sent")
        wait_until(
            lambda: len(_seqs(subscriber, "rfid-lobby")) + len(_seqs(subscriber, "sw-1")) >= 301,
            timeout=TIMEOUT,
            what="the subscriber has the backlog",
        )
    cards = subscriber.readings("rfid-lobby")
    assert [r.seq for _, r in cards] == [s for s in range(301) if s % 3 or s == 0]
    assert [historical for historical, _ in cards] == [False] + [True] * (len(cards) - 1)
    assert _seqs(subscriber, "sw-1") == list(range(3, 301, 3))
    # Batched: far fewer messages than readings.
    assert len(subscriber.envelopes) < 50


def test_readings_wait_in_the_outbox_while_no_collector_is_online(
    mosquitto: Mosquitto, make_publisher: Any
) -> None:
    announce_collector(mosquitto, "collector-1", online=False)
    publisher: MqttPublisher = make_publisher()
    with ReadingSubscriber(mosquitto) as subscriber:
        publisher.start()
        for seq in range(20):
            publisher.submit(_card(seq))
        wait_until(
            lambda: (
                "no collector is online (collector-1 offline)" in publisher.connection.waiting_for()
            ),
            timeout=TIMEOUT,
            what="the agent knows the collector is offline",
        )
        # The decision is made: nothing is taken from the outbox while it holds.
        assert publisher.outbox.stats().in_flight_messages == 0
        assert _stored(publisher) == 20
        assert any("collector-1 offline" in p for p in publisher.health().problems)
        assert publisher.health().counters["mqtt.holding"] == 1

        announce_collector(mosquitto, "collector-1", online=True)
        wait_until(lambda: len(_seqs(subscriber, "rfid-lobby")) == 20, timeout=TIMEOUT, what="sent")
    assert _seqs(subscriber, "rfid-lobby") == list(range(20))


def test_a_list_of_primary_collectors_waits_for_every_one(
    mosquitto: Mosquitto, make_publisher: Any
) -> None:
    announce_collector(mosquitto, "collector-1", online=True)
    publisher: MqttPublisher = make_publisher(primary_collectors=["collector-1", "collector-2"])
    publisher.start()
    wait_until(
        lambda: "collector-2 never announced" in publisher.connection.waiting_for(),
        timeout=TIMEOUT,
        what="the agent waits for collector-2",
    )
    announce_collector(mosquitto, "collector-2", online=True)
    wait_until(lambda: publisher.gate.ready, timeout=TIMEOUT, what="both online")
    announce_collector(mosquitto, "collector-1", online=False)  # its Will, say
    wait_until(lambda: not publisher.gate.ready, timeout=TIMEOUT, what="holding again")
    assert "waiting for collector(s) collector-1" in publisher.connection.waiting_for()


def test_primary_collectors_none_trusts_the_broker(
    mosquitto: Mosquitto, make_publisher: Any
) -> None:
    announce_collector(mosquitto, "collector-1", online=False)
    publisher: MqttPublisher = make_publisher(primary_collectors="none")
    with ReadingSubscriber(mosquitto) as subscriber:
        publisher.start()
        publisher.submit(_card(1))
        wait_until(lambda: _seqs(subscriber, "rfid-lobby") == [1], timeout=TIMEOUT, what="sent")


def test_birth_on_every_connect_death_as_will_and_rebirth_on_command(
    mosquitto: Mosquitto, make_publisher: Any
) -> None:
    publisher: MqttPublisher = make_publisher(heartbeat_s=3600)
    with StatusSubscriber(mosquitto) as status:
        publisher.start()
        first = status.wait_for(lambda s: s.online, "a birth")
        assert (first.site, first.gateway, first.bdseq) == (SITE, GATEWAY, 1)
        assert first.agent_version
        assert first.heartbeat_s == 3600

        mosquitto.publish(command_topic(SITE, GATEWAY, REBIRTH), b"please")
        again = status.wait_for(lambda s: s.online and s.ts > first.ts, "a rebirth")
        assert again.bdseq == first.bdseq

        mosquitto.stop()
        mosquitto.start()
        # bdseq counts connection attempts: those that failed while the broker was away too.
        second = status.wait_for(lambda s: s.online and s.bdseq > 1, "a birth after reconnect")
        publisher.close(5)  # leaves with a death: the broker publishes the Will
        death = status.wait_for(
            lambda s: not s.online and s.bdseq == second.bdseq, "the death at shutdown"
        )
    assert not is_stale_death(death, second)
    # The broker's stop fired the first connection's Will too: stale, told apart by bdseq.
    old_deaths = [s for s in status.statuses() if not s.online and s.bdseq < second.bdseq]
    assert all(is_stale_death(d, second) for d in old_deaths)
    assert (publisher.settings.state_dir / "bdseq").read_text().strip() == str(second.bdseq)


def test_the_heartbeat_repeats_the_birth(mosquitto: Mosquitto, make_publisher: Any) -> None:
    publisher: MqttPublisher = make_publisher(heartbeat_s=1)
    with StatusSubscriber(mosquitto) as status:
        publisher.start()
        wait_until(lambda: len(status.statuses()) >= 3, timeout=TIMEOUT, what="3 births")
    births = status.statuses()
    assert all(s.online and s.bdseq == births[0].bdseq for s in births)
    assert [s.ts for s in births] == sorted({s.ts for s in births})


def test_a_refused_reading_is_counted_and_stays_in_the_outbox(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    acl = tmp_path / "read-only.acl"
    acl.write_text("topic read #\n", encoding="utf-8")  # anonymous clients may not publish
    # Mosquitto's own queue settings: with the reference ``max_queued_messages 0``,
    # Mosquitto 2.0.11 drops the connection after a refused publish instead of answering
    # the next one (measured), and this test is about the answer.
    broker = Mosquitto(tmp_path / "broker", extra_conf=f"acl_file {acl}", settings="debian")
    with broker:
        publisher = MqttPublisher.build(_settings(tmp_path, broker))
        try:
            publisher.start()
            with caplog.at_level(logging.ERROR, logger="edge_agent.uplink.connection"):
                publisher.submit(_card(1))
                wait_until(
                    lambda: publisher.outbox.stats().refused_by_broker >= 1,
                    timeout=TIMEOUT,
                    what="the broker's refusal reaches the outbox",
                )
            stats = publisher.outbox.stats()
            assert (stats.events, stats.rejected) == (1, 0)  # kept, to be sent again
            problems = publisher.health().problems
        finally:
            publisher.close(5)
    topic = "pelangi/test-site/gw-test/reading/rfid-lobby"
    assert (
        f"mqtt {broker.address} refused a message on {topic} because: Not authorized (check "
        "the broker's access rules for user (anonymous); the readings stay in the outbox)"
    ) in caplog.text
    assert (
        f"broker refuses topic {topic} (Not authorized): check the ACL for user (anonymous); "
        "the readings stay in the outbox"
    ) in problems


def test_an_unwritable_outbox_falls_back_to_memory_and_recovers(
    tmp_path: Path, mosquitto: Mosquitto, make_publisher: Any, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "outbox-dir"
    blocker.write_text("a file where the outbox folder should be")  # fails even for root
    publisher: MqttPublisher = make_publisher(outbox={"path": str(blocker / "outbox.db")})
    with ReadingSubscriber(mosquitto) as subscriber, caplog.at_level(logging.ERROR):
        publisher.start()
        for seq in range(5):
            publisher.submit(_card(seq))  # never raises
        wait_until(lambda: len(_seqs(subscriber, "rfid-lobby")) == 5, timeout=TIMEOUT, what="sent")
        health = publisher.health()
        assert health.counters["fallback.accepted"] == 5
        assert health.counters["outbox.available"] == 0
        (problem,) = [p for p in health.problems if p.startswith("outbox cannot store")]
        assert f"cannot create the folder {blocker}" in problem
        assert "a file stands where a folder is expected" in problem
        assert "keeping 1 reading(s) in memory" in caplog.text

        blocker.unlink()  # the technician fixes it
        publisher.submit(_card(5))  # every append retries: stored durably again
        wait_until(lambda: 5 in _seqs(subscriber, "rfid-lobby"), timeout=TIMEOUT, what="sent")
        wait_until(
            lambda: publisher.health().problems == (), timeout=TIMEOUT, what="problems clear"
        )
    assert _seqs(subscriber, "rfid-lobby") == list(range(6))


def test_paho_sends_its_unacknowledged_messages_again_after_a_reconnect(
    mosquitto: Mosquitto,
) -> None:
    # Pins the library behaviour behind a fresh paho client per connection
    # (edge_agent.uplink.connection): with one client kept across reconnects, paho re-sends its
    # own unacknowledged QoS 1 messages, and the outbox would send them a second time.
    acked: list[int] = []
    lock = threading.Lock()

    def on_publish(*args: Any) -> None:
        with lock:
            acked.append(args[2])

    client = paho.Client(
        callback_api_version=CallbackAPIVersion.VERSION2, client_id="pin", protocol=paho.MQTTv5
    )
    client.reconnect_delay_set(1, 1)
    client.on_publish = on_publish
    try:
        client.connect(mosquitto.host, mosquitto.port)
        client.loop_start()
        wait_until(client.is_connected, timeout=TIMEOUT, what="connected")
        os.kill(mosquitto.pid, signal.SIGSTOP)  # no PUBACK can come
        mids = {client.publish("pin/x", b"%d" % i, qos=1).mid for i in range(20)}
        os.kill(mosquitto.pid, signal.SIGCONT)
        mosquitto.kill()  # the broker never saw them (still in its socket buffer)
        mosquitto.start()
        wait_until(lambda: set(acked) >= mids, timeout=TIMEOUT, what="paho re-sent them")
    finally:
        client.disconnect()
        client.loop_stop()
        client.on_publish = None


def test_the_brokers_receive_maximum_bounds_messages_in_flight(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with Mosquitto(tmp_path / "broker", extra_conf="max_inflight_messages 5") as broker:
        settings = _settings(tmp_path, broker)
        peak = 0

        class CountingConnection(MqttConnection):
            def publish(self, topic: str, payload: bytes, token: int) -> bool:
                nonlocal peak
                peak = max(peak, publisher._in_flight)  # counted before publishing
                return super().publish(topic, payload, token)

        publisher = MqttPublisher(
            settings,
            outbox=Outbox.open(settings.outbox_path, settings.outbox),
            connection=connection_for(settings, CountingConnection),
            fallback=Fallback(settings.fallback_max_readings),
        )
        try:
            for seq in range(200):  # 50 devices: 50 messages in the outbox's window at once
                publisher.submit(_card(seq, device=f"rfid-{seq % 50}"))
            with ReadingSubscriber(broker) as subscriber:
                publisher.start()
                wait_until(lambda: len(subscriber.of(CardRead)) == 200, timeout=TIMEOUT, what="all")
            assert publisher.gate.receive_maximum == 5
        finally:
            publisher.close(5)
    assert 1 < peak <= 4  # one slot stays free for the birth
    assert "Traceback" not in caplog.text
