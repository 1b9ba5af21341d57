"""Doors and switches through the real agent: a socat pty as the door controller,
Mosquitto as both the central and the Zigbee2MQTT broker, snmpd as the switch."""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING

import pytest

from edge_agent.config import AgentSettings
from pelangi.mqtt import MqttSettings
from pelangi.payloads import AgentHealth, DoorReading, InterfaceReading, Reachability
from sandbox.probes import AgentThread, ReadingSubscriber
from sandbox.snmpd import COMMUNITY
from sandbox.waiting import wait_until

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from sandbox.servers import Mosquitto, SerialPty
    from sandbox.snmpd import Snmpd

pytestmark = pytest.mark.servers

TIMEOUT = 15.0


def _settings(tmp_path: Path, broker: Mosquitto, **devices: object) -> AgentSettings:
    mqtt = MqttSettings(host=broker.host, port=broker.port, reconnect_max_s=1)
    return AgentSettings.model_validate(
        {
            "site": "test-site",
            "gateway": "gw-test",
            "mqtt": mqtt.model_dump(),
            "state_dir": str(tmp_path / "state"),
            **devices,
        }
    )


def test_serial_door_controller_changes_and_noise(
    tmp_path: Path, mosquitto: Mosquitto, make_pty: Callable[[str], SerialPty]
) -> None:
    pty = make_pty("ttyDOORS")
    doors = [
        {"id": "pintu-utama", "source": "serial", "port": str(pty.device), "remote_id": "d1"},
        {"id": "pintu-server", "source": "serial", "port": str(pty.device), "remote_id": "d2"},
    ]
    settings = _settings(tmp_path, mosquitto, doors=doors)
    with ReadingSubscriber(mosquitto) as subscriber, AgentThread(settings):
        wait_until(
            lambda: pty.is_open_by(os.getpid()),
            timeout=TIMEOUT,
            what="the agent has the controller's port open",
        )
        # Noise, a partial line completed by the next write, an unknown door, a bad state.
        pty.write(b"\x00\xffboot v1.2\nDOOR d1 OP")
        pty.write(b"EN\r\nDOOR d9 OPEN\nDOOR d2 AJAR\n" + b"Z" * 5000 + b"\n")
        pty.write(b"DOOR d2 CLOSED\nDOOR d1 CLOSED\n")
        wait_until(
            lambda: len([r for r in subscriber.of(DoorReading) if r.change]) >= 3,
            timeout=TIMEOUT,
            what="three door changes reach the broker",
        )
    main = [r.state for r in subscriber.of(DoorReading, "pintu-utama") if r.change]
    server = [r.state for r in subscriber.of(DoorReading, "pintu-server") if r.change]
    assert main == ["open", "closed"]
    assert server == ["closed"]


def test_zigbee2mqtt_contact_sensor(tmp_path: Path, mosquitto: Mosquitto) -> None:
    doors = [{"id": "pintu-rapat", "source": "zigbee2mqtt", "topic": "zigbee2mqtt/rapat"}]
    local = {"host": mosquitto.host, "port": mosquitto.port}
    settings = _settings(tmp_path, mosquitto, doors=doors, door_options={"zigbee2mqtt": local})
    with ReadingSubscriber(mosquitto) as subscriber, AgentThread(settings):
        wait_until(
            lambda: mosquitto.has_subscribed(f"{settings.client_id}-zigbee", "zigbee2mqtt/rapat"),
            timeout=TIMEOUT,
            what="the agent listens to Zigbee2MQTT",
        )
        mosquitto.publish("zigbee2mqtt/rapat", json.dumps({"contact": False, "battery": 90}))
        mosquitto.publish("zigbee2mqtt/rapat", "not json")
        mosquitto.publish("zigbee2mqtt/rapat", json.dumps({"contact": True}))
        wait_until(
            lambda: len(subscriber.of(DoorReading, "pintu-rapat")) >= 2,
            timeout=TIMEOUT,
            what="two Zigbee door changes reach the broker",
        )
    states = [r.state for r in subscriber.of(DoorReading, "pintu-rapat") if r.change]
    assert states == ["open", "closed"]  # contact: false = open; true = closed


def test_switch_interfaces_rates_and_reachability(
    tmp_path: Path, mosquitto: Mosquitto, snmpd: Snmpd
) -> None:
    switch = {
        "id": "sw-lantai1",
        "host": snmpd.host,
        "port": snmpd.port,
        "community": COMMUNITY,
        "interval_s": 1,
        "timeout_s": 0.5,
        "retries": 0,
    }
    settings = _settings(tmp_path, mosquitto, switches=[switch], health_interval_s=5)
    with ReadingSubscriber(mosquitto) as subscriber, AgentThread(settings):
        # Two polls: the second has rates (the first is the baseline).
        wait_until(
            lambda: any(r.in_bps is not None for r in subscriber.of(InterfaceReading)),
            timeout=TIMEOUT,
            what="an interface reading with a rate",
        )
        snmpd.stop()
        wait_until(
            lambda: subscriber.of(Reachability),
            timeout=TIMEOUT,
            what="the switch is reported unreachable",
        )
        snmpd.start()
        wait_until(
            lambda: len(subscriber.of(Reachability)) >= 2,
            timeout=TIMEOUT,
            what="the switch is reported reachable again",
        )
    reachability = subscriber.of(Reachability, "sw-lantai1")
    assert [r.reachable for r in reachability] == [False, True]
    loopback = [r for r in subscriber.of(InterfaceReading, "sw-lantai1") if r.port == "lo"]
    assert loopback
    assert loopback[0].oper == "up"
    rates = [r.in_bps for r in loopback if r.in_bps is not None]
    assert all(rate >= 0 for rate in rates)
    # Every envelope of a poll carries the whole table: one message per poll.
    polls = [e for e in subscriber.envelopes if e.device == "sw-lantai1" and len(e.readings) > 1]
    assert polls
    health = subscriber.of(AgentHealth, "agent")
    assert health
    assert any(h.counters.get("snmp_sw_lantai1_ok", 0) >= 1 for h in health)
