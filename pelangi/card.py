"""Card identity: one canonical form, with the printed forms derived from it.

Readers disagree about what a card "is": an RDM6300 sends 5 bytes (a version byte and
the 32-bit tag number), a Wiegand-26 converter only the low 24 bits, most EM4100 cards
have the decimal of the 32-bit number printed on them (``0001217496``), and some the
Wiegand-26 view ``facility,card`` (``018,37848``).

Pelangi's canonical identity is the tag's **32-bit number as 8 upper-case hex digits**
(``uid``), with ``bits`` saying how many of its low bits the reader actually saw (24 for
Wiegand-26 sources, whose top byte is then zero). The reader's raw value is kept beside
it, and everything printed on a card is derived, never stored as a separate truth.
"""

from __future__ import annotations

import re
from functools import reduce
from operator import xor
from typing import Annotated, Final, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

from pelangi.errors import CardFormatError

UID_PATTERN = r"^[0-9A-F]{8}$"
_PRINTABLE_ASCII = r"^[\x21-\x7e]{1,64}$"


class CardId(BaseModel):
    """A card's identity as read, in canonical form.

    Attributes:
        raw: what the reader sent, as printable ASCII (for RDM6300: the 10 hex data
            characters, version byte first).
        uid: the canonical 32-bit number, 8 upper-case hex digits.
        bits: how many low bits of ``uid`` the reader saw (32, or 24 for Wiegand-26).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    raw: Annotated[str, StringConstraints(pattern=_PRINTABLE_ASCII)]
    uid: Annotated[str, StringConstraints(pattern=UID_PATTERN)]
    bits: Literal[24, 32] = 32

    @property
    def number(self) -> int:
        """The card number as an integer."""
        return int(self.uid, 16)

    @property
    def printed(self) -> str | None:
        """The 10-digit decimal printed on most EM4100 cards (only when 32 bits are known)."""
        return f"{self.number:010d}" if self.bits == 32 else None

    @property
    def wiegand26(self) -> tuple[int, int]:
        """The Wiegand-26 view ``(facility, card)`` of the low 24 bits."""
        return (self.number >> 16) & 0xFF, self.number & 0xFFFF


def em4100(data: bytes) -> CardId:
    """Build the identity of an EM4100 tag from its 5 data bytes (version + 32-bit tag)."""
    if len(data) != 5:
        msg = f"an EM4100 tag has 5 data bytes, got {len(data)}"
        raise ValueError(msg)
    return CardId(raw=data.hex().upper(), uid=data[1:].hex().upper(), bits=32)


CARD_FORMS: Final = (
    "8 hex digits (001293D8), the 10 decimal digits printed on EM4100 cards (0001217496), "
    "an RDM6300's 10 hex digits (01001293D8, or 12 with its checksum), "
    "a Wiegand-26 print facility,card (018,37848) or its 6 hex digits (1293D8)"
)
"""The forms :func:`parse_card` understands, in words (for error messages and docs)."""

_MAX_UID: Final = 0xFFFFFFFF
_WIEGAND26_PRINT: Final = re.compile(r"([0-9]{1,3}) *, *([0-9]{1,5})")
_HEX_BYTES: Final = re.compile(r"[0-9A-Fa-f]{2}(?:[ :-][0-9A-Fa-f]{2}){2,5}")
_HEX: Final = re.compile(r"[0-9A-Fa-f]+")


def parse_card(text: str) -> CardId:
    """Read a card number in any form a person copies from a card, a reader or a sheet.

    =================  ==================  ========================================
    form               example             read as
    =================  ==================  ========================================
    8 hex digits       ``001293D8``        the 32-bit number (canonical)
    ``0x`` and hex     ``0x1293D8``        the 32-bit number, leading zeros left out
    10 decimal digits  ``0001217496``      the decimal printed on EM4100 cards
    10 hex digits      ``01001293D8``      an RDM6300 frame's data: version byte and
                                           tag (with a letter A-F: all digits is the
                                           decimal form)
    12 hex digits      ``01001293D858``    the same and its XOR checksum, checked
    facility,card      ``018,37848``       a Wiegand-26 print: 24 bits known
    6 hex digits       ``1293D8``          a Wiegand-26 converter's data: 24 bits
    hex bytes          ``00:12:93:D8``     3-6 bytes apart by ``:``, ``-`` or spaces,
                                           read as the digits above
    =================  ==================  ========================================

    Surrounding spaces are ignored and hex may be in either case. A card known by its low
    24 bits only has ``bits=24`` and a zero top byte.

    Raises:
        CardFormatError: ``text`` is in none of these forms (or its checksum is wrong, or
            the decimal exceeds 32 bits).
    """
    given = text.strip()
    if len(given) > 64 or not given.isascii():
        raise CardFormatError(text, CARD_FORMS)
    if match := _WIEGAND26_PRINT.fullmatch(given):
        facility, card = int(match[1]), int(match[2])
        if facility > 0xFF or card > 0xFFFF:
            raise CardFormatError(text, "a Wiegand-26 facility 0-255 and card 0-65535")
        return CardId(raw=f"{facility:03d},{card:05d}", uid=f"00{facility:02X}{card:04X}", bits=24)
    if _HEX_BYTES.fullmatch(given):
        return _from_hex(re.sub(r"[ :-]", "", given), text)
    if given[:2].lower() == "0x":
        digits = given[2:]
        if not (_HEX.fullmatch(digits) and len(digits) <= 8):
            raise CardFormatError(text, "0x and at most 8 hex digits")
        return CardId(raw=given, uid=f"{int(digits, 16):08X}", bits=32)
    if given.isdigit() and len(given) == 10:
        number = int(given)
        if number > _MAX_UID:
            raise CardFormatError(text, f"a printed decimal card number up to {_MAX_UID}")
        return CardId(raw=given, uid=f"{number:08X}", bits=32)
    if _HEX.fullmatch(given):
        return _from_hex(given, text)
    raise CardFormatError(text, CARD_FORMS)


def _from_hex(digits: str, text: str) -> CardId:
    hexa = digits.upper()
    match len(hexa):
        case 6:
            return CardId(raw=hexa, uid=f"00{hexa}", bits=24)
        case 8:
            return CardId(raw=hexa, uid=hexa, bits=32)
        case 10:
            return CardId(raw=hexa, uid=hexa[2:], bits=32)
        case 12:
            data = bytes.fromhex(hexa[:10])
            if reduce(xor, data) != int(hexa[10:], 16):
                raise CardFormatError(
                    text, f"an RDM6300 checksum of {reduce(xor, data):02X} (XOR of the data bytes)"
                )
            return CardId(raw=hexa[:10], uid=hexa[2:10], bits=32)
    raise CardFormatError(text, CARD_FORMS)


__all__ = ["CARD_FORMS", "UID_PATTERN", "CardId", "em4100", "parse_card"]
