r"""One state machine for every alert key: signals and time in, transitions out. Pure.

Per :class:`~collector.alerts.model.AlertKey`::

    inactive --RAISE--> pending --for_s passed--> firing --clear held keep_firing_s--> resolved
                           \--CLEAR--> resolved (never fired: nobody is told)

- The condition is a latch (hysteresis): RAISE sets it, CLEAR resets it, HOLD (between
  the thresholds) leaves it. Pending fires once the latch has been set for ``for_s``
  (``for_s`` 0: straight to firing); firing resolves once it has been reset for
  ``keep_firing_s``, and a RAISE in between keeps it firing with no transition.
- A pending alert whose condition stops becomes ``resolved`` with ``fired_at`` None:
  its transition does not notify (that is "pending -> inactive").
- A historical (replayed) RAISE is ignored; its CLEAR applies. A signal whose reading is
  older than the newest one already applied to the key is stale and ignored, so a
  replayed "closed" never clears a door that was seen open after it.
- No data: ``no_data_s`` after the last signal about a key, ``resolve`` acts as a CLEAR
  and ``fire`` as a RAISE (``keep`` does nothing). For ``fire`` the key is watched even
  while inactive.
- Firing and resolution times are when they were due (``since + for_s``, clear time +
  ``keep_firing_s``), not when a tick noticed; a transition's ``at`` is the engine time.
- Suppression (``suppressed_by``) is decided by the engine's ``cause_of``; an alert
  people have heard of (firing, not suppressed) is never suppressed afterwards, so its
  resolution is always told.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import TYPE_CHECKING

from collector.alerts.model import Alert, Phase, Transition
from collector.alerts.rule_settings import NoData
from collector.alerts.rules.base import Level
from collector.alerts.state import Track

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping
    from datetime import datetime

    from collector.alerts.model import AlertKey
    from collector.alerts.rule_settings import RuleSettings
    from collector.alerts.rules.base import Signal

    CauseOf = Callable[[AlertKey], AlertKey | None]

NO_DATA_VALUE = "tidak ada data"
"""The value of an alert moved by the no-data behaviour."""


@dataclass(slots=True)
class _Entry:
    rule: RuleSettings
    last_data: datetime
    alert: Alert | None = None
    active: bool = False
    last_at: datetime | None = None
    clear_since: datetime | None = None
    labels: Mapping[str, str] = field(default_factory=dict)


class Lifecycle:
    """The alert keys the engine follows, and their state machines (module docstring)."""

    def __init__(self) -> None:
        """No key followed yet."""
        self._entries: dict[AlertKey, _Entry] = {}

    def phase_of(self, key: AlertKey) -> Phase | None:
        """The phase of ``key``'s alert (None: inactive)."""
        entry = self._entries.get(key)
        return None if entry is None or entry.alert is None else entry.alert.phase

    def alerts(self) -> list[Alert]:
        """The active alerts (pending or firing), in key order."""
        return [e.alert for _, e in sorted(self._entries.items()) if e.alert is not None]

    def tracks(self) -> list[Track]:
        """The per-key times of every followed key, in key order."""
        return [
            Track(key, e.active, e.last_data, e.last_at, e.clear_since)
            for key, e in sorted(self._entries.items())
        ]

    def restore(
        self,
        alerts: Iterable[Alert],
        tracks: Iterable[Track],
        rule_of: Callable[[AlertKey], RuleSettings],
    ) -> None:
        """Follow again what :meth:`alerts` and :meth:`tracks` gave, with current settings."""
        by_key = {alert.key: alert for alert in alerts}
        self._entries = {}
        for track in tracks:
            alert = by_key.pop(track.key, None)
            self._entries[track.key] = _Entry(
                rule=rule_of(track.key),
                last_data=track.last_data,
                alert=alert,
                active=track.active,
                last_at=track.last_at,
                clear_since=track.clear_since,
                labels=alert.labels if alert else {},
            )
        for key, alert in by_key.items():
            # An alert without its track (a store that kept only alerts): its condition holds.
            self._entries[key] = _Entry(rule_of(key), alert.since, alert, active=True)

    def apply(self, signal: Signal, now: datetime, cause_of: CauseOf) -> list[Transition]:
        """Apply one rule's verdict at ``now``."""
        entry = self._entries.get(signal.key)
        if entry is not None and _stale(signal.at, entry.last_at):
            return []
        level = Level.HOLD if signal.historical and signal.level is Level.RAISE else signal.level
        if entry is None:
            if level is not Level.RAISE and signal.rule.no_data is not NoData.FIRE:
                return []
            entry = self._entries[signal.key] = _Entry(signal.rule, now)
        entry.rule = signal.rule
        entry.last_data = now
        if signal.at is not None:
            entry.last_at = signal.at
        return self._move(
            signal.key,
            entry,
            level,
            now,
            value=signal.value,
            labels=signal.labels,
            cause_of=cause_of,
        )

    def advance(self, now: datetime, cause_of: CauseOf) -> list[Transition]:
        """What the passing of time to ``now`` does: for periods, keep-firing, no-data."""
        moved = []
        for key in sorted(self._entries):
            entry = self._entries.get(key)
            if entry is None:
                continue
            if not entry.rule.enabled and entry.alert is not None:
                # The rule was switched off: what people were told fires is told resolved.
                moved.append(self._resolve(key, entry, now, now))
                continue
            moved += self._no_data(key, entry, now, cause_of)
            if key in self._entries:
                moved += self._due(key, entry, now, cause_of)
        return moved

    def rejudge(self, now: datetime, cause_of: CauseOf) -> list[Transition]:
        """Suppression of alerts nobody has heard of yet, after causes changed.

        A firing alert whose cause is gone is *released*: its transition notifies now.
        Pending alerts change without a transition (their firing will carry it).
        """
        moved = []
        for key, entry in sorted(self._entries.items()):
            alert = entry.alert
            if alert is None or (alert.phase is Phase.FIRING and alert.suppressed_by is None):
                continue
            cause = cause_of(key)
            if cause == alert.suppressed_by:
                continue
            entry.alert = replace(alert, suppressed_by=cause)
            if alert.phase is Phase.FIRING:
                moved.append(Transition(entry.alert, Phase.FIRING, now, released=cause is None))
        return moved

    def _move(  # noqa: PLR0913 - one step of the machine needs all of these
        self,
        key: AlertKey,
        entry: _Entry,
        level: Level,
        now: datetime,
        *,
        value: str,
        labels: Mapping[str, str],
        cause_of: CauseOf,
    ) -> list[Transition]:
        alert = entry.alert
        if level is Level.HOLD:
            return []
        if alert is not None and value:
            entry.alert = alert = replace(alert, value=value)
        if level is Level.RAISE:
            entry.active, entry.clear_since, entry.labels = True, None, labels
            if alert is None:
                return [self._start(key, entry, now, value, cause_of)]
            return self._due(key, entry, now, cause_of)
        entry.active = False
        if alert is None:
            return []
        if alert.phase is Phase.PENDING:
            return [self._resolve(key, entry, now, now)]
        if entry.clear_since is None:
            entry.clear_since = now
        return self._due(key, entry, now, cause_of)

    def _start(
        self, key: AlertKey, entry: _Entry, now: datetime, value: str, cause_of: CauseOf
    ) -> Transition:
        rule = entry.rule
        fires = rule.for_s == 0
        entry.alert = Alert(
            key=key,
            severity=rule.severity,
            audience=rule.audience,
            phase=Phase.FIRING if fires else Phase.PENDING,
            since=now,
            fired_at=now if fires else None,
            value=value,
            labels=entry.labels,
            suppressed_by=cause_of(key),
        )
        return Transition(entry.alert, None, now)

    def _due(
        self, key: AlertKey, entry: _Entry, now: datetime, cause_of: CauseOf
    ) -> list[Transition]:
        alert = entry.alert
        if alert is None:
            return []
        if alert.phase is Phase.PENDING and entry.active:
            fire_at = alert.since + timedelta(seconds=entry.rule.for_s)
            if now >= fire_at:
                entry.alert = replace(
                    alert, phase=Phase.FIRING, fired_at=fire_at, suppressed_by=cause_of(key)
                )
                return [Transition(entry.alert, Phase.PENDING, now)]
        elif alert.phase is Phase.FIRING and not entry.active and entry.clear_since is not None:
            resolve_at = entry.clear_since + timedelta(seconds=entry.rule.keep_firing_s)
            if now >= resolve_at:
                return [self._resolve(key, entry, now, resolve_at)]
        return []

    def _resolve(self, key: AlertKey, entry: _Entry, now: datetime, at: datetime) -> Transition:
        alert = entry.alert
        assert alert is not None  # noqa: S101 - only called for an active alert
        resolved = replace(alert, phase=Phase.RESOLVED, resolved_at=at)
        entry.alert, entry.active, entry.clear_since = None, False, None
        if entry.rule.no_data is not NoData.FIRE:
            del self._entries[key]
        return Transition(resolved, alert.phase, now)

    def _no_data(
        self, key: AlertKey, entry: _Entry, now: datetime, cause_of: CauseOf
    ) -> list[Transition]:
        rule = entry.rule
        if rule.no_data is NoData.KEEP or rule.no_data_s is None:
            return []
        if now - entry.last_data < timedelta(seconds=rule.no_data_s):
            return []
        entry.last_data = now
        level = Level.RAISE if rule.no_data is NoData.FIRE else Level.CLEAR
        return self._move(
            key, entry, level, now, value=NO_DATA_VALUE, labels=entry.labels, cause_of=cause_of
        )


def _stale(at: datetime | None, last_at: datetime | None) -> bool:
    return at is not None and last_at is not None and at < last_at
