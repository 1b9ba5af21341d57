"""The alert engine: observations and time in, transitions out. Pure (no IO, no clock).

::

    engine = Engine(settings, calendar, registry)
    for obs in from_envelope(envelope):
        transitions += engine.observe(obs, now)
    transitions += engine.tick(now)        # about every second: timers

Each call runs the rule families (:mod:`collector.alerts.rules`) on what arrived, feeds
their signals to the one lifecycle (:mod:`collector.alerts.lifecycle`), lets time pass
to ``now`` (for periods, keep-firing, no-data, the families' own timers), and settles
dependencies (:mod:`collector.alerts.dependencies`). Transitions come in a fixed order:
those of the signals in arrival order, then those of time in key order.

``now`` is the engine's clock (UTC, aware). A ``now`` earlier than one already given is
taken as that one: time never runs backwards inside the engine.

:meth:`Engine.snapshot` exports everything the engine knows as plain values
(:mod:`collector.alerts.state`) and :meth:`Engine.restore` takes it back: a restarted
engine restored from the snapshot taken after the last call gives the same transitions
as one that never stopped, so nothing is sent twice and nothing is forgotten.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from collector.alerts.dependencies import Dependencies
from collector.alerts.lifecycle import Lifecycle
from collector.alerts.rule_settings import RuleName, RuleSettings
from collector.alerts.rules.badges import CardCheck
from collector.alerts.rules.base import RuleBook
from collector.alerts.rules.cards import CardRules
from collector.alerts.rules.doors import DoorRules
from collector.alerts.rules.gateways import GatewayRules
from collector.alerts.rules.network import NetworkRules
from collector.alerts.state import Snapshot

if TYPE_CHECKING:
    from datetime import datetime

    from collector.alerts.model import Alert, AlertKey, Transition
    from collector.alerts.observations import Observation
    from collector.alerts.rules.base import Signal
    from collector.alerts.settings import AlertSettings
    from collector.attendance.calendar import Calendar
    from collector.attendance.rules import RegistryValues

_GONE = RuleSettings(enabled=False)
"""The settings of a restored alert whose rule no longer exists: it resolves."""


class Engine:
    """The alert rules and their state (module docstring)."""

    def __init__(
        self, settings: AlertSettings, calendar: Calendar, registry: RegistryValues
    ) -> None:
        """An engine with no alert yet.

        Args:
            settings: the rules part of the alert configuration.
            calendar: holidays and Ramadan (``door_after_hours``).
            registry: employees and cards (card rules, ``door_forced_open``).
        """
        self._book = RuleBook(settings)
        cards = CardCheck(registry)
        self._doors = DoorRules(self._book, calendar, cards)
        self._cards = CardRules(self._book, cards)
        self._families = (
            self._doors,
            self._cards,
            NetworkRules(self._book),
            GatewayRules(self._book),
        )
        self._life = Lifecycle()
        self._deps = Dependencies(settings.dependencies.settle_s, self._life.phase_of)
        self._now: datetime | None = None

    def use_registry(self, registry: RegistryValues) -> None:
        """Judge cards with ``registry`` from now on (the registry changed)."""
        cards = CardCheck(registry)
        self._doors.cards = cards
        self._cards.cards = cards

    def observe(self, obs: Observation, now: datetime) -> list[Transition]:
        """What ``obs`` (and time passing to ``now``) changes."""
        now = self._advance_clock(now)
        signals = [signal for family in self._families for signal in family.observe(obs, now)]
        return self._step(signals, now)

    def tick(self, now: datetime) -> list[Transition]:
        """What time passing to ``now`` changes: call it about every second."""
        now = self._advance_clock(now)
        signals = [signal for family in self._families for signal in family.tick(now)]
        return self._step(signals, now)

    def alerts(self) -> list[Alert]:
        """The active alerts (pending or firing), in key order."""
        return self._life.alerts()

    def snapshot(self) -> Snapshot:
        """Everything the engine knows, as plain values."""
        return Snapshot(
            alerts=tuple(self._life.alerts()),
            tracks=tuple(self._life.tracks()),
            settling=tuple(self._deps.settling()),
            memos=tuple(memo for family in self._families for memo in family.memos()),
            now=self._now,
        )

    def restore(self, snapshot: Snapshot) -> None:
        """Go on from ``snapshot`` (an engine's :meth:`snapshot`); what was known is replaced."""
        self._life.restore(snapshot.alerts, snapshot.tracks, self._rule_of)
        self._deps.restore(snapshot.settling)
        for family in self._families:
            family.restore(memo for memo in snapshot.memos if memo.family == family.name)
        self._now = snapshot.now

    def _rule_of(self, key: AlertKey) -> RuleSettings:
        if key.rule not in RuleName.__members__.values():
            return _GONE
        rule = self._book.settings.rule(
            RuleName(key.rule), key.site, self._book.settings.building_of(key.site, key.gateway)
        )
        return rule if rule.enabled else _GONE

    def _advance_clock(self, now: datetime) -> datetime:
        if self._now is not None and now < self._now:
            now = self._now
        self._now = now
        self._deps.at(now)
        return now

    def _step(self, signals: list[Signal], now: datetime) -> list[Transition]:
        moved: list[Transition] = []
        cause_of = self._deps.cause_of
        for signal in signals:
            step = self._life.apply(signal, now, cause_of)
            # A cause that moved changes how the next signals are judged.
            self._deps.note(step, now)
            moved += step
        step = self._life.advance(now, cause_of)
        self._deps.note(step, now)
        moved += step
        moved += self._life.rejudge(now, cause_of)
        return moved
