"""Card rules: an unknown card, a card of an inactive employee. Pure.

Both count live reads of one card at one reader (the alert key's ``item`` is the uid)
over a sliding ``window_s`` of engine time: ``count`` reads in the window raise (with
the defaults, one read is enough), and the alert clears once the window holds no read
of that card any more, so an alert about a card tapped once resolves ``window_s`` later
and one tapped again and again stays a single alert.

Replayed (historical) reads are not counted: they never raise.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from collector.alerts.model import AlertKey
from collector.alerts.observations import CardSeen
from collector.alerts.rule_settings import CardWindowSettings, RuleName
from collector.alerts.rules.badges import CardStatus
from collector.alerts.rules.base import Family, Level, Signal
from collector.alerts.state import Memo

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime

    from collector.alerts.observations import Observation
    from collector.alerts.rules.badges import CardCheck, Verdict
    from collector.alerts.rules.base import RuleBook


class CardRules(Family):
    """The card rules (module docstring)."""

    name = "cards"

    def __init__(self, book: RuleBook, cards: CardCheck) -> None:
        """Card rules judging reads with ``cards``."""
        super().__init__(book)
        self.cards = cards
        self._reads: dict[AlertKey, list[datetime]] = {}

    def observe(self, obs: Observation, now: datetime) -> list[Signal]:
        """Count a live read of a card that is not valid; raise once there are enough."""
        if not isinstance(obs, CardSeen) or obs.source.historical:
            return []
        verdict = self.cards.judge(obs)
        if verdict.status is CardStatus.VALID:
            return []
        name = (
            RuleName.CARD_UNKNOWN
            if verdict.status is CardStatus.UNKNOWN
            else RuleName.CARD_INACTIVE
        )
        source = obs.source
        rule = self.book.rule(name, source.site, source.gateway, CardWindowSettings)
        if rule is None:
            return []
        key = AlertKey(name.value, source.site, source.gateway, source.device, obs.uid)
        reads = self._reads.setdefault(key, [])
        reads.append(now)
        _prune(reads, now, rule)
        level = Level.RAISE if len(reads) >= rule.count else Level.HOLD
        labels = self.book.labels(source.site, source.gateway, **self._labels(obs, verdict))
        return [
            Signal(
                key, level, rule, source.at, value=_value(obs, verdict, reads, rule), labels=labels
            )
        ]

    def tick(self, now: datetime) -> list[Signal]:
        """Clear the alerts whose window no longer holds any read."""
        signals = []
        for key in sorted(self._reads):
            reads = self._reads[key]
            rule = self.book.rule(RuleName(key.rule), key.site, key.gateway, CardWindowSettings)
            if rule is not None:
                _prune(reads, now, rule)
            if rule is None or not reads:
                del self._reads[key]
                signals += self.book.timed(key, Level.CLEAR, "tidak dibaca lagi")
        return signals

    def _labels(self, obs: CardSeen, verdict: Verdict) -> dict[str, str | None]:
        holders = ", ".join(f"{self.cards.name_of(k)} ({k})" for k in verdict.holders)
        return {"card": obs.printed or obs.uid, "holder": holders or None}

    def memos(self) -> list[Memo]:
        """The reads still inside their windows."""
        return [
            Memo(self.name, "read", (key.rule, key.site, key.gateway, key.device, key.item), at=at)
            for key, reads in self._reads.items()
            for at in reads
        ]

    def restore(self, memos: Iterable[Memo]) -> None:
        """Take the reads back."""
        self._reads = {}
        for memo in memos:
            if memo.kind == "read" and memo.at is not None and len(memo.subject) == 5:
                self._reads.setdefault(AlertKey(*memo.subject), []).append(memo.at)


def _prune(reads: list[datetime], now: datetime, rule: CardWindowSettings) -> None:
    oldest = now - timedelta(seconds=rule.window_s)
    reads[:] = [at for at in reads if at > oldest]


def _value(obs: CardSeen, verdict: Verdict, reads: list[datetime], rule: CardWindowSettings) -> str:
    what = (
        "kartu tidak dikenal"
        if verdict.status is CardStatus.UNKNOWN
        else "kartu tidak berlaku / pegawai tidak aktif"
    )
    times = f", {len(reads)}x dalam {rule.window_s / 60:g} menit" if rule.count > 1 else ""
    return f"{what} {obs.printed or obs.uid}{times}"
