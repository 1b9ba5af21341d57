"""Gateway rules: offline, outbox losing data or backed up, agent problems. Pure.

- ``gateway_offline``: a death certificate (the agent's Will, or its clean stop) raises,
  unless it is stale (its ``bdseq`` older than the latest birth's); a birth or heartbeat
  clears. A gateway whose birth gave ``heartbeat_s`` and that is not heard from again
  within ``missed_heartbeats`` x ``heartbeat_s`` (engine time) raises too: a Will is
  lost when the broker itself crashes, missed heartbeats are not.
- ``outbox_evicting``: the agent's count of readings thrown away (outbox evictions,
  readings dropped from memory) grew since its previous health report: raises; did not
  grow: clears (``keep_firing_s`` damps the bursts). A count that went down (the agent
  restarted) is a new baseline.
- ``outbox_backlog``: the oldest reading waiting in the outbox, against thresholds.
- ``agent_problems``: the health report's ``problems``: any raises, none clears.

A death's ``ts`` is when its Will was set, so status signals are never judged stale by
time; ``bdseq`` orders them instead.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from collector.alerts.model import AlertKey
from collector.alerts.observations import GatewaySeen, HealthSeen
from collector.alerts.rule_settings import GatewayOfflineSettings, RuleName, ThresholdSettings
from collector.alerts.rules.base import Family, Level, threshold_level
from collector.alerts.state import Memo
from collector.attendance.model import WITA

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime

    from collector.alerts.observations import Observation
    from collector.alerts.rules.base import RuleBook, Signal

Gateway = tuple[str, str]
"""(site, gateway)."""


class GatewayRules(Family):
    """The gateway rules (module docstring)."""

    name = "gateways"

    def __init__(self, book: RuleBook) -> None:
        """Gateway rules; no gateway heard of yet."""
        super().__init__(book)
        self._bdseq: dict[Gateway, int] = {}
        self._due: dict[Gateway, datetime] = {}
        """When the next heartbeat must have arrived (engine time), for gateways that beat."""
        self._overdue: set[Gateway] = set()
        self._lost: dict[Gateway, int] = {}

    def observe(self, obs: Observation, now: datetime) -> list[Signal]:
        """Signals of a birth, heartbeat or death, or of a health report."""
        if isinstance(obs, GatewaySeen):
            return self._status(obs, now)
        if isinstance(obs, HealthSeen):
            return self._health(obs)
        return []

    def tick(self, now: datetime) -> list[Signal]:
        """Raise ``gateway_offline`` for gateways whose heartbeats stopped."""
        signals = []
        for gateway, due in sorted(self._due.items()):
            if now >= due and gateway not in self._overdue:
                self._overdue.add(gateway)
                key = AlertKey(RuleName.GATEWAY_OFFLINE.value, *gateway)
                since = f"{due.astimezone(WITA):%d-%m %H:%M:%S} WITA"
                signals += self.book.timed(key, Level.RAISE, f"tidak ada heartbeat sampai {since}")
        return signals

    def _status(self, obs: GatewaySeen, now: datetime) -> list[Signal]:
        source = obs.source
        gateway = (source.site, source.gateway)
        latest = self._bdseq.get(gateway)
        if not obs.online:
            if latest is not None and obs.bdseq < latest:
                return []  # a Will the broker fired late, for a connection already replaced
            self._due.pop(gateway, None)
            self._overdue.discard(gateway)
            return self.book.signal(
                RuleName.GATEWAY_OFFLINE, source, Level.RAISE, value="offline", ordered=False
            )
        self._bdseq[gateway] = obs.bdseq
        self._overdue.discard(gateway)
        rule = self.book.rule(
            RuleName.GATEWAY_OFFLINE, source.site, source.gateway, GatewayOfflineSettings
        )
        if rule is not None and obs.heartbeat_s is not None:
            self._due[gateway] = now + timedelta(seconds=obs.heartbeat_s * rule.missed_heartbeats)
        else:
            self._due.pop(gateway, None)
        return self.book.signal(
            RuleName.GATEWAY_OFFLINE, source, Level.CLEAR, value="online", ordered=False
        )

    def _health(self, obs: HealthSeen) -> list[Signal]:
        source = obs.source
        problems = "; ".join(obs.problems)
        signals = self.book.signal(
            RuleName.AGENT_PROBLEMS,
            source,
            Level.RAISE if obs.problems else Level.CLEAR,
            value=problems or "tidak ada masalah",
        )
        backlog = self.book.rule(
            RuleName.OUTBOX_BACKLOG, source.site, source.gateway, ThresholdSettings
        )
        if backlog is not None:
            age = obs.oldest_age_s
            signals += self.book.signal(
                RuleName.OUTBOX_BACKLOG,
                source,
                threshold_level(age, backlog),
                value="" if age is None else f"bacaan tertua {age / 60:.0f} menit",
                kind=ThresholdSettings,
            )
        if source.historical:
            return signals  # an old report would move the baseline backwards
        gateway = (source.site, source.gateway)
        before = self._lost.get(gateway)
        self._lost[gateway] = obs.lost
        if before is None or obs.lost < before:
            return signals
        grew = obs.lost - before
        level = Level.RAISE if grew else Level.CLEAR
        value = f"{grew} bacaan dibuang sejak laporan sebelumnya" if grew else ""
        return signals + self.book.signal(RuleName.OUTBOX_EVICTING, source, level, value=value)

    def memos(self) -> list[Memo]:
        """Latest births, heartbeat deadlines and loss counters."""
        return [
            *(Memo(self.name, "bdseq", g, text=str(n)) for g, n in self._bdseq.items()),
            *(
                Memo(self.name, "due", g, at=at, number=float(g in self._overdue))
                for g, at in self._due.items()
            ),
            *(Memo(self.name, "lost", g, number=n) for g, n in self._lost.items()),
        ]

    def restore(self, memos: Iterable[Memo]) -> None:
        """Take births, deadlines and counters back."""
        self._bdseq, self._due, self._overdue, self._lost = {}, {}, set(), {}
        for memo in memos:
            if len(memo.subject) != len(("site", "gateway")):
                continue
            gateway = (memo.subject[0], memo.subject[1])
            if memo.kind == "bdseq" and memo.text.isdigit():
                self._bdseq[gateway] = int(memo.text)
            elif memo.kind == "due" and memo.at is not None:
                self._due[gateway] = memo.at
                if memo.number:
                    self._overdue.add(gateway)
            elif memo.kind == "lost" and memo.number is not None:
                self._lost[gateway] = int(memo.number)
