"""Office overview (``pelangi-ringkasan``): what a facility manager checks first. Pure.

Right now: doors open, gateways online, ports down, switches unreachable, alerts open.
Today: attendance per unit (present, late, not yet in). The network's health over the
range (port availability) and the latest alerts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from collector.attendance.model import Status
from collector.attendance.taps import ATTENDANCE_DAY
from collector.dashboards import facts
from collector.dashboards.common import (
    ATTENDANCE_STATUS,
    Colour,
    place_variables,
    thresholds,
    unit_variable,
    value_map,
)
from collector.dashboards.influxql import InfluxQL
from collector.dashboards.layout import Frame, Row, build
from collector.dashboards.panels import NONE_COUNTED, Look, bar_gauge, stat_panel, table_panel
from collector.dashboards.queries import PLACE, SITE, UNIT, Policy, Select
from collector.storage.points import INTERFACE

if TYPE_CHECKING:
    from grafana_foundation_sdk.builders import bargauge, stat, table
    from grafana_foundation_sdk.models.dashboard import Dashboard

    from collector.dashboards.common import Places

UID: Final = "pelangi-ringkasan"
TODAY: Final = "now/d"
"""Grafana's "today so far", in the dashboard's time zone (WITA)."""


def _today_per_unit(title: str, description: str, condition: str, colour: str) -> bargauge.Panel:
    select = Select(
        'count("employee") AS "pegawai"',
        ATTENDANCE_DAY,
        Policy.RAW,
        (*UNIT, condition),
        ("unit",),
        time=None,
    )
    look = Look(
        colours=thresholds(colour), time_from=TODAY, no_value=NONE_COUNTED, width=8, height=7
    )
    return bar_gauge(title, description, InfluxQL(select.text()).alias("$tag_unit"), look)


def _attendance_today() -> list[bargauge.Panel]:
    return [
        _today_per_unit(
            "Hadir hari ini per unit",
            "Pegawai yang sudah tap masuk hari ini (status H), per unit kerja.",
            f"\"status\" = '{Status.HADIR}'",
            Colour.GREEN,
        ),
        _today_per_unit(
            "Terlambat hari ini per unit",
            "Pegawai yang datang setelah jam masuk hari ini (menit terlambat > 0), per unit.",
            '"minutes_late" > 0',
            Colour.ORANGE,
        ),
        _today_per_unit(
            "Belum hadir hari ini per unit",
            "Pegawai tanpa tap masuk dan tanpa izin/cuti hari ini (TK sampai hari berakhir).",
            f"\"status\" = '{Status.TANPA_KETERANGAN}'",
            Colour.RED,
        ),
    ]


def _status_table() -> table.Panel:
    select = Select(
        'count("employee") AS "pegawai"',
        ATTENDANCE_DAY,
        Policy.RAW,
        UNIT,
        ("unit", "status"),
        time=None,
    )
    return table_panel(
        "Rekap kehadiran hari ini",
        "Jumlah pegawai per unit dan status hari ini: H hadir, TK tanpa keterangan, I izin, "
        "S sakit, C cuti, DL dinas luar, TB tugas belajar.",
        InfluxQL(select.text()).table(),
        Look(mappings=(value_map(ATTENDANCE_STATUS),), time_from=TODAY, width=24, height=7),
    )


def _port_availability() -> stat.Panel:
    select = Select(
        'mean("oper_up") * 100 AS "ketersediaan"',
        INTERFACE,
        Policy.RAW,
        (*PLACE, "\"admin\" = 'up'"),
        time=None,
    )
    return stat_panel(
        "Ketersediaan port",
        "Persentase polling yang menemukan port aktif (admin up) dalam keadaan naik.",
        InfluxQL(select.text()),
        Look(
            unit="percent",
            decimals=2,
            colours=thresholds(Colour.RED, (95, Colour.YELLOW), (99, Colour.GREEN)),
            width=4,
            height=8,
        ),
    )


def dashboard(places: Places) -> Dashboard:
    """The overview dashboard."""
    frame = Frame(
        UID,
        "Pelangi: Ringkasan kantor",
        "Keadaan kantor sekarang: pintu, kehadiran hari ini, jaringan, gateway dan alarm.",
        [*place_variables(places), unit_variable()],
    )
    now = [
        facts.now_panel(facts.DOORS_OPEN),
        facts.now_panel(facts.GATEWAYS_ONLINE),
        facts.now_panel(facts.PORTS_DOWN),
        facts.now_panel(facts.SWITCHES_UNREACHABLE),
        facts.now_panel(facts.OPEN_ALERTS, SITE),
    ]
    return build(
        frame,
        [
            Row("Saat ini", now),
            Row("Kehadiran hari ini", [*_attendance_today(), _status_table()]),
            Row(
                "Jaringan dan alarm",
                [_port_availability(), facts.alert_table(".*", "Alarm terbaru", 20)],
            ),
        ],
    )


__all__ = ["UID", "dashboard"]
