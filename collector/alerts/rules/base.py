"""What the rule families share: the signals they give the engine, and their settings. Pure.

A rule family (doors, cards, network, gateways) never moves an alert itself. It turns an
observation (or the passing of time) into :class:`Signal` values: for an alert key, the
raise condition holds (``RAISE``), the clear condition holds (``CLEAR``), or neither
(``HOLD``: between the thresholds, or no honest value). The engine's lifecycle
(:mod:`collector.alerts.lifecycle`) turns signals into phases, with ``for_s``,
``keep_firing_s``, no-data and suppression applied the same way for every rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, TypeVar

from collector.alerts.model import AlertKey
from collector.alerts.rule_settings import RuleName, RuleSettings, ThresholdSettings

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from datetime import datetime

    from collector.alerts.observations import Observation, Source
    from collector.alerts.settings import AlertSettings
    from collector.alerts.state import Memo

R = TypeVar("R", bound=RuleSettings)


class Level(Enum):
    """Which of a rule's conditions holds."""

    RAISE = "raise"
    CLEAR = "clear"
    HOLD = "hold"
    """Neither: between the raise and the clear threshold, or no honest value."""


@dataclass(frozen=True, slots=True)
class Signal:
    """A rule's verdict about one alert key.

    Attributes:
        key: the alert it is about.
        level: which condition holds.
        rule: the rule's settings where the key is (site and building overrides applied).
        at: the reading time it comes from (None: made by a timer), to tell stale readings.
        historical: from a replayed reading: may clear, never raises.
        value: the current value in words, for messages.
        labels: what messages show beside the key (building, port alias, employee...).
    """

    key: AlertKey
    level: Level
    rule: RuleSettings
    at: datetime | None = None
    historical: bool = False
    value: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)


def threshold_level(value: float | None, rule: ThresholdSettings) -> Level:
    """RAISE above ``raise_above``, CLEAR at or below ``clear_below``, else (or None) HOLD."""
    if value is None:
        return Level.HOLD
    if value > rule.raise_above:
        return Level.RAISE
    if value <= rule.clear_below:
        return Level.CLEAR
    return Level.HOLD


class RuleBook:
    """The settings of each rule per site and building, looked up once and kept."""

    def __init__(self, settings: AlertSettings) -> None:
        """Look rules up in ``settings``."""
        self.settings = settings
        self._rules: dict[tuple[RuleName, str, str], RuleSettings] = {}

    def rule(self, name: RuleName, site: str, gateway: str, kind: type[R]) -> R | None:
        """Rule ``name``'s settings for ``gateway`` of ``site``; None if it is disabled there."""
        found = self._rules.get((name, site, gateway))
        if found is None:
            building = self.settings.building_of(site, gateway)
            found = self._rules[name, site, gateway] = self.settings.rule(name, site, building)
        if not isinstance(found, kind):
            raise TypeError(f"rule {name} has settings {type(found).__name__}, not {kind.__name__}")
        return found if found.enabled else None

    def labels(self, site: str, gateway: str, **extra: str | None) -> dict[str, str]:
        """``extra`` (those set) and the gateway's building, if the settings name it."""
        found = {name: value for name, value in extra.items() if value}
        building = self.settings.building_of(site, gateway)
        if building is not None:
            found["building"] = building
        return found

    def signal(  # noqa: PLR0913 - the parts of a signal, all by keyword but the first three
        self,
        name: RuleName,
        source: Source,
        level: Level,
        *,
        item: str = "",
        value: str = "",
        labels: Mapping[str, str | None] | None = None,
        kind: type[RuleSettings] = RuleSettings,
        ordered: bool = True,
    ) -> list[Signal]:
        """The signal of rule ``name`` about ``source``'s device (none if it is disabled).

        ``ordered`` False: the reading's time says nothing about which news is newer (a
        gateway's Will carries the time it was set), so the signal is never stale.
        """
        rule = self.rule(name, source.site, source.gateway, kind)
        if rule is None:
            return []
        key = AlertKey(name.value, source.site, source.gateway, source.device, item)
        return [
            Signal(
                key,
                level,
                rule,
                at=source.at if ordered else None,
                historical=source.historical,
                value=value,
                labels=self.labels(source.site, source.gateway, **(labels or {})),
            )
        ]

    def timed(self, key: AlertKey, level: Level, value: str = "") -> list[Signal]:
        """A signal a timer made about ``key`` (no reading time, never historical)."""
        rule = self.rule(RuleName(key.rule), key.site, key.gateway, RuleSettings)
        if rule is None:
            return []
        labels = self.labels(key.site, key.gateway)
        return [Signal(key, level, rule, value=value, labels=labels)]


class Family:
    """A rule family: observations and time in, signals out; its memory as memos.

    Subclasses override :meth:`observe`, and :meth:`tick`, :meth:`memos` and
    :meth:`restore` when they have timers or memory of their own.
    """

    name = ""

    def __init__(self, book: RuleBook) -> None:
        """A family looking its rules up in ``book``."""
        self.book = book

    def observe(self, obs: Observation, now: datetime) -> list[Signal]:  # noqa: ARG002 - hook
        """The signals ``obs`` gives (none by default)."""
        return []

    def tick(self, now: datetime) -> list[Signal]:  # noqa: ARG002 - a hook for timers
        """The signals the passing of time gives (none by default)."""
        return []

    def memos(self) -> list[Memo]:
        """What the family remembers, as plain values (nothing by default)."""
        return []

    def restore(self, memos: Iterable[Memo]) -> None:
        """Take back what :meth:`memos` gave (only this family's memos are passed)."""
