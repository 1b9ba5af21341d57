"""The agent for real: a socat pty as the reader, a private Mosquitto as the broker.

Frames written into the pty must arrive at the broker as readings; unplugging the reader
(stopping socat) must be logged and survived; a broker that goes away and comes back
must receive what was read meanwhile.
"""

from __future__ import annotations

import logging
import os
import threading
import uuid
from typing import TYPE_CHECKING, Self

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from edge_agent.agent import run
from edge_agent.config import AgentSettings, ReaderSettings
from pelangi.mqtt import MqttSettings
from pelangi.payloads import Envelope, decode
from pelangi.sandbox.rdm6300 import LINE_NOISE, rdm6300_frame
from pelangi.sandbox.waiting import wait_until
from pelangi.topics import parse_reading_topic, reading_filter

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path
    from types import TracebackType

    from paho.mqtt.reasoncodes import ReasonCode

    from pelangi.sandbox.servers import Mosquitto, SerialPty

pytestmark = pytest.mark.servers

LOBBY = "01001293D8"
OTHER = "62E3086CED"
SENTINEL = "0000000001"
TIMEOUT = 15.0


class Subscriber:
    """A test client that collects every reading on the broker, across broker restarts.

    A persistent session (clean_start off, long expiry) keeps its subscription and queue
    in the broker while the broker is stopped gracefully, so nothing published before it
    reconnects is lost to it.
    """

    def __init__(self, broker: Mosquitto) -> None:
        self.broker = broker
        self.client_id = f"test-sub-{uuid.uuid4().hex[:8]}"
        self.envelopes: list[Envelope] = []
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self._client = paho.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            protocol=paho.MQTTv5,
        )
        self._client.reconnect_delay_set(min_delay=1, max_delay=1)
        self._client.on_connect = self._on_connect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_message = self._on_message

    def __enter__(self) -> Self:
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        properties.SessionExpiryInterval = 600
        self._client.connect(
            self.broker.host, self.broker.port, clean_start=False, properties=properties
        )
        self._client.loop_start()
        assert self._subscribed.wait(TIMEOUT), "the test subscriber did not subscribe"
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._client.disconnect()
        self._client.loop_stop()
        # Break the client -> bound method -> self cycle so paho's sockets close promptly.
        self._client.on_connect = None
        self._client.on_subscribe = None
        self._client.on_message = None

    def _on_connect(
        self,
        client: paho.Client,
        _userdata: object,
        _flags: paho.ConnectFlags,
        _reason: ReasonCode,
        _properties: Properties | None,
    ) -> None:
        client.subscribe(reading_filter(), qos=1)

    def _on_subscribe(
        self,
        _client: paho.Client,
        _userdata: object,
        _mid: int,
        _reasons: list[ReasonCode],
        _properties: Properties | None,
    ) -> None:
        self._subscribed.set()

    def _on_message(self, _client: paho.Client, _userdata: object, msg: paho.MQTTMessage) -> None:
        envelope = decode(bytes(msg.payload), parse_reading_topic(msg.topic))
        if not envelope.card_reads():
            return  # the agent's health readings: not what these tests look at
        with self._lock:
            self.envelopes.append(envelope)

    def uids(self) -> list[str]:
        with self._lock:
            return [reading.card.uid for e in self.envelopes for reading in e.card_reads()]

    def wait_for_uid(self, uid: str) -> list[str]:
        """Wait until a reading of ``uid`` arrived; return every uid received so far."""
        wait_until(lambda: uid in self.uids(), timeout=TIMEOUT, what=f"card {uid} reaches MQTT")
        return self.uids()


class RunningAgent:
    """``edge_agent.agent.run`` in a thread of this process, stopped like SIGTERM would."""

    def __init__(self, settings: AgentSettings) -> None:
        self.settings = settings
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, name="agent-under-test")

    def _main(self) -> None:
        try:
            run(self.settings, self.stop)
        except BaseException as exc:  # the test reports it
            self.error = exc
            raise

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop.set()
        self._thread.join(TIMEOUT)
        assert not self._thread.is_alive(), "the agent did not stop within its timeout"
        assert self.error is None


def _settings(tmp_path: Path, broker: Mosquitto, pty: SerialPty) -> AgentSettings:
    return AgentSettings(
        site="test-site",
        gateway="gw-test",
        mqtt=MqttSettings(host=broker.host, port=broker.port, reconnect_max_s=1),
        readers=[ReaderSettings(id="rfid-lobby", port=str(pty.device), reopen_max_s=0.5)],
        state_dir=tmp_path / "agent-state",
    )


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO)
    return caplog


def _logged(caplog: pytest.LogCaptureFixture, text: str) -> bool:
    return any(text in message for message in caplog.messages)


@pytest.fixture
def running(
    tmp_path: Path, mosquitto: Mosquitto, serial_pty: SerialPty, logs: pytest.LogCaptureFixture
) -> Iterator[tuple[RunningAgent, Subscriber]]:
    """A subscriber, then the agent, both ready: connected, and the reader's port open."""
    settings = _settings(tmp_path, mosquitto, serial_pty)
    with Subscriber(mosquitto) as subscriber, RunningAgent(settings) as agent:
        wait_until(
            lambda: (
                mosquitto.has_connected(settings.client_id) and serial_pty.is_open_by(os.getpid())
            ),
            timeout=TIMEOUT,
            what="the agent is connected and has the reader's port open",
        )
        yield agent, subscriber
    assert _logged(logs, "agent stopped")


def test_frames_in_the_pty_arrive_as_readings(
    running: tuple[RunningAgent, Subscriber], serial_pty: SerialPty
) -> None:
    _, subscriber = running
    held = rdm6300_frame(LOBBY) * 10  # a card held on the reader: one tap
    noise = LINE_NOISE + rdm6300_frame(OTHER, bad_checksum=True)
    serial_pty.write(held + noise + rdm6300_frame(OTHER, lower=True) + rdm6300_frame(SENTINEL))

    assert subscriber.wait_for_uid("00000001") == ["001293D8", "E3086CED", "00000001"]
    first = subscriber.envelopes[0]
    assert (first.site, first.gateway, first.device) == ("test-site", "gw-test", "rfid-lobby")
    reads = [e.card_reads()[0] for e in subscriber.envelopes]
    assert [r.seq for r in reads] == sorted({r.seq for r in reads})
    assert [r.ts for r in reads] == sorted({r.ts for r in reads})
    assert reads[0].card.printed == "0001217496"


def test_unplugged_reader_is_logged_and_read_again_after_replug(
    running: tuple[RunningAgent, Subscriber],
    serial_pty: SerialPty,
    logs: pytest.LogCaptureFixture,
) -> None:
    agent, subscriber = running
    serial_pty.write(rdm6300_frame(LOBBY))
    subscriber.wait_for_uid("001293D8")

    serial_pty.stop()  # USB unplugged
    wait_until(
        lambda: _logged(logs, f"reader rfid-lobby: {serial_pty.device} disappeared"),
        timeout=TIMEOUT,
        what="the agent logs that the reader's port disappeared",
    )
    assert agent.alive

    serial_pty.start()  # plugged in again, same name
    wait_until(
        lambda: serial_pty.is_open_by(os.getpid()),
        timeout=TIMEOUT,
        what="the agent has reopened the reader's port",
    )
    serial_pty.write(rdm6300_frame(OTHER))
    assert subscriber.wait_for_uid("E3086CED") == ["001293D8", "E3086CED"]
    assert _logged(logs, f"reader rfid-lobby: {serial_pty.device} is back after")


def test_reads_while_the_broker_is_down_are_delivered_when_it_returns(
    running: tuple[RunningAgent, Subscriber],
    serial_pty: SerialPty,
    mosquitto: Mosquitto,
    logs: pytest.LogCaptureFixture,
) -> None:
    _, subscriber = running
    mosquitto.stop()  # graceful: the subscriber's session is saved and comes back
    wait_until(
        lambda: _logged(logs, f"lost connection to mqtt {mosquitto.address}"),
        timeout=TIMEOUT,
        what="the agent notices the broker has gone",
    )
    serial_pty.write(rdm6300_frame(LOBBY))
    wait_until(
        lambda: _logged(logs, "card 001293D8 (printed 0001217496) read"),
        timeout=TIMEOUT,
        what="the agent has read the card while the broker is down",
    )

    mosquitto.start()
    assert subscriber.wait_for_uid("001293D8") == ["001293D8"]
    # The card, and a health reading if one fell due during the outage.
    assert _logged(logs, f"connected to mqtt {mosquitto.address}; sending ")


def test_reader_missing_at_start_is_waited_for(
    tmp_path: Path,
    mosquitto: Mosquitto,
    serial_pty: SerialPty,
    logs: pytest.LogCaptureFixture,
) -> None:
    serial_pty.stop()  # not plugged in when the agent starts
    settings = _settings(tmp_path, mosquitto, serial_pty)
    with Subscriber(mosquitto) as subscriber, RunningAgent(settings) as agent:
        wait_until(
            lambda: _logged(logs, f"reader rfid-lobby: cannot open {serial_pty.device}"),
            timeout=TIMEOUT,
            what="the agent logs that it cannot open the reader's port",
        )
        serial_pty.start()
        wait_until(
            lambda: serial_pty.is_open_by(os.getpid()),
            timeout=TIMEOUT,
            what="the agent opens the port once it exists",
        )
        serial_pty.write(rdm6300_frame(LOBBY))
        assert subscriber.wait_for_uid("001293D8") == ["001293D8"]
        assert agent.alive
