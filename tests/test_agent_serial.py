"""The agent for real: a socat pty as the reader, a private Mosquitto as the broker.

Frames written into the pty must arrive at the broker as readings; unplugging the reader
(stopping socat) must be logged and survived; a broker that goes away and comes back
must receive what was read meanwhile.
"""

from __future__ import annotations

import logging
import os
from typing import TYPE_CHECKING

import pytest

from edge_agent.config import AgentSettings
from edge_agent.readers.settings import ReaderSettings
from pelangi.mqtt import MqttSettings
from sandbox.card_frames import LINE_NOISE, rdm6300_frame
from sandbox.probes import AgentThread, ReadingSubscriber
from sandbox.waiting import wait_until

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from sandbox.servers import Mosquitto, SerialPty

pytestmark = pytest.mark.servers

LOBBY = "01001293D8"
OTHER = "62E3086CED"
SENTINEL = "0000000001"
TIMEOUT = 15.0


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
) -> Iterator[tuple[AgentThread, ReadingSubscriber]]:
    """A subscriber, then the agent, both ready: connected, and the reader's port open."""
    settings = _settings(tmp_path, mosquitto, serial_pty)
    with ReadingSubscriber(mosquitto) as subscriber, AgentThread(settings) as agent:
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
    running: tuple[AgentThread, ReadingSubscriber], serial_pty: SerialPty
) -> None:
    _, subscriber = running
    held = rdm6300_frame(LOBBY) * 10  # a card held on the reader: one tap
    noise = LINE_NOISE + rdm6300_frame(OTHER, bad_checksum=True)
    serial_pty.write(held + noise + rdm6300_frame(OTHER, lower=True) + rdm6300_frame(SENTINEL))

    assert subscriber.wait_for_uid("00000001") == ["001293D8", "E3086CED", "00000001"]
    first = subscriber.card_envelopes()[0]
    assert (first.site, first.gateway, first.device) == ("test-site", "gw-test", "rfid-lobby")
    reads = [e.card_reads()[0] for e in subscriber.card_envelopes()]
    assert [r.seq for r in reads] == sorted({r.seq for r in reads})
    assert [r.ts for r in reads] == sorted({r.ts for r in reads})
    assert reads[0].card.printed == "0001217496"


def test_unplugged_reader_is_logged_and_read_again_after_replug(
    running: tuple[AgentThread, ReadingSubscriber],
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
    running: tuple[AgentThread, ReadingSubscriber],
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
    # The card waited in the outbox (with a health reading if one fell due meanwhile).
    assert _logged(logs, "stored reading(s)")


def test_reader_missing_at_start_is_waited_for(
    tmp_path: Path,
    mosquitto: Mosquitto,
    serial_pty: SerialPty,
    logs: pytest.LogCaptureFixture,
) -> None:
    serial_pty.stop()  # not plugged in when the agent starts
    settings = _settings(tmp_path, mosquitto, serial_pty)
    with ReadingSubscriber(mosquitto) as subscriber, AgentThread(settings) as agent:
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
