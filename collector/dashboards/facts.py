"""Panels more than one dashboard shows: what stands right now, and alert counts. Pure.

"Right now" is the last value of each series within a short panel range (``timeFrom``)
that is longer than how often the value is reported: doors re-state themselves at least
hourly, agents report their health every minute, switches are polled every minute,
reachability and alerts are written only when they change (so those look back 30 days).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from collector.alerts.annotations import MEASUREMENT as ALERT
from collector.dashboards.common import Colour, thresholds
from collector.dashboards.influxql import InfluxQL
from collector.dashboards.panels import NONE_COUNTED, Look, stat_panel, table_panel
from collector.dashboards.queries import PLACE, SITE, Policy, Select, count_where
from collector.storage.points import AGENT_HEALTH, DOOR, INTERFACE, REACHABILITY

if TYPE_CHECKING:
    from grafana_foundation_sdk.builders import stat, table

NOW_WIDTH: Final = 4
EVENTS_BACK: Final = "30d"
"""How far back the last change of an event-only series (reachability, alerts) is looked for."""


@dataclass(frozen=True, slots=True)
class Now:
    """A count of things whose last value meets a condition (a "right now" stat)."""

    title: str
    description: str
    field: str
    measurement: str
    by: tuple[str, ...]
    """The tags that name one thing (a door: site, gateway, device)."""
    condition: str
    """On the last value, ``"v"``."""
    colours: tuple[str, str]
    """Colour at zero, colour from one on."""
    back: str
    """The panel's own range: longer than how often the value is written."""
    where: tuple[str, ...] = ()
    """Conditions beside the dashboard's scope."""


DOORS_OPEN: Final = Now(
    "Pintu terbuka sekarang",
    "Jumlah pintu yang keadaan terakhirnya terbuka (laporan pintu dalam 1 jam terakhir).",
    "state_code",
    DOOR,
    ("site", "gateway", "device"),
    '"v" = 1',
    (Colour.GREEN, Colour.ORANGE),
    "1h",
)
GATEWAYS_ONLINE: Final = Now(
    "Gateway online",
    "Gateway yang mengirim laporan kesehatan dalam 5 menit terakhir (dikirim tiap menit).",
    "uptime_s",
    AGENT_HEALTH,
    ("site", "gateway"),
    '"v" >= 0',
    (Colour.RED, Colour.GREEN),
    "5m",
)
PORTS_DOWN: Final = Now(
    "Port turun",
    "Port switch yang diaktifkan (admin up) tetapi turun pada polling terakhir (5 menit).",
    "oper_up",
    INTERFACE,
    ("site", "gateway", "device", "port"),
    '"v" = 0',
    (Colour.GREEN, Colour.RED),
    "5m",
    ("\"admin\" = 'up'",),
)
SWITCHES_UNREACHABLE: Final = Now(
    "Switch tak terjangkau",
    "Switch yang berhenti menjawab SNMP dan belum menjawab lagi (perubahan 30 hari terakhir).",
    "up",
    REACHABILITY,
    ("site", "gateway", "device"),
    '"v" = 0',
    (Colour.GREEN, Colour.RED),
    EVENTS_BACK,
)
OPEN_ALERTS: Final = Now(
    "Alarm aktif",
    "Alarm yang menyala dan belum selesai, per aturan dan perangkat (30 hari terakhir).",
    "state",
    ALERT,
    ("rule", "site", "gateway", "device"),
    "\"v\" = 'firing'",
    (Colour.GREEN, Colour.ORANGE),
    EVENTS_BACK,
)


def now_panel(fact: Now, scope: tuple[str, ...] = PLACE) -> stat.Panel:
    """The stat of ``fact`` within ``scope`` (the dashboard's variables as conditions).

    Alerts take :data:`~collector.dashboards.queries.SITE` (a site-wide alert has no
    gateway tag); a dashboard with a ``switch`` variable passes ``SWITCH``.
    """
    select = Select(
        f'last("{fact.field}") AS "v"',
        fact.measurement,
        Policy.RAW,
        (*scope, *fact.where),
        fact.by,
        time=None,
    )
    base, alarm = fact.colours
    look = Look(
        colours=thresholds(base, (1, alarm)),
        time_from=fact.back,
        no_value=NONE_COUNTED,
        width=NOW_WIDTH,
        height=4,
    )
    query = InfluxQL(count_where(select, fact.condition, fact.title.lower()))
    return stat_panel(fact.title, fact.description, query, look)


def alert_count(rule: str, title: str, description: str) -> stat.Panel:
    """How often ``rule`` fired in the dashboard's range (on the chosen sites)."""
    where = (*SITE, f"\"rule\" = '{rule}'", "\"state\" = 'firing'")
    select = Select('count("state") AS "kali"', ALERT, Policy.RAW, where, time=None)
    return stat_panel(
        title,
        description,
        InfluxQL(select.text()),
        Look(
            colours=thresholds(Colour.GREEN, (1, Colour.ORANGE)),
            no_value=NONE_COUNTED,
            width=NOW_WIDTH,
            height=4,
        ),
    )


def alert_table(rules: str, title: str, width: int = 12) -> table.Panel:
    """The latest firings and resolutions of the rules matching ``rules`` (a regex)."""
    where = (*SITE, f'"rule" =~ /{rules}/')
    fields = '"rule", "severity", "state", "gateway", "device", "item", "value"'
    select = Select(
        fields, ALERT, Policy.RAW, where, time=None, tail="ORDER BY time DESC LIMIT 200"
    )
    return table_panel(
        title,
        "Alarm menyala (firing) dan selesai (resolved) dalam rentang waktu, terbaru di atas.",
        InfluxQL(select.text()).table(),
        Look(width=width, height=8),
    )


__all__ = [
    "DOORS_OPEN",
    "GATEWAYS_ONLINE",
    "OPEN_ALERTS",
    "PORTS_DOWN",
    "SWITCHES_UNREACHABLE",
    "Now",
    "alert_count",
    "alert_table",
    "now_panel",
]
