"""Doors (``pelangi-pintu``): each door's state over time, its events and door alarms. Pure.

The state timeline reads ``max(state_code)`` per interval, so a door opened briefly within
a long interval still shows as open. Held-open, after-hours and forced-open counts come
from the alert engine's ``alert`` measurement (the rules decide; the dashboard counts).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from collector.alerts.rule_settings import RuleName
from collector.dashboards import facts
from collector.dashboards.common import DOOR_STATES, Colour, place_variables, value_map
from collector.dashboards.influxql import InfluxQL
from collector.dashboards.layout import Frame, Row, build
from collector.dashboards.panels import Look, state_timeline, table_panel, time_series
from collector.dashboards.queries import PLACE, Policy, Select
from collector.storage.points import DOOR

if TYPE_CHECKING:
    from grafana_foundation_sdk.builders import statetimeline, table, timeseries
    from grafana_foundation_sdk.models.dashboard import Dashboard

    from collector.dashboards.common import Places

UID: Final = "pelangi-pintu"
DOOR_ALIAS: Final = "$tag_gateway / $tag_device"
CHANGES: Final = (*PLACE, '"change" = true')
"""Door readings that are changes (not the periodic re-statements)."""
DOOR_WORDS: Final = {
    "open": ("Terbuka", Colour.ORANGE),
    "closed": ("Tertutup", Colour.GREEN),
    "unknown": ("Tak diketahui", Colour.GREY),
}
"""The ``state`` field of ``door`` readings in words."""


def _timeline() -> statetimeline.Panel:
    select = Select('max("state_code")', DOOR, Policy.RAW, PLACE, ("gateway", "device"))
    return state_timeline(
        "Status pintu",
        "Keadaan setiap pintu: terbuka (oranye), tertutup (hijau), tak diketahui (abu-abu; "
        "sensor tidak terbaca). Terbuka sebentar dalam satu interval tetap tampil terbuka.",
        InfluxQL(select.text()).alias(DOOR_ALIAS),
        Look(mappings=(value_map(DOOR_STATES),), width=24, height=10),
    )


def _openings() -> timeseries.Panel:
    where = (*CHANGES, "\"state\" = 'open'")
    select = Select(
        'count("state") AS "dibuka"', DOOR, Policy.RAW, where, ("gateway", "device"), fill="0"
    )
    return time_series(
        "Pintu dibuka",
        "Berapa kali setiap pintu dibuka per interval.",
        InfluxQL(select.text()).alias(DOOR_ALIAS),
        Look(width=12, height=8),
        bars=True,
    )


def _events() -> table.Panel:
    select = Select(
        '"gateway", "device", "state"',
        DOOR,
        Policy.RAW,
        CHANGES,
        time=None,
        tail="ORDER BY time DESC LIMIT 500",
    )
    return table_panel(
        "Kejadian pintu",
        "Setiap perubahan keadaan pintu (dibuka, ditutup, sensor hilang), terbaru di atas.",
        InfluxQL(select.text()).table(),
        Look(mappings=(value_map(DOOR_WORDS),), width=12, height=8),
    )


def dashboard(places: Places) -> Dashboard:
    """The doors dashboard."""
    frame = Frame(
        UID,
        "Pelangi: Pintu",
        "Keadaan pintu, kejadian buka/tutup dan alarm pintu (terlalu lama terbuka, di luar "
        "jam kerja, dibuka paksa).",
        place_variables(places),
        alert_rules="^door_",
    )
    counts = [
        facts.now_panel(facts.DOORS_OPEN),
        facts.alert_count(
            RuleName.DOOR_HELD_OPEN,
            "Terbuka terlalu lama",
            "Berapa kali pintu dibiarkan terbuka melewati batas waktu (alarm held open).",
        ),
        facts.alert_count(
            RuleName.DOOR_AFTER_HOURS,
            "Dibuka di luar jam kerja",
            "Berapa kali pintu dibuka di luar jam kerja (alarm after hours).",
        ),
        facts.alert_count(
            RuleName.DOOR_FORCED_OPEN,
            "Dibuka tanpa kartu",
            "Berapa kali pintu terbuka tanpa tap kartu yang sah sesaat sebelumnya (forced open).",
        ),
    ]
    return build(
        frame,
        [
            Row("Ringkasan", counts),
            Row("Status", [_timeline()]),
            Row(
                "Kejadian", [_openings(), _events(), facts.alert_table("^door_", "Alarm pintu", 24)]
            ),
        ],
    )


__all__ = ["UID", "dashboard"]
