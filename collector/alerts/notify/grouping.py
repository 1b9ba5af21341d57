"""Alertmanager-like grouping of notifiable transitions into notifications. Pure (``now`` in).

Alerts are grouped per audience and group key (the site, or the site and building:
``security bukit-pelangi``). For each group:

- A newly firing alert waits ``group_wait_s`` from the first one of a fresh group, so a
  burst (a whole building's 50 ports down) becomes one message; once the group has sent,
  later firings wait until ``group_interval_s`` after that message.
- A critical alert skips both (``critical_skip_wait``): it and whatever else is waiting in
  its group go out at once.
- A resolution goes out at once, never held for the interval: it is good news people act
  on ("the door is closed, call the guard back"). An alert that resolves before its firing
  was sent is reported once, in the resolved message (with when it fired).
- Alerts still firing are reported again (``repeat``) every ``repeat_interval_s``.

So every firing transition appears in exactly one firing (or, resolved first, resolved)
message, and every resolution in exactly one resolved message. Notification ids are
derived from what they report (kind, group, each alert's key and times), so the same
history gives the same ids: a store that already holds one recognises a re-send.

:meth:`Grouper.export` gives the state as JSON-ready values; :meth:`Grouper.restore` takes
them back, e.g. after a restart (restored, it makes the same notifications it would have).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from collector.alerts.codec import alert_from_json, alert_to_json
from collector.alerts.model import (
    Alert,
    AlertKey,
    Audience,
    Notification,
    NotificationKind,
    Phase,
    Severity,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

    from collector.alerts.model import Transition
    from collector.alerts.notify.settings import GroupingSettings

STATE_VERSION: Final = 1


@dataclass(slots=True)
class _Group:
    """One group's state (mutable: owned by its :class:`Grouper` alone)."""

    audience: Audience
    name: str
    waiting: dict[AlertKey, tuple[Alert, datetime]] = field(default_factory=dict)
    """Fired, not yet reported: the alert and when its transition happened."""
    resolved: list[tuple[Alert, datetime]] = field(default_factory=list)
    """Resolved, not yet reported."""
    active: dict[AlertKey, Alert] = field(default_factory=dict)
    """Reported as firing, not yet resolved."""
    last_firing_at: datetime | None = None
    """When this group's last firing or repeat message was made."""

    @property
    def empty(self) -> bool:
        return not (self.waiting or self.resolved or self.active)


class Grouper:
    """Turns transitions into grouped notifications (see the module docstring)."""

    def __init__(self, settings: GroupingSettings) -> None:
        """Group with ``settings``' timings, starting with no state."""
        self.settings = settings
        self._wait = timedelta(seconds=settings.group_wait_s)
        self._interval = timedelta(seconds=settings.group_interval_s)
        self._repeat = timedelta(seconds=settings.repeat_interval_s)
        self._groups: dict[tuple[Audience, str], _Group] = {}

    def group_name(self, alert: Alert) -> str:
        """``security bukit-pelangi`` (or ``... bukit-pelangi/Kantor Bupati`` by building)."""
        where = alert.key.site
        building = alert.labels.get("building", "")
        if self.settings.by == "building" and building:
            where = f"{where}/{building}"
        return f"{alert.audience.value} {where}"

    def add(self, transition: Transition) -> None:
        """Take one transition (those that do not notify are ignored)."""
        if not transition.notifies:
            return
        alert, at = transition.alert, transition.at
        name = self.group_name(alert)
        group = self._groups.setdefault((alert.audience, name), _Group(alert.audience, name))
        if alert.phase is Phase.FIRING:
            if alert.key in group.active:
                group.active[alert.key] = alert  # already reported: never twice
            else:
                group.waiting[alert.key] = (alert, at)
            return
        # Resolved. Reported whether or not its firing went out (or was ever seen here):
        # a resolution is never forgotten.
        group.waiting.pop(alert.key, None)
        group.active.pop(alert.key, None)
        group.resolved.append((alert, at))

    def add_all(self, transitions: Iterable[Transition]) -> None:
        """:meth:`add` each of ``transitions``, in order."""
        for transition in transitions:
            self.add(transition)

    # -- timing -------------------------------------------------------------------------

    def _firing_due(self, group: _Group) -> datetime | None:
        if not group.waiting:
            return None
        arrivals = [at for _, at in group.waiting.values()]
        first = min(arrivals)
        if group.last_firing_at is None:
            normal = first + self._wait
        else:
            normal = max(first, group.last_firing_at + self._interval)
        if self.settings.critical_skip_wait:
            urgent = [at for a, at in group.waiting.values() if a.severity is Severity.CRITICAL]
            if urgent:
                return min(normal, *urgent)
        return normal

    def _repeat_due(self, group: _Group) -> datetime | None:
        if group.waiting or not group.active or group.last_firing_at is None:
            return None
        return group.last_firing_at + self._repeat

    def _forgettable(self, group: _Group, now: datetime) -> bool:
        # An empty group is kept for one interval, so an alert that flaps back right after
        # its resolution waits for the interval instead of starting a fresh group_wait.
        if not group.empty:
            return False
        return group.last_firing_at is None or group.last_firing_at + self._interval <= now

    def next_due(self) -> datetime | None:
        """When :meth:`due` next has something to do (None: nothing waits)."""
        times: list[datetime] = []
        for group in self._groups.values():
            times += [at for _, at in group.resolved]
            times += [t for t in (self._firing_due(group), self._repeat_due(group)) if t]
        return min(times, default=None)

    def due(self, now: datetime) -> list[Notification]:
        """The notifications due at ``now``, resolved ones first; the state moves on."""
        made: list[Notification] = []
        for gid, group in list(self._groups.items()):
            made += self._flush(group, now)
            if self._forgettable(group, now):
                del self._groups[gid]
        return made

    def _flush(self, group: _Group, now: datetime) -> list[Notification]:
        made = []
        ready = [alert for alert, at in group.resolved if at <= now]
        if ready:
            group.resolved = [(alert, at) for alert, at in group.resolved if at > now]
            made.append(_notification(NotificationKind.RESOLVED, group, ready, now))
        firing_due = self._firing_due(group)
        repeat_due = self._repeat_due(group)
        if firing_due is not None and firing_due <= now:
            alerts = [alert for alert, _ in sorted(group.waiting.values(), key=lambda p: p[1])]
            group.active.update((a.key, a) for a in alerts)
            group.waiting.clear()
            group.last_firing_at = now
            made.append(_notification(NotificationKind.FIRING, group, alerts, now))
        elif repeat_due is not None and repeat_due <= now:
            alerts = sorted(group.active.values(), key=lambda a: a.key)
            group.last_firing_at = now
            made.append(_notification(NotificationKind.REPEAT, group, alerts, now, repeat_due))
        return made

    # -- state ----------------------------------------------------------------------------

    def export(self) -> dict[str, Any]:
        """The whole state as JSON-ready values (see :meth:`restore`)."""
        return {
            "version": STATE_VERSION,
            "groups": [
                {
                    "audience": g.audience.value,
                    "name": g.name,
                    "waiting": [
                        {"alert": alert_to_json(a), "at": at.isoformat()}
                        for a, at in g.waiting.values()
                    ],
                    "resolved": [
                        {"alert": alert_to_json(a), "at": at.isoformat()} for a, at in g.resolved
                    ],
                    "active": [alert_to_json(a) for a in g.active.values()],
                    "last_firing_at": g.last_firing_at.isoformat() if g.last_firing_at else None,
                }
                for g in self._groups.values()
            ],
        }

    @classmethod
    def restore(cls, settings: GroupingSettings, state: dict[str, Any]) -> Grouper:
        """A grouper with ``state`` (from :meth:`export`) and ``settings``' timings.

        Raises:
            ValueError: the state is of another version or malformed.
        """
        if state.get("version") != STATE_VERSION:
            raise ValueError(
                f"expected grouping state version {STATE_VERSION}, got {state.get('version')!r}"
            )
        grouper = cls(settings)
        try:
            for data in state["groups"]:
                group = _Group(Audience(data["audience"]), str(data["name"]))
                for item in data["waiting"]:
                    alert = alert_from_json(item["alert"])
                    group.waiting[alert.key] = (alert, datetime.fromisoformat(item["at"]))
                group.resolved = [
                    (alert_from_json(i["alert"]), datetime.fromisoformat(i["at"]))
                    for i in data["resolved"]
                ]
                group.active = {a.key: a for a in map(alert_from_json, data["active"])}
                last = data["last_firing_at"]
                group.last_firing_at = None if last is None else datetime.fromisoformat(last)
                grouper._groups[(group.audience, group.name)] = group
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"malformed grouping state: {type(exc).__name__}: {exc}") from None
        return grouper


def _notification(
    kind: NotificationKind,
    group: _Group,
    alerts: list[Alert],
    now: datetime,
    scheduled: datetime | None = None,
) -> Notification:
    return Notification(
        id=notification_id(kind, group.audience, group.name, alerts, scheduled),
        kind=kind,
        audience=group.audience,
        group=group.name,
        alerts=tuple(alerts),
        created_at=now,
    )


def notification_id(
    kind: NotificationKind,
    audience: Audience,
    group: str,
    alerts: Iterable[Alert],
    scheduled: datetime | None = None,
) -> str:
    """A stable id from what a notification reports (a repeat: also when it was due).

    A firing is identified by its key and when it fired, a resolution by when it resolved:
    the same report made again (after a restart) gets the same id, another one never does.
    """
    digest = hashlib.sha256(f"{kind.value}|{audience.value}|{group}".encode())
    for alert in alerts:
        key = alert.key
        times = (alert.since, alert.fired_at, alert.resolved_at)
        # A unit separator between the parts: a port named ge-0/0/1 holds slashes.
        parts = [key.rule, key.site, key.gateway, key.device, key.item, alert.phase.value]
        parts += [t.isoformat() if t else "-" for t in times]
        digest.update(("\n" + "\x1f".join(parts)).encode())
    if scheduled is not None:
        digest.update(f"\nat {scheduled.isoformat()}".encode())
    return f"{kind.value}-{digest.hexdigest()[:24]}"
