"""Door state: polarity, tracker events, the serial line protocol, Zigbee2MQTT payloads."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edge_agent.doors.gpio import Edge, GpioDoorInput, states_from_edges
from edge_agent.doors.lineproto import MAX_LINE, DoorLineDecoder, DoorReport, parse_door_line
from edge_agent.doors.state import DoorChange, DoorState, DoorTracker, state_from_level
from edge_agent.doors.zigbee import state_from_zigbee2mqtt
from edge_agent.errors import AgentError, FrameError, FrameErrorKind

if TYPE_CHECKING:
    from pathlib import Path


def test_polarity_is_declared_per_input() -> None:
    # Pull-up with the contact to GND: a closed door pulls the line low.
    assert state_from_level(0, "low") is DoorState.CLOSED
    assert state_from_level(1, "low") is DoorState.OPEN
    assert state_from_level(1, "high") is DoorState.CLOSED


def test_tracker_reports_changes_only() -> None:
    tracker = DoorTracker("pintu-utama", restate_s=60)
    assert tracker.observe(DoorState.CLOSED, 0.0) == DoorChange(
        "pintu-utama", DoorState.UNKNOWN, DoorState.CLOSED, 0.0
    )
    assert tracker.observe(DoorState.CLOSED, 1.0) is None
    change = tracker.observe(DoorState.OPEN, 2.0)
    assert change is not None
    assert change.current is DoorState.OPEN


def test_tracker_restates_a_quiet_door_and_notices_silence() -> None:
    tracker = DoorTracker("d", restate_s=60, silence_s=180)
    tracker.observe(DoorState.CLOSED, 0.0)
    assert tracker.tick(30.0) == (None, False)
    assert tracker.tick(60.0) == (None, True)
    assert tracker.tick(61.0) == (None, False)
    change, restate = tracker.tick(180.0)
    assert change == DoorChange("d", DoorState.CLOSED, DoorState.UNKNOWN, 180.0)
    assert restate is False
    assert tracker.state is DoorState.UNKNOWN


@pytest.mark.parametrize(
    ("line", "report"),
    [
        (b"DOOR pintu-utama OPEN", DoorReport("pintu-utama", DoorState.OPEN)),
        (b"door d1 closed\r", DoorReport("d1", DoorState.CLOSED)),
        (b"  DOOR\td1\tUNKNOWN  ", DoorReport("d1", DoorState.UNKNOWN)),
    ],
)
def test_door_lines(line: bytes, report: DoorReport) -> None:
    assert parse_door_line(line) == report


@pytest.mark.parametrize("line", [b"DOOR", b"DOOR d1 AJAR", b"DOOR d/1 OPEN", b"\xff\xfe"])
def test_bad_door_lines(line: bytes) -> None:
    with pytest.raises(FrameError, match="not a door report"):
        parse_door_line(line)


def test_door_stream_one_byte_at_a_time_with_noise() -> None:
    decoder = DoorLineDecoder()
    stream = b"\x00\x13garbage\nDOOR a OPEN\r\nDOOR b CLOSED\n" + b"x" * 500 + b"\nDOOR a CLOSED\n"
    out: list[DoorReport | FrameError] = []
    for index in range(len(stream)):
        out += decoder.feed(stream[index : index + 1])
    reports = [item for item in out if isinstance(item, DoorReport)]
    assert reports == [
        DoorReport("a", DoorState.OPEN),
        DoorReport("b", DoorState.CLOSED),
        DoorReport("a", DoorState.CLOSED),
    ]
    kinds = [item.kind for item in out if isinstance(item, FrameError)]
    assert kinds == [FrameErrorKind.BAD_FRAMING, FrameErrorKind.OVERLONG]
    assert MAX_LINE < 500


@given(st.binary(max_size=400))
def test_any_bytes_give_reports_or_frame_errors(data: bytes) -> None:
    out = DoorLineDecoder().feed(data)
    assert all(isinstance(item, DoorReport | FrameError) for item in out)


@pytest.mark.parametrize(
    ("payload", "state"),
    [
        (b'{"contact": true, "battery": 97}', DoorState.CLOSED),
        (b'{"contact": false}', DoorState.OPEN),
        (b'{"battery": 97}', None),
    ],
)
def test_zigbee2mqtt_contact_true_means_closed(payload: bytes, state: DoorState | None) -> None:
    assert state_from_zigbee2mqtt(payload) is state


@pytest.mark.parametrize("payload", [b"nope", b"[1]", b'{"contact": "yes"}', b"\xff"])
def test_bad_zigbee2mqtt_payloads(payload: bytes) -> None:
    with pytest.raises(FrameError):
        state_from_zigbee2mqtt(payload)


@given(st.binary(max_size=200))
def test_zigbee_any_bytes_give_state_or_frame_error(data: bytes) -> None:
    try:
        result = state_from_zigbee2mqtt(data)
    except FrameError:
        return
    assert result is None or isinstance(result, DoorState)


def test_gpio_edges_map_through_polarity() -> None:
    edges = [Edge(rising=True, timestamp_ns=1), Edge(rising=False, timestamp_ns=2)]
    assert states_from_edges(edges, "low") == [DoorState.OPEN, DoorState.CLOSED]
    assert states_from_edges(edges, "high") == [DoorState.CLOSED, DoorState.OPEN]


def test_gpio_without_a_chip_says_so(tmp_path: Path) -> None:
    states: list[DoorState] = []
    door = GpioDoorInput(str(tmp_path / "gpiochip9"), 4, "low", 20, states.append)
    with pytest.raises(AgentError, match=r"cannot watch GPIO line 4 on .*gpiochip9"):
        door.run(threading.Event())
    assert states == []
