"""The agent's card_reader without IO: bytes in, envelopes out; clocks and log throttling."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import pytest

from edge_agent.clock import DeviceClock
from edge_agent.emitter import Emitter
from edge_agent.readers.reader import CardReader
from edge_agent.readers.settings import ReaderSettings
from edge_agent.timebase import Stamp
from pelangi.payloads import decode, encode
from sandbox.card_frames import LINE_NOISE, rdm6300_frame
from sandbox.sinks import ListSink

if TYPE_CHECKING:
    from collections.abc import Iterator

CARD = "01001293D8"


class FakeTime:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _counter() -> Iterator[int]:
    yield from range(100, 10_000)


@pytest.fixture
def clock() -> FakeTime:
    return FakeTime()


@pytest.fixture
def sink() -> ListSink:
    return ListSink()


@pytest.fixture
def card_reader(clock: FakeTime, sink: ListSink) -> CardReader:
    numbers = _counter()
    emitter = Emitter(
        site="bukit-pelangi", gateway="gw-bupati", sink=sink, next_seq=lambda: next(numbers)
    )
    return CardReader(
        ReaderSettings(id="rfid-lobby", port="/dev/null", hold_gap_ms=500),
        emitter,
        monotonic=clock,
    )


def test_a_tap_becomes_one_envelope_with_the_full_identity(
    card_reader: CardReader, sink: ListSink
) -> None:
    card_reader.on_bytes(rdm6300_frame(CARD))
    [envelope] = sink.envelopes
    assert (envelope.site, envelope.gateway, envelope.device) == (
        "bukit-pelangi",
        "gw-bupati",
        "rfid-lobby",
    )
    [read] = envelope.card_reads()
    assert (read.seq, read.card.uid, read.card.printed) == (100, "001293D8", "0001217496")
    assert str(envelope.topic) == "pelangi/bukit-pelangi/gw-bupati/reading/rfid-lobby"
    assert decode(encode(envelope), envelope.topic) == envelope


def test_held_card_is_one_tap_and_repeats_are_counted(
    card_reader: CardReader, sink: ListSink, clock: FakeTime
) -> None:
    for _ in range(30):  # three seconds on the reader
        card_reader.on_bytes(rdm6300_frame(CARD))
        clock.now += 0.1
    clock.now += 1.0  # taken away, then presented again
    card_reader.on_bytes(rdm6300_frame(CARD))
    assert [e.readings[0].seq for e in sink.envelopes] == [100, 101]
    stats = card_reader.stats()
    assert (stats.frames, stats.taps, stats.repeats) == (31, 2, 29)


def test_timestamps_strictly_increase_even_within_one_chunk(
    card_reader: CardReader, sink: ListSink
) -> None:
    other = "62E3086CED"
    card_reader.on_bytes(rdm6300_frame(CARD) + rdm6300_frame(other) + rdm6300_frame("0000000001"))
    stamps = [e.readings[0].ts for e in sink.envelopes]
    assert len(stamps) == 3
    assert stamps == sorted(set(stamps))


def test_bad_frames_are_counted_by_kind_and_logged_without_flooding(
    card_reader: CardReader, clock: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    bad = rdm6300_frame(CARD, bad_checksum=True)
    with caplog.at_level(logging.WARNING, logger="edge_agent.readers.reader"):
        for _ in range(100):
            card_reader.on_bytes(bad + LINE_NOISE)
        lines_during_noise = len(caplog.records)
        clock.now += 61
        card_reader.tick(clock.now)
    assert card_reader.stats().errors == {"bad_checksum": 100, "garbage": 99}
    assert lines_during_noise == 5
    summary = caplog.records[-1].getMessage()
    assert "and 194 more like this in the last 60 s: bad_checksum 97, garbage 97" in summary
    assert "check the reader's cable" in summary
    assert "expected" in caplog.records[0].getMessage()


def test_good_frames_still_flow_between_bad_ones(card_reader: CardReader, sink: ListSink) -> None:
    card_reader.on_bytes(b"\x02\x02" + LINE_NOISE + rdm6300_frame(CARD) + b"\x02123")
    assert len(sink.envelopes) == 1


def test_device_clock_never_repeats_or_goes_back() -> None:
    readings = iter([5, 5, 4, 10, 10])
    clock = DeviceClock(lambda: Stamp(next(readings)))
    assert [clock.next_ns() for _ in range(5)] == [5, 6, 7, 10, 11]


def test_device_clock_is_utc_nanoseconds() -> None:
    assert DeviceClock().next_ns() > 1_700_000_000 * 10**9


@pytest.mark.parametrize(
    ("settings", "stream"),
    [
        ({"kind": "text", "text_format": "decimal10"}, b"0001217496\r\n"),
        ({"kind": "text"}, b"noise\r\n001293D8\r\n"),
        ({"kind": "id12la"}, rdm6300_frame(CARD)[:-1] + b"\r\n\x03"),
    ],
)
def test_every_reader_kind_yields_the_same_canonical_card(
    settings: dict[str, str], stream: bytes, clock: FakeTime, sink: ListSink
) -> None:
    reader = ReaderSettings.model_validate({"id": "r1", "port": "/dev/null", **settings})
    numbers = _counter()
    emitter = Emitter(site="s", gateway="g", sink=sink, next_seq=lambda: next(numbers))
    card_reader = CardReader(reader, emitter, monotonic=clock)
    card_reader.on_bytes(stream)
    assert [e.card_reads()[0].card.uid for e in sink.envelopes] == ["001293D8"]
