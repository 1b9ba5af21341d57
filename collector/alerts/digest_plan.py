"""The daily digest: when it is due, what night it covers, what goes in it. Pure.

The engine (:mod:`collector.alerts.digest_job`) asks :func:`due_day` every tick. Once
today's ``digest.at`` (WITA) has passed and today's digest is not queued yet, it reads the
night's door states and yesterday's attendance from InfluxDB and hands them here with its
own alerts; :func:`make_digest` folds them into a :class:`~.notify.digest.Digest` and
:func:`digest_notifications` makes one notification per audience.

- *When*: at ``digest.at`` WITA, or as soon after it as the engine runs that day (an
  engine down at 07:00 sends the digest when it is back, the same day). A day's digest
  is made once: its notification ids are ``digest-<day>-<audience>``, which the store
  never queues twice, so a restart or a standby taking over does not send it again.
- *The night*: from ``digest.night_from`` the evening before to ``digest.at``. A door
  counts if it was open at any moment of it (opened before and still open at its start
  included). ``unknown`` (the sensor silent) neither opens nor closes: a door open then
  silent is still reported open until a reading says ``closed``.
- *Attendance*: yesterday's ``attendance_day`` points per unit: present on time (``H``,
  TL0), late (``H``, TL1-4), absent (``TK``), on leave (``I``, ``S``, ``C``, ``DL``,
  ``TB``); ``libur`` (a day off for that person) is not counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Final

from collector.alerts.model import Notification, NotificationKind, Phase, Severity
from collector.alerts.notify.digest import Digest, DoorOpenOvernight, GatewayOffline, UnitAttendance
from collector.alerts.rule_settings import RuleName
from collector.attendance.model import WITA

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence
    from datetime import date

    from collector.alerts.model import Alert, Audience
    from collector.alerts.notify.settings import DigestSettings

OPEN: Final = "open"
CLOSED: Final = "closed"
LEAVE_STATUSES: Final = frozenset({"I", "S", "C", "DL", "TB"})
_SEVERITY_RANK: Final = {Severity.CRITICAL: 0, Severity.WARNING: 1, Severity.INFO: 2}


@dataclass(frozen=True, slots=True)
class DoorState:
    """One stored door reading: ``state`` is ``open``, ``closed`` or ``unknown``."""

    site: str
    gateway: str
    door: str
    at: datetime
    state: str


@dataclass(frozen=True, slots=True)
class StatusCount:
    """How many of a unit's staff had one status yesterday (``late``: of them, TL1-4)."""

    unit: str
    status: str
    count: int
    late: int = 0


def due_day(now: datetime, settings: DigestSettings) -> date | None:
    """The WITA day whose digest is due at ``now`` (None: disabled, or before ``at`` today)."""
    if not settings.enabled:
        return None
    local = now.astimezone(WITA)
    return local.date() if local.time() >= settings.at else None


def night(day: date, settings: DigestSettings) -> tuple[datetime, datetime]:
    """The night ``day``'s digest covers: ``[night_from the evening before, at)``, aware."""
    start = datetime.combine(day - timedelta(days=1), settings.night_from, WITA)
    end = datetime.combine(day, settings.at, WITA)
    return start, end


def yesterday(day: date) -> tuple[date, datetime, datetime]:
    """The day before ``day`` and its WITA bounds ``[00:00, 24:00)``."""
    before = day - timedelta(days=1)
    return before, datetime.combine(before, time(), WITA), datetime.combine(day, time(), WITA)


def notification_id(day: date, audience: Audience) -> str:
    """The id of ``day``'s digest to ``audience`` (stable: the store queues it once)."""
    return f"digest-{day.isoformat()}-{audience.value}"


def engine_parts(alerts: Iterable[Alert]) -> tuple[tuple[Alert, ...], tuple[GatewayOffline, ...]]:
    """The open alerts (firing, worst first) and the gateways offline, from the engine."""
    firing = sorted(
        (a for a in alerts if a.phase is Phase.FIRING),
        key=lambda a: (_SEVERITY_RANK[a.severity], a.fired_at or a.since, a.key),
    )
    offline = tuple(
        GatewayOffline(
            site=a.key.site,
            gateway=a.key.gateway,
            since=a.since,
            building=a.labels.get("building", ""),
        )
        for a in firing
        if a.key.rule == RuleName.GATEWAY_OFFLINE
    )
    return tuple(firing), offline


def doors_open(
    states: Iterable[DoorState],
    start: datetime,
    end: datetime,
    building_of: Callable[[str, str], str | None],
) -> tuple[DoorOpenOvernight, ...]:
    """The doors open at some moment of ``[start, end)``, one entry per time it was open.

    ``states`` are each door's readings up to ``end``, in any order, including at least
    its last one before ``start`` (a door open since the afternoon counts). An episode
    begins at a reading ``open`` after one that was not (``closed``, or none), and ends
    at the next ``closed``; ``closed_at`` None: still open at ``end``.
    """
    by_door: dict[tuple[str, str, str], list[DoorState]] = {}
    for state in states:
        if state.at < end:
            by_door.setdefault((state.site, state.gateway, state.door), []).append(state)
    found: list[DoorOpenOvernight] = []
    for (site, gateway, door), readings in sorted(by_door.items()):
        building = building_of(site, gateway) or ""
        opened: datetime | None = None
        for reading in sorted(readings, key=lambda r: r.at):
            if reading.state == OPEN and opened is None:
                opened = reading.at
            elif reading.state == CLOSED and opened is not None:
                if reading.at > start:
                    found.append(
                        DoorOpenOvernight(site, gateway, door, opened, reading.at, building)
                    )
                opened = None
        if opened is not None:
            found.append(DoorOpenOvernight(site, gateway, door, opened, None, building))
    return tuple(found)


def unit_totals(
    counts: Iterable[StatusCount], names: Mapping[str, str]
) -> tuple[UnitAttendance, ...]:
    """Yesterday's totals per unit, by unit name (``names``: code -> name; else the code)."""
    totals: dict[str, dict[str, int]] = {}
    for count in counts:
        name = names.get(count.unit, count.unit)
        unit = totals.setdefault(name, {"present": 0, "late": 0, "absent": 0, "leave": 0})
        if count.status == "H":
            unit["present"] += count.count - count.late
            unit["late"] += count.late
        elif count.status == "TK":
            unit["absent"] += count.count
        elif count.status in LEAVE_STATUSES:
            unit["leave"] += count.count
    return tuple(UnitAttendance(unit=name, **parts) for name, parts in sorted(totals.items()))


def make_digest(
    day: date,
    now: datetime,
    alerts: Iterable[Alert],
    doors: tuple[DoorOpenOvernight, ...] | None,
    attendance: tuple[UnitAttendance, ...] | None,
) -> Digest:
    """``day``'s digest; ``doors`` or ``attendance`` None: could not be read (said so)."""
    open_alerts, offline = engine_parts(alerts)
    unavailable = tuple(
        name for name, part in (("doors", doors), ("attendance", attendance)) if part is None
    )
    return Digest(
        day=day,
        created_at=now,
        open_alerts=open_alerts,
        gateways_offline=offline,
        doors_open_overnight=doors or (),
        attendance=attendance or (),
        unavailable=unavailable,
    )


def digest_notifications(digest: Digest, audiences: Sequence[Audience]) -> list[Notification]:
    """One notification per audience, all carrying ``digest``."""
    return [
        Notification(
            id=notification_id(digest.day, audience),
            kind=NotificationKind.DIGEST,
            audience=audience,
            group=f"{audience.value} digest",
            alerts=(),
            created_at=digest.created_at,
            digest=digest,
        )
        for audience in dict.fromkeys(audiences)
    ]


__all__ = [
    "DoorState",
    "StatusCount",
    "digest_notifications",
    "doors_open",
    "due_day",
    "engine_parts",
    "make_digest",
    "night",
    "notification_id",
    "unit_totals",
    "yesterday",
]
