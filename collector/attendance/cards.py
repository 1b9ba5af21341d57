"""Which employee a tap's card belongs to, on the tap's WITA date. Pure.

A card is matched on the bits both sides know: a card registered from a Wiegand-26 print
(24 bits) matches taps on their low 24 bits, and so does a tap from a Wiegand-26 reader
against a card registered with all 32. The assignment valid on the tap's WITA date
decides, so a card reassigned on the 15th credits its taps of the 14th to the first
holder. When the matching assignments name two or more employees the tap is reported
as ambiguous, never guessed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from collector.attendance.errors import AttendanceError

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import date

    from collector.attendance.model import CardAssignment

LOW_24: Final = 0xFF_FFFF
FULL_BITS: Final = 32
UID_DIGITS: Final = 8
"""The canonical uid: the 32-bit number as 8 hex digits (:mod:`pelangi.card`)."""


class CardIndex:
    """The card assignments, indexed by their low 24 bits. Built once, then only read."""

    __slots__ = ("_by_low",)

    def __init__(self, cards: Iterable[CardAssignment]) -> None:
        """Index ``cards``. Raises AttendanceError for a uid that is not 8 hex digits."""
        by_low: dict[int, list[tuple[int, CardAssignment]]] = {}
        for card in cards:
            number = _number(card.uid)
            if number is None:
                raise AttendanceError(
                    f"card of {card.employee}: got uid {card.uid!r}; expected 8 hex digits"
                )
            by_low.setdefault(number & LOW_24, []).append((number, card))
        self._by_low = by_low

    def holders(self, uid: str, bits: int, day: date) -> tuple[str, ...]:
        """The employees (keys, sorted) holding a card matching ``uid`` on ``day``.

        ``bits`` is how many low bits of ``uid`` the reader saw. A uid that is not hex
        matches nobody (its tap is then listed as unknown).
        """
        number = _number(uid)
        if number is None:
            return ()
        found = {
            card.employee
            for card_number, card in self._by_low.get(number & LOW_24, ())
            if card.valid_on(day) and (min(bits, card.bits) < FULL_BITS or card_number == number)
        }
        return tuple(sorted(found))


def _number(uid: str) -> int | None:
    if len(uid) != UID_DIGITS:
        return None
    try:
        return int(uid, 16)
    except ValueError:
        return None
