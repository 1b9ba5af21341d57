"""parse_card: every printed form of a card maps to one canonical uid; anything else is
refused with the project's own error (never another exception)."""

from __future__ import annotations

import contextlib
from functools import reduce
from operator import xor

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from pelangi.card import CardId, parse_card
from pelangi.errors import CardFormatError

numbers = st.integers(min_value=0, max_value=0xFFFFFFFF)


@pytest.mark.parametrize(
    ("text", "uid", "bits"),
    [
        ("001293D8", "001293D8", 32),
        ("001293d8", "001293D8", 32),
        ("0x1293D8", "001293D8", 32),
        ("0001217496", "001293D8", 32),  # field notes: frame 01001293D8 prints 0001217496
        ("3808980205", "E3086CED", 32),  # the number the RDM6300 datasheet gets wrong
        ("01001293D8", "001293D8", 32),
        ("62E3086CED", "E3086CED", 32),
        ("62E3086CED08", "E3086CED", 32),  # with its checksum (XOR 08)
        ("62:e3:08:6c:ed", "E3086CED", 32),
        ("00 12 93 D8", "001293D8", 32),
        ("018,37848", "001293D8", 24),
        ("18, 37848", "001293D8", 24),
        ("1293D8", "001293D8", 24),
        ("  001293D8\t", "001293D8", 32),
    ],
)
def test_every_printed_form_gives_the_canonical_uid(text: str, uid: str, bits: int) -> None:
    card = parse_card(text)
    assert (card.uid, card.bits) == (uid, bits)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1217496", "expected 8 hex digits (001293D8), the 10 decimal digits printed"),
        ("4294967296", "expected a printed decimal card number up to 4294967295"),
        ("62E3086CEDFF", "expected an RDM6300 checksum of 08 (XOR of the data bytes)"),
        ("256,1", "expected a Wiegand-26 facility 0-255 and card 0-65535"),
        ("0x123456789", "expected 0x and at most 8 hex digits"),
        ("kartu hilang", "is in no known form"),
        ("", "is in no known form"),
        ("\uff10" * 8, "is in no known form"),  # full-width digits: not ASCII
    ],
)
def test_other_text_is_refused_naming_what_was_expected(text: str, expected: str) -> None:
    with pytest.raises(CardFormatError, match=r"card number .* is in no known form") as caught:
        parse_card(text)
    assert expected in str(caught.value)
    assert caught.value.text == text[:64]


@given(st.text(max_size=80))
@example("0" * 10)
@example("FF" * 40)
@example("1,2")
def test_any_text_parses_or_raises_the_projects_own_error(text: str) -> None:
    # Only the project's own error may escape; pytest reports any other as a failure.
    with contextlib.suppress(CardFormatError):
        assert isinstance(parse_card(text), CardId)


@given(numbers)
def test_the_hex_the_decimal_and_the_raw_frame_agree(number: int) -> None:
    hex8 = f"{number:08X}"
    frame = bytes.fromhex("01" + hex8)
    forms = [
        hex8,
        hex8.lower(),
        f"{number:010d}",
        f"0x{number:X}",
        ":".join(hex8[i : i + 2] for i in range(0, 8, 2)),
        f"{frame.hex()}{reduce(xor, frame):02x}",
    ]
    cards = [parse_card(form) for form in forms]
    assert {(card.uid, card.bits) for card in cards} == {(hex8, 32)}
    assert cards[0].printed == f"{number:010d}"


@given(st.integers(0, 0xFF), st.integers(0, 0xFFFF))
def test_a_wiegand26_print_and_its_data_bits_agree(facility: int, card: int) -> None:
    printed = parse_card(f"{facility:03d},{card:05d}")
    data_bits = parse_card(f"{facility:02X}{card:04X}")
    assert printed.uid == data_bits.uid == f"00{facility:02X}{card:04X}"
    assert printed.bits == data_bits.bits == 24
    assert printed.wiegand26 == (facility, card)
