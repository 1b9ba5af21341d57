"""RDM6300 frames: the pure parser and the streaming decoder, fed hostile streams."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edge_agent.errors import FrameError, FrameErrorKind
from edge_agent.readers.em4100 import ETX, FRAME_BYTES, STX, Rdm6300Decoder, parse_frame
from pelangi.card import CardId
from sandbox.card_frames import LINE_NOISE, rdm6300_frame

LOBBY_CARD = "01001293D8"
OTHER_CARD = "62E3086CED"


def _frame(body: bytes) -> bytes:
    return bytes([STX]) + body + bytes([ETX])


def _feed_bytewise(decoder: Rdm6300Decoder, data: bytes) -> list[CardId | FrameError]:
    out: list[CardId | FrameError] = []
    for index in range(len(data)):
        out += decoder.feed(data[index : index + 1])
    return out


def _feed_chunked(data: bytes, cuts: list[int]) -> list[CardId | FrameError]:
    decoder = Rdm6300Decoder()
    out: list[CardId | FrameError] = []
    bounds = [0, *sorted(cuts), len(data)]
    for start, end in itertools.pairwise(bounds):
        out += decoder.feed(data[start:end])
    return out


def _shape(items: list[CardId | FrameError]) -> list[object]:
    """Comparable form: cards as themselves, errors as (kind, bytes)."""
    return [(item.kind, item.data) if isinstance(item, FrameError) else item for item in items]


def _kinds(items: list[CardId | FrameError]) -> list[str]:
    return [item.kind.value if isinstance(item, FrameError) else item.uid for item in items]


# -- the pure parser ------------------------------------------------------------------------


def test_field_notes_checksum_example() -> None:
    card = parse_frame(_frame(b"62E3086CED08"))
    assert (card.raw, card.uid, card.number) == ("62E3086CED", "E3086CED", 3_808_980_205)


def test_field_notes_printed_number_example() -> None:
    card = parse_frame(rdm6300_frame(LOBBY_CARD))
    assert (card.uid, card.bits, card.printed) == ("001293D8", 32, "0001217496")


def test_lower_and_mixed_case_hex_give_the_canonical_identity() -> None:
    upper = parse_frame(_frame(b"62E3086CED08"))
    assert parse_frame(_frame(b"62e3086ced08")) == upper
    assert parse_frame(_frame(b"62e3086CEd08")) == upper


def test_bad_checksum_says_expected_and_got() -> None:
    with pytest.raises(FrameError, match=r"bad checksum in frame .*: expected 08, got 0A") as info:
        parse_frame(_frame(b"62E3086CED0A"))
    assert info.value.kind is FrameErrorKind.BAD_CHECKSUM


@pytest.mark.parametrize(
    ("frame", "kind"),
    [
        (_frame(b"62E3086CED0"), FrameErrorKind.BAD_LENGTH),
        (_frame(b"62E3086CED088"), FrameErrorKind.BAD_LENGTH),
        (_frame(b"62G3086CED08"), FrameErrorKind.NOT_HEX),
        # bytes.fromhex would skip the space: the parser must not.
        (_frame(b"62 E3086CED0"), FrameErrorKind.NOT_HEX),
        (_frame("62É3086CED0".encode()), FrameErrorKind.NOT_HEX),  # 12 bytes, not ASCII
        (b"62E3086CED08\x03", FrameErrorKind.BAD_FRAMING),
        (b"\x0262E3086CED08", FrameErrorKind.BAD_FRAMING),
        (b"", FrameErrorKind.BAD_FRAMING),
    ],
)
def test_malformed_frames_raise_frame_error(frame: bytes, kind: FrameErrorKind) -> None:
    with pytest.raises(FrameError) as info:
        parse_frame(frame)
    assert info.value.kind is kind
    assert info.value.data == frame


# -- the streaming decoder ------------------------------------------------------------------


def test_frame_split_one_byte_at_a_time() -> None:
    decoder = Rdm6300Decoder()
    frame = rdm6300_frame(LOBBY_CARD)
    out = _feed_bytewise(decoder, frame)
    assert [item.uid for item in out if isinstance(item, CardId)] == ["001293D8"]
    assert len(out) == 1


def test_garbage_between_frames_is_reported_once_and_skipped() -> None:
    stream = rdm6300_frame(LOBBY_CARD) + LINE_NOISE + rdm6300_frame(OTHER_CARD)
    out = Rdm6300Decoder().feed(stream)
    assert _kinds(out) == ["001293D8", "garbage", "E3086CED"]
    garbage = out[1]
    assert isinstance(garbage, FrameError)
    assert garbage.data == LINE_NOISE


def test_bad_checksum_then_good_frame() -> None:
    stream = rdm6300_frame(LOBBY_CARD, bad_checksum=True) + rdm6300_frame(LOBBY_CARD)
    assert _kinds(_feed_bytewise(Rdm6300Decoder(), stream)) == ["bad_checksum", "001293D8"]


def test_lower_case_frames_stream() -> None:
    stream = rdm6300_frame(OTHER_CARD, lower=True) * 2
    assert _kinds(Rdm6300Decoder().feed(stream)) == ["E3086CED", "E3086CED"]


def test_truncated_frame_followed_by_a_good_one() -> None:
    stream = rdm6300_frame(OTHER_CARD)[:7] + rdm6300_frame(LOBBY_CARD)
    out = _feed_bytewise(Rdm6300Decoder(), stream)
    assert _kinds(out) == ["truncated", "001293D8"]
    assert "new STX" in str(out[0])


def test_overlong_run_is_reported_and_the_decoder_recovers() -> None:
    stream = bytes([STX]) + b"0" * 40 + rdm6300_frame(LOBBY_CARD)
    assert _kinds(Rdm6300Decoder().feed(stream)) == ["overlong", "garbage", "001293D8"]


def test_endless_noise_is_reported_in_bounded_pieces() -> None:
    out = Rdm6300Decoder().feed(b"\xff" * 1000)
    assert out
    assert all(isinstance(item, FrameError) and len(item.data) <= 64 for item in out)


def test_error_messages_stay_short_for_huge_garbage() -> None:
    out = Rdm6300Decoder().feed(bytes([STX]) + b"Z" * 5000)
    assert _kinds(out)[0] == "overlong"
    assert all(len(str(item)) < 200 for item in out)


def test_id12la_frames_with_crlf_before_etx() -> None:
    frame = rdm6300_frame("01001293D8")
    id12 = frame[:-1] + b"\r\n" + frame[-1:]
    out = Rdm6300Decoder().feed(id12 + frame)
    assert [item.uid for item in out if isinstance(item, CardId)] == ["001293D8", "001293D8"]


# -- properties -----------------------------------------------------------------------------

chunk_cuts = st.lists(st.integers(min_value=0, max_value=4096), max_size=40)
tags = st.binary(min_size=5, max_size=5)
# Random bytes rarely look like frames; pieces of frames exercise every path of the decoder.
frame_pieces = st.one_of(
    st.sampled_from([b"\x02", b"\x03", b"0", b"9", b"A", b"f", b"g", b"\r\n", b"\xff"]),
    st.binary(max_size=4),
    tags.map(lambda tag: rdm6300_frame(tag.hex())),
    st.tuples(tags, st.integers(0, 14)).map(lambda t: rdm6300_frame(t[0].hex())[: t[1]]),
)
streams = st.one_of(st.binary(max_size=2048), st.lists(frame_pieces, max_size=60).map(b"".join))


@given(data=streams, cuts=chunk_cuts)
def test_any_bytes_any_chunking_give_cards_or_frame_errors(data: bytes, cuts: list[int]) -> None:
    cuts = [cut % (len(data) + 1) for cut in cuts]
    out = _feed_chunked(data, cuts)
    assert all(isinstance(item, CardId | FrameError) for item in out)
    # The decoder's output depends only on the bytes, never on how they were chunked.
    assert _shape(out) == _shape(Rdm6300Decoder().feed(data))


noise_without_stx = st.binary(max_size=64).map(lambda b: b.replace(bytes([STX]), b""))


@given(
    tags=st.lists(tags, max_size=8),
    noise=st.lists(noise_without_stx, min_size=9, max_size=9),
    lower=st.lists(st.booleans(), min_size=8, max_size=8),
    cuts=chunk_cuts,
)
def test_frames_in_noise_are_all_recovered_in_order(
    tags: list[bytes], noise: list[bytes], lower: list[bool], cuts: list[int]
) -> None:
    stream = noise[0] + b"".join(
        rdm6300_frame(tag.hex(), lower=low) + gap
        for tag, low, gap in zip(tags, lower, noise[1:], strict=False)
    )
    cuts = [cut % (len(stream) + 1) for cut in cuts]
    out = _feed_chunked(stream, cuts)
    cards = [item for item in out if isinstance(item, CardId)]
    assert [card.raw for card in cards] == [tag.hex().upper() for tag in tags]
    assert all(item.kind is FrameErrorKind.GARBAGE for item in out if isinstance(item, FrameError))


def test_frame_constants() -> None:
    assert len(rdm6300_frame(LOBBY_CARD)) == FRAME_BYTES
