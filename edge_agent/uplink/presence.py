"""Whether a collector is there to receive readings (Sparkplug's primary host idea). Pure.

A PUBACK only means the broker holds a message, and a broker's queue for an absent
collector is bounded, may be lost with the broker and expires with the session. So the
agent hands readings to the broker only while the collectors it depends on announce
themselves online (:class:`pelangi.liveness.CollectorState`, retained on
``pelangi-host/<collector>/state``, with a Will that turns it offline); otherwise the
readings wait in the gateway's own outbox.

Which collectors count (``primary_collectors`` in the agent's configuration):

``any`` (the default)
    at least one collector online. A broker on which no collector has ever announced
    itself (no retained state at all, e.g. collectors from before presence) does not hold
    readings back: the agent sends as it always did, and says so in its log once.
``none``
    never wait: trust the broker's queue.
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


@dataclass
class Presence:
    """The collectors' announced states as seen on the current connection."""

    primary: PrimaryCollectors
    _states: dict[str, bool] = field(default_factory=dict)
    _known: bool = False

    def reset(self) -> None:
        """Forget everything (the connection was lost: the next one reads the states again)."""
        self._states.clear()
        self._known = False

    def update(self, collector: str, *, online: bool | None) -> None:
        """Record ``collector``'s announced state (None: its retained state was cleared)."""
        if online is None:
            self._states.pop(collector, None)
        else:
            self._states[collector] = online

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
        return sorted(c for c, up in self._states.items() if up)

    def may_send(self) -> bool:
        """Whether readings may be handed to the broker now."""
        if self.primary == "none":
            return True
        if not self._known:
            return False
        if self.primary == "any":
            return not self._states or any(self._states.values())
        return all(self._states.get(c, False) for c in self.primary)

    def waiting_for(self) -> str:
        """Why readings are held, in words (empty when they are not)."""
        if self.may_send():
            return ""
        if not self._known:
            return "waiting for the collectors' presence after connecting"
        if self.primary == "any":
            return "no collector is online (" + _states_text(self._states) + ")"
        assert not isinstance(self.primary, str)  # noqa: S101 - "none" always may send
        missing = [c for c in self.primary if not self._states.get(c, False)]
        never = [c for c in missing if c not in self._states]
        text = f"waiting for collector(s) {', '.join(missing)} to be online"
        if never:
            text += f" ({', '.join(never)} never announced on this broker)"
        return text


def _states_text(states: dict[str, bool]) -> str:
    return ", ".join(f"{c} {'online' if up else 'offline'}" for c, up in sorted(states.items()))
