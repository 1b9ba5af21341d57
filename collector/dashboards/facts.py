"""Panels more than one dashboard shows: what stands right now, and alert counts. Pure.

"Right now" is the last value of each series within a short panel range (``timeFrom``)
that is longer than how often the value is reported: doors re-state themselves at least
hourly, agents report their health every minute, switches are polled every minute,
reachability and alerts are written only when they change (so those look back 30 days).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from collector.alerts.annotations import MEASUREMENT as ALERT
from collector.dashboards.common import GREEN, ORANGE, RED, thresholds
from collector.dashboards.influxql import InfluxQL
from collector.dashboards.panels import Look, stat_panel, table_panel
from collector.dashboards.queries import PLACE, SITE, Policy, Select, count_where
from collector.storage.points import AGENT_HEALTH, DOOR, INTERFACE, REACHABILITY

if TYPE_CHECKING:
    from grafana_foundation_sdk.builders import stat, table

NOW_WIDTH: Final = 4
EVENTS_BACK: Final = "30d"
"""How far back the last change of an event-only series (reachability, alerts) is looked for."""


def _last_per_series(
    field: str, measurement: str, where: tuple[str, ...], by: tuple[str, ...]
) -> Select:
    return Select(f'last("{field}") AS "v"', measurement, Policy.RAW, where, by, time=None)


def doors_open_now() -> stat.Panel:
    """How many doors' last state is open."""
    inner = _last_per_series("state_code", DOOR, PLACE, ("site", "gateway", "device"))
    return stat_panel(
        "Pintu terbuka sekarang",
        "Jumlah pintu yang keadaan terakhirnya terbuka (laporan pintu dalam 1 jam terakhir).",
        InfluxQL(count_where(inner, '"v" = 1', "pintu terbuka")),
        Look(colours=thresholds(GREEN, (1, ORANGE)), time_from="1h", width=NOW_WIDTH, height=4),
    )


def gateways_online_now() -> stat.Panel:
    """How many gateways sent their health report in the last five minutes."""
    inner = _last_per_series("uptime_s", AGENT_HEALTH, PLACE, ("site", "gateway"))
    return stat_panel(
        "Gateway online",
        "Gateway yang mengirim laporan kesehatan dalam 5 menit terakhir (dikirim tiap menit).",
        InfluxQL(count_where(inner, '"v" >= 0', "gateway online")),
        Look(colours=thresholds(RED, (1, GREEN)), time_from="5m", width=NOW_WIDTH, height=4),
    )


def ports_down_now(scope: tuple[str, ...] = PLACE) -> stat.Panel:
    """Ports enabled on their switch (admin up) whose last poll found them down."""
    inner = _last_per_series(
        "oper_up", INTERFACE, (*scope, "\"admin\" = 'up'"), ("site", "gateway", "device", "port")
    )
    return stat_panel(
        "Port turun",
        "Port switch yang diaktifkan (admin up) tetapi turun pada polling terakhir (5 menit).",
        InfluxQL(count_where(inner, '"v" = 0', "port turun")),
        Look(colours=thresholds(GREEN, (1, RED)), time_from="5m", width=NOW_WIDTH, height=4),
    )


def switches_unreachable_now(scope: tuple[str, ...] = PLACE) -> stat.Panel:
    """Switches whose last reachability event says they stopped answering.

    ``scope``: the conditions on tags (:data:`~collector.dashboards.queries.SWITCH` where
    the dashboard has a ``switch`` variable).
    """
    inner = _last_per_series("up", REACHABILITY, scope, ("site", "gateway", "device"))
    return stat_panel(
        "Switch tak terjangkau",
        "Switch yang berhenti menjawab SNMP dan belum menjawab lagi (perubahan 30 hari terakhir).",
        InfluxQL(count_where(inner, '"v" = 0', "switch tak terjangkau")),
        Look(colours=thresholds(GREEN, (1, RED)), time_from=EVENTS_BACK, width=NOW_WIDTH, height=4),
    )


def open_alerts() -> stat.Panel:
    """Alerts whose last transition is a firing (per rule and device)."""
    inner = _last_per_series("state", ALERT, SITE, ("rule", "site", "gateway", "device"))
    return stat_panel(
        "Alarm aktif",
        "Alarm yang menyala dan belum selesai, per aturan dan perangkat (30 hari terakhir).",
        InfluxQL(count_where(inner, "\"v\" = 'firing'", "alarm aktif")),
        Look(
            colours=thresholds(GREEN, (1, ORANGE)), time_from=EVENTS_BACK, width=NOW_WIDTH, height=4
        ),
    )


def alert_count(rule: str, title: str, description: str) -> stat.Panel:
    """How often ``rule`` fired in the dashboard's range (on the chosen sites)."""
    where = (*SITE, f"\"rule\" = '{rule}'", "\"state\" = 'firing'")
    select = Select('count("state") AS "kali"', ALERT, Policy.RAW, where, time=None)
    return stat_panel(
        title,
        description,
        InfluxQL(select.text()),
        Look(colours=thresholds(GREEN, (1, ORANGE)), width=NOW_WIDTH, height=4),
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
    "alert_count",
    "alert_table",
    "doors_open_now",
    "gateways_online_now",
    "open_alerts",
    "ports_down_now",
    "switches_unreachable_now",
]
