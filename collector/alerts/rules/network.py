"""Network rules: port down, error and discard rates, utilisation, switch unreachable. Pure.

- ``port_down``: a port whose operational status is down, lower-layer-down or not
  present raises; up clears; a port taken down on purpose (admin down) clears too;
  other statuses hold. Only the switch's critical ports unless the rule says ``all``.
  Fed by every poll (:class:`PortSeen`) and by the port-change events.
- ``port_errors`` / ``port_discards``: in + out per second against the rule's
  thresholds; ``port_utilisation``: the busier direction as a percentage of the port's
  speed, for ``for_s`` (default 10 minutes). A rate the agent could not compute holds.
- ``switch_unreachable``: the reachability event raises or clears; any port reading
  clears (the switch answered a poll).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from collector.alerts.observations import PortChanged, PortSeen, ReachabilitySeen
from collector.alerts.rule_settings import PortDownSettings, RuleName, ThresholdSettings
from collector.alerts.rules.base import Family, Level, threshold_level

if TYPE_CHECKING:
    from datetime import datetime

    from collector.alerts.observations import Observation, Source
    from collector.alerts.rules.base import Signal
    from pelangi.payloads import PortStatus

DOWN: Final = frozenset({"down", "lower_layer_down", "not_present"})
BITS_PER_MBIT: Final = 1_000_000


def utilisation(port: PortSeen) -> float | None:
    """The busier direction's rate as a percentage of the port's speed (None: unknown)."""
    rates = [rate for rate in (port.in_bps, port.out_bps) if rate is not None]
    if not rates or not port.speed_mbps:
        return None
    return 100 * max(rates) / (port.speed_mbps * BITS_PER_MBIT)


class NetworkRules(Family):
    """The switch rules (module docstring)."""

    name = "network"

    def observe(self, obs: Observation, now: datetime) -> list[Signal]:  # noqa: ARG002
        """Signals of a port poll, a port change or a reachability event."""
        if isinstance(obs, ReachabilitySeen):
            level = Level.CLEAR if obs.reachable else Level.RAISE
            value = "menjawab" if obs.reachable else f"tidak menjawab SNMP ({obs.detail or '-'})"
            return self.book.signal(RuleName.SWITCH_UNREACHABLE, obs.source, level, value=value)
        if isinstance(obs, PortChanged):
            return self._down(obs.source, obs.port, obs.current, None, None)
        if isinstance(obs, PortSeen):
            return [
                *self.book.signal(RuleName.SWITCH_UNREACHABLE, obs.source, Level.CLEAR),
                *self._down(obs.source, obs.port, obs.oper, obs.admin, obs.alias),
                *self._rate(RuleName.PORT_ERRORS, obs, obs.errors_ps, "error {:.2f}/s"),
                *self._rate(RuleName.PORT_DISCARDS, obs, obs.discards_ps, "discard {:.2f}/s"),
                *self._rate(RuleName.PORT_UTILISATION, obs, utilisation(obs), "utilisasi {:.0f}%"),
            ]
        return []

    def _down(
        self,
        source: Source,
        port: str,
        oper: PortStatus | None,
        admin: PortStatus | None,
        alias: str | None,
    ) -> list[Signal]:
        rule = self.book.rule(RuleName.PORT_DOWN, source.site, source.gateway, PortDownSettings)
        if rule is None:
            return []
        critical = self.book.settings.critical_ports(source.site, source.gateway, source.device)
        if rule.ports == "critical" and port not in critical:
            return []
        if admin == "down" or oper == "up":
            level = Level.CLEAR
        elif oper in DOWN:
            level = Level.RAISE
        else:
            level = Level.HOLD
        return self.book.signal(
            RuleName.PORT_DOWN,
            source,
            level,
            item=port,
            value=oper or "tidak diketahui",
            labels={"alias": alias, "critical": "ya" if port in critical else None},
            kind=PortDownSettings,
        )

    def _rate(
        self, name: RuleName, port: PortSeen, value: float | None, words: str
    ) -> list[Signal]:
        source = port.source
        rule = self.book.rule(name, source.site, source.gateway, ThresholdSettings)
        if rule is None:
            return []
        return self.book.signal(
            name,
            source,
            threshold_level(value, rule),
            item=port.port,
            value="" if value is None else words.format(value),
            labels={"alias": port.alias},
            kind=ThresholdSettings,
        )
