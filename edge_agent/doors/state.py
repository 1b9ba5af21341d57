"""Door state, polarity, and the tracker that turns observations into events (pure).

Polarity is declared per input because the conventions conflict: a reed contact wired to
GND with a pull-up reads 0 when the door is closed; Zigbee2MQTT's ``contact: true`` means
closed; Home Assistant's door ``on`` means open. Pelangi never passes a bare boolean on:
every source maps its signal to :class:`DoorState` here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal


class DoorState(StrEnum):
    """What is known about a door."""

    OPEN = "open"
    CLOSED = "closed"
    UNKNOWN = "unknown"  # no observation yet, or the source went silent


ClosedWhen = Literal["low", "high"]
"""Which electrical level means closed (pull-up + contact to GND, closed: ``low``)."""


def state_from_level(level: int, closed_when: ClosedWhen) -> DoorState:
    """Map a GPIO level (0 or 1) to a door state under the input's declared polarity."""
    closed_level = 0 if closed_when == "low" else 1
    return DoorState.CLOSED if level == closed_level else DoorState.OPEN


@dataclass(frozen=True, slots=True)
class DoorChange:
    """A door's state changed (or became known, or went unknown)."""

    door: str
    previous: DoorState
    current: DoorState
    at: float  # monotonic seconds


class DoorTracker:
    """Tracks one door: reports changes, and says when to re-state a quiet door.

    A state is re-published every ``restate_s`` even without a change, so the collector
    can tell a silent sensor from a closed door; a source that has said nothing for
    ``silence_s`` makes the door ``unknown``.
    """

    def __init__(self, door: str, *, restate_s: float, silence_s: float | None = None) -> None:
        """Start with the door unknown."""
        self.door = door
        self.state = DoorState.UNKNOWN
        self._restate_s = restate_s
        self._silence_s = silence_s
        self._last_seen: float | None = None
        self._last_published: float | None = None

    def observe(self, state: DoorState, now: float) -> DoorChange | None:
        """Fold in an observation; return the change it makes, if any."""
        self._last_seen = now
        return self._set(state, now)

    def tick(self, now: float) -> tuple[DoorChange | None, bool]:
        """Check for silence and re-statement: ``(change to unknown or None, restate now?)``."""
        change = None
        silent = (
            self._silence_s is not None
            and self._last_seen is not None
            and now - self._last_seen >= self._silence_s
        )
        if silent and self.state is not DoorState.UNKNOWN:
            change = self._set(DoorState.UNKNOWN, now)
        restate = self._last_published is None or now - self._last_published >= self._restate_s
        if restate:
            self._last_published = now
        return change, restate and change is None

    def _set(self, state: DoorState, now: float) -> DoorChange | None:
        if state is self.state:
            return None
        change = DoorChange(self.door, self.state, state, now)
        self.state = state
        self._last_published = now
        return change
