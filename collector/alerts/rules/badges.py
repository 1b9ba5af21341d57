"""Whether a card read is a valid badge: a card of an active employee, on the read's date. Pure.

Cards are matched as attendance matches them (:mod:`collector.attendance.cards`: on the
bits both sides know, with the assignment valid on the read's WITA date), so the alert
rules and the attendance report never disagree about whose card it was.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from enum import Enum
from typing import TYPE_CHECKING

from collector.attendance.cards import CardIndex
from collector.attendance.model import WITA

if TYPE_CHECKING:
    from collector.alerts.observations import CardSeen
    from collector.attendance.model import Employee
    from collector.attendance.rules import RegistryValues


class CardStatus(Enum):
    """What a presented card is."""

    VALID = "valid"
    """Assigned on that date to an employee active on that date."""
    INACTIVE = "inactive"
    """Someone's card, but not valid that date or its holder not active (left, not yet started)."""
    UNKNOWN = "unknown"
    """Never assigned to anyone."""


@dataclass(frozen=True, slots=True)
class Verdict:
    """A card read judged: its status and the employees it points to (keys, sorted)."""

    status: CardStatus
    holders: tuple[str, ...] = ()


class CardCheck:
    """Judges card reads against the registry's employees and cards."""

    def __init__(self, registry: RegistryValues) -> None:
        """Index ``registry``'s cards twice: as assigned, and as if always valid."""
        self._people: dict[str, Employee] = {e.key: e for e in registry.employees}
        self._now = CardIndex(registry.cards)
        # The same cards valid on every date: "was this ever anyone's card?"
        self._ever = CardIndex(
            replace(card, valid_from=date.min, valid_to=None) for card in registry.cards
        )

    def judge(self, card: CardSeen) -> Verdict:
        """The status of ``card`` on its read's WITA date."""
        day = card.source.at.astimezone(WITA).date()
        holders = self._now.holders(card.uid, card.bits, day)
        if any(key in self._people and self._people[key].active_on(day) for key in holders):
            return Verdict(CardStatus.VALID, holders)
        if holders:
            return Verdict(CardStatus.INACTIVE, holders)
        ever = self._ever.holders(card.uid, card.bits, day)
        return Verdict(CardStatus.INACTIVE, ever) if ever else Verdict(CardStatus.UNKNOWN)

    def name_of(self, key: str) -> str:
        """The employee's name (the key itself if unknown)."""
        person = self._people.get(key)
        return key if person is None else person.name
