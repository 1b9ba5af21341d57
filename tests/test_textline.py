"""Line-oriented readers: decimal, hex and Wiegand-26 text, hostile streams."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edge_agent.errors import FrameError, FrameErrorKind
from edge_agent.readers.textline import MAX_LINE, TextFormat, TextLineDecoder, parse_line
from pelangi.card import CardId


def _feed_bytewise(decoder: TextLineDecoder, data: bytes) -> list[CardId | FrameError]:
    out: list[CardId | FrameError] = []
    for index in range(len(data)):
        out += decoder.feed(data[index : index + 1])
    return out


def test_printed_decimal_matches_the_rdm6300_identity() -> None:
    card = parse_line(b"0001217496", "decimal10")
    assert (card.uid, card.bits, card.printed) == ("001293D8", 32, "0001217496")


def test_wiegand26_hex_keeps_only_24_bits() -> None:
    card = parse_line(b"1293D8", "wiegand26")
    assert (card.uid, card.bits, card.printed, card.wiegand26) == (
        "001293D8",
        24,
        None,
        (18, 37848),
    )


@pytest.mark.parametrize(
    ("line", "uid", "bits"),
    [(b"0001217496", "001293D8", 32), (b"001293d8", "001293D8", 32), (b"1293D8", "001293D8", 24)],
)
def test_auto_sniffs_by_shape(line: bytes, uid: str, bits: int) -> None:
    card = parse_line(line, "auto")
    assert (card.uid, card.bits) == (uid, bits)


@pytest.mark.parametrize(
    ("line", "fmt"),
    [(b"4294967296", "decimal10"), (b"12345", "auto"), (b"12G4", "hex8"), (b"0001217496", "hex8")],
)
def test_bad_lines_raise_frame_error(line: bytes, fmt: TextFormat) -> None:
    with pytest.raises(FrameError, match="not a"):
        parse_line(line, fmt)


def test_stream_with_every_line_ending_one_byte_at_a_time() -> None:
    decoder = TextLineDecoder("auto")
    out = _feed_bytewise(decoder, b"0001217496\r\n\r\n1293D8\r001293D8\nnoise!\r\n")
    assert [item.uid for item in out if isinstance(item, CardId)] == ["001293D8"] * 3
    errors = [item for item in out if isinstance(item, FrameError)]
    assert len(errors) == 1


def test_overlong_line_is_reported_once_and_skipped() -> None:
    decoder = TextLineDecoder("decimal10")
    out = decoder.feed(b"9" * (MAX_LINE * 3) + b"\r\n0001217496\r\n")
    assert len(out) == 2
    assert isinstance(out[0], FrameError)
    assert out[0].kind is FrameErrorKind.OVERLONG
    assert isinstance(out[1], CardId)


@given(st.binary(max_size=300), st.sampled_from(["decimal10", "hex8", "wiegand26", "auto"]))
def test_any_bytes_give_cards_or_frame_errors(data: bytes, fmt: TextFormat) -> None:
    out = TextLineDecoder(fmt).feed(data)
    assert all(isinstance(item, CardId | FrameError) for item in out)


@given(st.lists(st.integers(min_value=0, max_value=2**32 - 1), max_size=20), st.data())
def test_valid_lines_survive_any_chunking(numbers: list[int], data: st.DataObject) -> None:
    stream = b"".join(f"{n:010d}\r\n".encode() for n in numbers)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=10)))
    decoder = TextLineDecoder("decimal10")
    out: list[CardId | FrameError] = []
    for start, end in zip([0, *cuts], [*cuts, len(stream)], strict=True):
        out += decoder.feed(stream[start:end])
    assert [item.number for item in out if isinstance(item, CardId)] == numbers
