"""Sample alerts, notifications and a digest with every field set: for ``check_templates``.

They are also what the tests and ``alerts test`` previews render, so they carry the parts a
template could trip on: every place (site to port), extra labels, a resolved alert, all
three severities, a digest with something in every section.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from collector.alerts.model import (
    Alert,
    AlertKey,
    Audience,
    Notification,
    NotificationKind,
    Phase,
    Severity,
)
from collector.alerts.notify.digest import Digest, DoorOpenOvernight, GatewayOffline, UnitAttendance

AT = datetime(2026, 12, 2, 19, 14, tzinfo=UTC)  # 03:14 WITA, the 3rd: the hour it matters


def alerts() -> tuple[Alert, ...]:
    """A firing door alert, a firing port alert and a resolved gateway alert."""
    since = AT - timedelta(minutes=12)
    return (
        Alert(
            key=AlertKey("door_held_open", "bukit-pelangi", "gw-kantor-bupati", "pintu-utama"),
            severity=Severity.CRITICAL,
            audience=Audience.SECURITY,
            phase=Phase.FIRING,
            since=since,
            fired_at=since + timedelta(minutes=5),
            value="terbuka 12 menit",
            labels={"building": "Kantor Bupati", "door_name": "Pintu utama lobi"},
        ),
        Alert(
            key=AlertKey("port_down", "bukit-pelangi", "gw-diskominfo", "sw-core", "ge-0/0/1"),
            severity=Severity.WARNING,
            audience=Audience.IT,
            phase=Phase.FIRING,
            since=since,
            fired_at=since,
            value="down",
            labels={"building": "Diskominfo", "port_alias": "uplink lantai 2"},
        ),
        Alert(
            key=AlertKey("gateway_offline", "bukit-pelangi", "gw-bappeda"),
            severity=Severity.INFO,
            audience=Audience.IT,
            phase=Phase.RESOLVED,
            since=since,
            fired_at=since + timedelta(minutes=1),
            resolved_at=AT,
            value="online",
            labels={"building": "Bappeda"},
        ),
    )


def notifications() -> tuple[Notification, ...]:
    """One notification of each alert kind, single and grouped."""
    every = alerts()
    made = []
    for n, kind in enumerate((NotificationKind.FIRING, NotificationKind.REPEAT)):
        made.append(_notification(f"sample-{n}-one", kind, every[:1]))
        made.append(_notification(f"sample-{n}-group", kind, every[:2]))
    made.append(_notification("sample-resolved", NotificationKind.RESOLVED, every[2:]))
    return tuple(made)


def _notification(id_: str, kind: NotificationKind, alerts: tuple[Alert, ...]) -> Notification:
    return Notification(
        id=id_,
        kind=kind,
        audience=alerts[0].audience,
        group=f"{alerts[0].audience.value} {alerts[0].key.site}",
        alerts=alerts,
        created_at=AT,
    )


def digest(*, unavailable: tuple[str, ...] = ()) -> Digest:
    """A digest with something in every section (``unavailable``: those sections unread)."""
    return Digest(
        day=date(2026, 12, 3),
        created_at=AT + timedelta(hours=4),
        open_alerts=alerts()[:2],
        gateways_offline=(
            GatewayOffline("bukit-pelangi", "gw-bappeda", AT - timedelta(hours=6), "Bappeda"),
        ),
        doors_open_overnight=(
            DoorOpenOvernight(
                "bukit-pelangi",
                "gw-kantor-bupati",
                "pintu-belakang",
                AT - timedelta(hours=3),
                AT - timedelta(hours=1),
                "Kantor Bupati",
            ),
        ),
        attendance=(
            UnitAttendance("Sekretariat Daerah", present=112, late=9, absent=3, leave=6),
            UnitAttendance("Diskominfo", present=41, late=2, absent=0, leave=1),
            UnitAttendance("Unit kosong", present=0, late=0, absent=0, leave=0),
        ),
        unavailable=unavailable,
    )
