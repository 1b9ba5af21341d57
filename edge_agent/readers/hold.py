"""A card held on the reader is one tap, however many frames the reader repeats.

An RDM6300 repeats its frame for as long as a card sits in the field. A frame of the
same card within ``gap`` seconds of that card's *last* sighting belongs to the same tap,
so a card left on the reader for a minute is still one read; once the card has been
away longer than the gap, the next sighting is a new tap. (arduino12/rdm6300 uses
220 ms; attendance-level de-duplication, ~60 s, is the collector's job, not this one.)

Pure: time is passed in as monotonic seconds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pelangi.card import CardId


class HoldFilter:
    """Decide, for each sighting of a card, whether it starts a new tap."""

    def __init__(self, gap_s: float) -> None:
        """Treat sightings of a card less than ``gap_s`` seconds apart as one tap."""
        if gap_s < 0:
            msg = f"hold gap must be 0 s or more, got {gap_s}"
            raise ValueError(msg)
        self.gap_s = gap_s
        # Every card still "on the reader", with when it was last seen. Tracked per card,
        # not just the latest, so two cards in the field together do not alternate into
        # a stream of taps.
        self._last_seen: dict[CardId, float] = {}

    def is_new_tap(self, card: CardId, now: float) -> bool:
        """Record a sighting of ``card`` at ``now``; return True if it starts a new tap."""
        self._forget_older_than(now - self.gap_s)
        held = card in self._last_seen
        self._last_seen[card] = now
        return not held

    def _forget_older_than(self, horizon: float) -> None:
        gone = [card for card, seen in self._last_seen.items() if seen < horizon]
        for card in gone:
            del self._last_seen[card]
