"""Network (``pelangi-jaringan``): switch ports' status, traffic, errors, utilisation. Pure.

Port status and traffic repeat once per selected switch. Traffic, errors, discards and
utilisation read the ``rp`` variable's policy (``interface`` keeps the same field names in
``rollup``); port status and availability read ``raw`` (the rollup keeps only
``oper_up_min``); the 30-day traffic trend always reads ``rollup``. Switch uptime
(``sysUpTime``) is polled but not stored, so "uptime" here is each port's availability:
the share of polls that found an enabled port up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from collector.alerts.rule_settings import RuleName
from collector.dashboards import facts
from collector.dashboards.common import (
    UP_DOWN,
    Colour,
    place_variables,
    rp_variable,
    switch_variable,
    thresholds,
    value_map,
)
from collector.dashboards.influxql import InfluxQL
from collector.dashboards.layout import Frame, Row, build
from collector.dashboards.panels import Look, state_timeline, table_panel, time_series, top
from collector.dashboards.queries import SWITCH, Policy, Select, call
from collector.storage.points import INTERFACE, REACHABILITY

if TYPE_CHECKING:
    from grafana_foundation_sdk.builders import statetimeline, table, timeseries
    from grafana_foundation_sdk.models.dashboard import Dashboard

    from collector.dashboards.common import Places

UID: Final = "pelangi-jaringan"
TOP_N: Final = 10
PORT: Final = ("device", "port")
UTILISATION: Final = thresholds(Colour.GREEN, (70, Colour.YELLOW), (90, Colour.RED))
"""Percent of line rate (``port_utilisation`` raises above 90 by default)."""
AVAILABILITY: Final = thresholds(Colour.RED, (95, Colour.YELLOW), (99, Colour.GREEN))
"""Percent of polls a port was up."""
UP: Final = (value_map(UP_DOWN),)
PER_PORT_INTERVAL: Final = "2m"
"""The per-port series' smallest bucket: every port of every switch at the 1-minute poll
made 104,000 rows for a day, 1.38 s on pilot-sized InfluxDB 1.6 (make bench); two
polls per bucket halve that, and a day is still 720 points per line."""


def _percent_of_line_rate(direction: str) -> str:
    # speed_mbps x 1e6 b/s is 100 %: bps / (Mb/s x 10,000) is the percentage.
    return f'mean("{direction}_bps") / (max("speed_mbps") * 10000) AS "{direction}"'


def _port_status() -> statetimeline.Panel:
    select = Select('min("oper_up")', INTERFACE, Policy.RAW, SWITCH, ("port",))
    return state_timeline(
        "Status port $switch",
        "Status operasional setiap port: naik (hijau) atau turun (merah); kosong: tidak "
        "terpoll. Turun sebentar dalam satu interval tetap tampil turun.",
        InfluxQL(select.text()).alias("$tag_port"),
        Look(mappings=UP, repeat="switch", width=24, height=10),
    )


def _reachability() -> statetimeline.Panel:
    select = Select('last("up")', REACHABILITY, Policy.RAW, SWITCH, ("device",), fill="previous")
    return state_timeline(
        "Switch terjangkau",
        "Apakah switch menjawab SNMP. Dicatat saat berubah, jadi bagian awal rentang bisa "
        "kosong bila perubahan terakhir lebih lama.",
        InfluxQL(select.text()).alias("$tag_device"),
        Look(mappings=UP, width=24, height=5),
    )


def _traffic() -> timeseries.Panel:
    fields = f"{call('mean', 'in_bps', 'masuk')}, {call('mean', 'out_bps', 'keluar')}"
    select = Select(fields, INTERFACE, Policy.CHOSEN, SWITCH, PORT)
    return time_series(
        "Lalu lintas $switch",
        "Bit per detik masuk dan keluar setiap port (rata-rata per interval).",
        InfluxQL(select.text()).alias("$tag_port $col"),
        Look(unit="bps", repeat="switch", width=24, height=9, interval=PER_PORT_INTERVAL),
    )


def _per_second(name: str, words: str) -> timeseries.Panel:
    fields = f"{call('mean', f'in_{name}_ps', 'masuk')}, {call('mean', f'out_{name}_ps', 'keluar')}"
    select = Select(fields, INTERFACE, Policy.CHOSEN, SWITCH, PORT)
    return time_series(
        f"{words.capitalize()} per detik",
        f"{words.capitalize()} paket masuk dan keluar per detik, per port (rata-rata).",
        InfluxQL(select.text()).alias("$tag_device $tag_port $col"),
        Look(
            unit="cps",
            colours=thresholds(Colour.GREEN, (1, Colour.RED)),
            width=12,
            height=8,
            interval=PER_PORT_INTERVAL,
        ),
    )


def _trend() -> timeseries.Panel:
    fields = f"{call('mean', 'in_bps', 'masuk')}, {call('mean', 'out_bps', 'keluar')}"
    select = Select(fields, INTERFACE, Policy.ROLLUP, SWITCH, ("device",))
    return time_series(
        "Lalu lintas 30 hari per switch",
        "Rata-rata bit per detik per switch selama 30 hari, dari rollup 5 menit.",
        InfluxQL(select.text()).alias("$tag_device $col"),
        Look(unit="bps", time_from="30d", width=24, height=8),
    )


def _ranking(
    title: str, description: str, fields: str, policy: Policy, order: tuple[str, bool]
) -> table.Panel:
    where = SWITCH if policy is not Policy.RAW else (*SWITCH, "\"admin\" = 'up'")
    select = Select(fields, INTERFACE, policy, where, PORT, time=None)
    column, descending = order
    return table_panel(
        title,
        description,
        InfluxQL(select.text()).table(),
        Look(
            unit="percent",
            decimals=1,
            colours=UTILISATION
            if descending
            else thresholds(Colour.RED, (95, Colour.YELLOW), (99, Colour.GREEN)),
            transformations=top(column, TOP_N, descending=descending),
            width=12,
            height=9,
        ),
    )


def _rankings() -> list[table.Panel]:
    usage = f"{_percent_of_line_rate('in')}, {_percent_of_line_rate('out')}"
    return [
        _ranking(
            f"Utilisasi port tertinggi (top {TOP_N})",
            "Rata-rata pemakaian port terhadap kecepatan link, masuk dan keluar, diurutkan "
            "menurut arah masuk.",
            usage,
            Policy.CHOSEN,
            ("in", True),
        ),
        _ranking(
            f"Ketersediaan port terendah ({TOP_N})",
            "Persentase polling yang menemukan port aktif (admin up) naik: 100 % berarti "
            "tidak pernah turun dalam rentang waktu.",
            'mean("oper_up") * 100 AS "tersedia"',
            Policy.RAW,
            ("tersedia", False),
        ),
    ]


def dashboard(places: Places) -> Dashboard:
    """The network dashboard."""
    frame = Frame(
        UID,
        "Pelangi: Jaringan",
        "Switch dan port: status, lalu lintas, error, discard, utilisasi dan ketersediaan.",
        [*place_variables(places), switch_variable(), rp_variable()],
        alert_rules="^(port_|switch_)",
    )
    now = [
        facts.now_panel(facts.PORTS_DOWN, SWITCH),
        facts.now_panel(facts.SWITCHES_UNREACHABLE, SWITCH),
        facts.alert_count(
            RuleName.PORT_UTILISATION,
            "Alarm utilisasi",
            "Berapa kali port melewati batas utilisasi dalam rentang waktu.",
        ),
    ]
    return build(
        frame,
        [
            Row("Saat ini", now),
            Row("Status", [_reachability(), _port_status()]),
            Row(
                "Lalu lintas",
                [_traffic(), _per_second("errors", "error"), _per_second("discards", "discard")],
            ),
            Row("Utilisasi dan ketersediaan", [*_rankings(), _trend()]),
            Row("Alarm", [facts.alert_table("^(port_|switch_)", "Alarm jaringan", 24)]),
        ],
    )


__all__ = ["UID", "dashboard"]
