"""Which alert explains which: a cause suppresses its symptoms. Pure.

- ``gateway_offline`` of a gateway suppresses every other alert of that gateway (its
  doors, readers, switches and ports, its agent's own health).
- ``switch_unreachable`` of a switch suppresses the port rules of that switch.

A cause counts while its alert is pending or firing, and for ``settle_s`` after it
resolved: a gateway that comes back replays its outbox and sends fresh readings, which
clear most symptoms before anyone would be told of them. A symptom still firing once
its cause no longer counts is *released* (its transition notifies: the problem is real
and still there). The gateway comes first: a port behind an offline gateway and an
unreachable switch is suppressed by the gateway.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from collector.alerts.model import AlertKey, Phase
from collector.alerts.rule_settings import PORT_RULES, RuleName

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from datetime import datetime

    from collector.alerts.model import Transition

CAUSES = frozenset({RuleName.GATEWAY_OFFLINE.value, RuleName.SWITCH_UNREACHABLE.value})
_PORT_RULES = frozenset(rule.value for rule in PORT_RULES)


class Dependencies:
    """Decides ``suppressed_by`` from the causes' phases and their settling times."""

    def __init__(self, settle_s: float, phase_of: Callable[[AlertKey], Phase | None]) -> None:
        """Causes settle for ``settle_s``; ``phase_of`` tells where a cause's alert stands."""
        self._settle = timedelta(seconds=settle_s)
        self._phase_of = phase_of
        self._settling: dict[AlertKey, datetime] = {}
        self._now: datetime | None = None

    def at(self, now: datetime) -> None:
        """Judge from ``now`` on; causes whose settling ended are forgotten."""
        self._now = now
        self._settling = {key: until for key, until in self._settling.items() if until > now}

    def note(self, transitions: Iterable[Transition], now: datetime) -> None:
        """Start the settling of causes that resolved, end it for causes active again."""
        for transition in transitions:
            key = transition.alert.key
            if key.rule not in CAUSES:
                continue
            if transition.alert.phase is Phase.RESOLVED:
                self._settling[key] = now + self._settle
            else:
                self._settling.pop(key, None)

    def cause_of(self, key: AlertKey) -> AlertKey | None:
        """The cause that explains ``key``'s alert right now (None: nothing does)."""
        if key.rule != RuleName.GATEWAY_OFFLINE and key.gateway:
            gateway = AlertKey(RuleName.GATEWAY_OFFLINE.value, key.site, key.gateway)
            if self._counts(gateway):
                return gateway
        if key.rule in _PORT_RULES:
            switch = AlertKey(RuleName.SWITCH_UNREACHABLE.value, key.site, key.gateway, key.device)
            if self._counts(switch):
                return switch
        return None

    def _counts(self, cause: AlertKey) -> bool:
        if self._phase_of(cause) in {Phase.PENDING, Phase.FIRING}:
            return True
        until = self._settling.get(cause)
        return until is not None and (self._now is None or until > self._now)

    def settling(self) -> list[tuple[AlertKey, datetime]]:
        """The causes settling, and until when (for a snapshot)."""
        return sorted(self._settling.items())

    def restore(self, settling: Iterable[tuple[AlertKey, datetime]]) -> None:
        """Take back what :meth:`settling` gave."""
        self._settling = dict(settling)
