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

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

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


__all__ = ["UID_PATTERN", "CardId", "em4100"]
