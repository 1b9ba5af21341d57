"""Whether a collector is there to receive readings, and whether it confirms them. Pure.

A PUBACK only means the broker holds a message; a broker's queue for an absent collector
is bounded, may be lost with the broker and expires with the session. So the agent
hands readings to the broker only while the collectors it depends on announce themselves
online (:class:`pelangi.liveness.CollectorState`, retained on
``pelangi-host/<collector>/state``, with a Will that turns it offline); otherwise the
readings wait in the gateway's own outbox.

Collectors that send receipts (:mod:`pelangi.receipts`) say so in their presence. Once
the agent has seen one, it is in **receipt mode** for good (remembered on disk,
:class:`edge_agent.uplink.memory.ReceiptMemory`): a PUBACK no longer deletes anything,
only a receipt does, and readings are sent only while a confirming collector is online.
A broker that restarted empty (no retained presence at all) then means "wait", never
"collectors from before presence, trust the PUBACK".

Which collectors count (``primary_collectors`` in the agent's configuration):

``any`` (the default)
    at least one collector online (in receipt mode: one that confirms). Before receipt
    mode, a broker on which no collector has ever announced itself (collectors from
    before presence) does not hold readings back: the agent sends as it always did.
``none``
    never wait (in receipt mode readings still stay until a receipt names them).
a list of collector ids
    every one of them online. On Mosquitto a shared subscription splits messages evenly
    between its members and does not fail over, so readings for an absent member would
    sit in the broker's queue: wait for all.

Until the retained states have arrived after a (re)connect, nothing is known and nothing
is sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, TypeAlias

PrimaryCollectors: TypeAlias = Literal["any", "none"] | tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Announced:
    """What one collector's latest presence message said."""

    online: bool
    confirms: bool
    """Whether it sends receipts (the ``pelangi-confirms`` user property)."""


@dataclass
class Presence:
    """The collectors' announced states as seen on the current connection."""

    primary: PrimaryCollectors
    receipts: bool = False
    """Receipt mode (see the module docstring): set once, never cleared."""
    _states: dict[str, Announced] = field(default_factory=dict)
    _known: bool = False

    def reset(self) -> None:
        """Forget the states (the connection was lost: the next one reads them again)."""
        self._states.clear()
        self._known = False

    def update(self, collector: str, *, online: bool | None, confirms: bool = False) -> bool:
        """Record ``collector``'s announced state (None: its retained state was cleared).

        Returns True when this message switched receipt mode on.
        """
        if online is None:
            self._states.pop(collector, None)
            return False
        self._states[collector] = Announced(online=online, confirms=confirms)
        if confirms and not self.receipts:
            self.receipts = True
            return True
        return False

    def settle(self) -> None:
        """Every retained state has arrived: decisions can be made."""
        self._known = True

    @property
    def known(self) -> bool:
        """Whether the retained states have arrived since the last reset."""
        return self._known

    @property
    def announced(self) -> bool:
        """Whether any collector has announced itself on this broker."""
        return bool(self._states)

    def online(self) -> list[str]:
        """The collectors announced online, sorted."""
        return sorted(c for c, s in self._states.items() if s.online)

    def _online(self, collector: str) -> bool:
        state = self._states.get(collector)
        return state is not None and state.online

    def _counts(self, collector: str) -> bool:
        state = self._states.get(collector)
        return state is not None and state.online and (state.confirms or not self.receipts)

    def may_send(self) -> bool:
        """Whether readings may be handed to the broker now."""
        if self.primary == "none":
            return True
        if not self._known:
            return False
        if self.primary == "any":
            if not self._states and not self.receipts:
                return True  # collectors from before presence: as it always was
            return any(self._counts(c) for c in self._states)
        # A list: every one online and, in receipt mode, at least one of them confirming
        # (a rolling upgrade: an old member's share is re-sent until a confirming one
        # stores it).
        states = [self._states.get(c) for c in self.primary]
        if not all(s is not None and s.online for s in states):
            return False
        return not self.receipts or any(s is not None and s.confirms for s in states)

    def waiting_for(self) -> str:
        """Why readings are held, in words (empty when they are not)."""
        if self.may_send():
            return ""
        if not self._known:
            return "waiting for the collectors' presence after connecting"
        if self.primary == "any":
            if not self._states:
                return (
                    "no collector has announced itself on this broker since it started "
                    "(waiting for one that confirms receipts)"
                )
            what = "no collector that confirms receipts" if self.receipts else "no collector"
            return f"{what} is online ({_states_text(self._states)})"
        assert not isinstance(self.primary, str)  # noqa: S101 - "none" always may send
        missing = [c for c in self.primary if not self._online(c)]
        never = [c for c in missing if c not in self._states]
        if not missing:
            return f"none of {', '.join(self.primary)} confirms receipts"
        text = f"waiting for collector(s) {', '.join(missing)} to be online"
        if never:
            text += f" ({', '.join(never)} never announced on this broker)"
        return text


def _states_text(states: dict[str, Announced]) -> str:
    def word(s: Announced) -> str:
        return ("online" if s.online else "offline") + (", confirms" if s.confirms else "")

    return ", ".join(f"{c} {word(s)}" for c, s in sorted(states.items()))
