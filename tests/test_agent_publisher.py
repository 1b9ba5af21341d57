"""The MQTT publisher against a real Mosquitto: acknowledgements counted, refusals explained."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

import pytest

from edge_agent.publisher import MqttPublisher
from pelangi.card import em4100
from pelangi.mqtt import MqttSettings
from pelangi.payloads import SCHEMA_VERSION, CardRead, Envelope
from pelangi.sandbox.servers import Mosquitto
from pelangi.sandbox.waiting import wait_until

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.servers

CARD = em4100(bytes.fromhex("01001293D8"))


def _envelope(seq: int) -> Envelope:
    read = CardRead(seq=seq, ts=time.time_ns(), card=CARD)
    return Envelope(
        v=SCHEMA_VERSION, site="test-site", gateway="gw-test", device="rfid-lobby", readings=(read,)
    )


def _publisher(broker: Mosquitto) -> MqttPublisher:
    return MqttPublisher(MqttSettings(host=broker.host, port=broker.port), "test-publisher")


def test_every_reading_is_acknowledged_before_close_returns(mosquitto: Mosquitto) -> None:
    publisher = _publisher(mosquitto)
    publisher.start()
    try:
        assert publisher.wait_connected(10)
        for seq in range(500):
            publisher.submit(_envelope(seq))
    finally:
        publisher.close(10)
    stats = publisher.stats()
    assert (stats.published, stats.acknowledged, stats.waiting) == (500, 500, 0)
    assert not stats.connected


def test_readings_submitted_before_the_connection_are_sent_once_connected(
    mosquitto: Mosquitto,
) -> None:
    publisher = _publisher(mosquitto)
    publisher.submit(_envelope(1))  # not even started: paho holds it
    publisher.start()
    try:
        wait_until(
            lambda: publisher.stats().acknowledged == 1,
            timeout=10,
            what="the early reading is acknowledged",
        )
    finally:
        publisher.close(5)


def test_broker_refusal_is_counted_and_explained(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    acl = tmp_path / "read-only.acl"
    acl.write_text("topic read #\n", encoding="utf-8")  # anonymous clients may not publish
    with Mosquitto(tmp_path / "broker", extra_conf=f"acl_file {acl}") as broker:
        publisher = _publisher(broker)
        publisher.start()
        try:
            assert publisher.wait_connected(10)
            with caplog.at_level(logging.ERROR, logger="edge_agent.publisher"):
                publisher.submit(_envelope(1))
                wait_until(
                    lambda: publisher.stats().rejected == 1,
                    timeout=10,
                    what="the broker's refusal reaches the publisher",
                )
        finally:
            publisher.close(5)
    assert publisher.stats().acknowledged == 0
    assert (
        f"mqtt {broker.address} rejected a reading on "
        "pelangi/test-site/gw-test/reading/rfid-lobby because: Not authorized"
    ) in caplog.text


def test_close_gives_up_after_its_timeout_when_the_broker_is_gone(
    mosquitto: Mosquitto, caplog: pytest.LogCaptureFixture
) -> None:
    publisher = _publisher(mosquitto)
    publisher.start()
    assert publisher.wait_connected(10)
    mosquitto.kill()
    wait_until(lambda: not publisher.connected, timeout=10, what="the publisher sees the loss")
    publisher.submit(_envelope(1))
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="edge_agent.publisher"):
        publisher.close(0.5)
    assert time.monotonic() - started < 5
    assert "stopping with 1 reading(s) not yet acknowledged" in caplog.text
