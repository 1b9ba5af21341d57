"""Gateways (``pelangi-gateway``): online, outbox, agent resources, the collector. Pure.

A gateway counts as online in an interval when its agent sent a health report in it
(agents report every ``health_interval_s``, 60 s by default; the interval is at least
5 minutes). Outbox figures are the agent's counters (``c.outbox.*`` fields of
``agent_health``), which the rollup does not keep: those panels read ``raw``. CPU,
online and the collector's throughput read the ``rp`` variable's policy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from collector.dashboards import facts
from collector.dashboards.common import Colour, place_variables, range_map, rp_variable, thresholds
from collector.dashboards.influxql import InfluxQL
from collector.dashboards.layout import Frame, Row, build
from collector.dashboards.panels import Look, state_timeline, table_panel, time_series
from collector.dashboards.queries import PLACE, SITE, Policy, Select, call
from collector.storage.points import AGENT_HEALTH, COLLECTOR_STATS, DEAD_LETTER

if TYPE_CHECKING:
    from grafana_foundation_sdk.builders import statetimeline, table, timeseries
    from grafana_foundation_sdk.models.dashboard import Dashboard

    from collector.dashboards.common import Places

UID: Final = "pelangi-gateway"
GATEWAY: Final = ("gateway",)
BACKLOG: Final = thresholds(Colour.GREEN, (600, Colour.YELLOW), (3600, Colour.RED))
"""Oldest reading waiting, seconds (``outbox_backlog`` raises above 3600 by default)."""
ONLINE: Final = (
    range_map(0, 0, "Offline", Colour.RED),
    range_map(1, None, "Online", Colour.GREEN),
)
"""Health reports per interval: none is offline."""
LOST: Final = (
    ("c.outbox.evicted.telemetry.size", "telemetri (outbox penuh)"),
    ("c.outbox.evicted.telemetry.age", "telemetri (terlalu lama)"),
    ("c.outbox.evicted.event.size", "kejadian (outbox penuh)"),
    ("c.outbox.evicted.event.age", "kejadian (terlalu lama)"),
    ("c.fallback.dropped.telemetry", "telemetri (memori penuh)"),
    ("c.fallback.dropped.event", "kejadian (memori penuh)"),
)
"""The agent's counts of readings thrown away (totals since the outbox was made)."""


def _online() -> statetimeline.Panel:
    select = Select('count("uptime_s")', AGENT_HEALTH, Policy.CHOSEN, PLACE, GATEWAY, fill="0")
    return state_timeline(
        "Gateway online/offline",
        "Hijau: gateway mengirim laporan kesehatan dalam interval itu; merah: tidak ada laporan "
        "(mati, jaringan putus, atau agen berhenti).",
        InfluxQL(select.text()).alias("$tag_gateway"),
        Look(
            mappings=(
                range_map(0, 0, "Offline", Colour.RED),
                range_map(1, None, "Online", Colour.GREEN),
            ),
            interval="5m",
            width=24,
            height=8,
        ),
    )


def _last_seen() -> table.Panel:
    select = Select(
        'last("uptime_s") AS "uptime agen"',
        AGENT_HEALTH,
        Policy.RAW,
        PLACE,
        ("site", "gateway"),
        time=None,
    )
    return table_panel(
        "Laporan terakhir",
        "Kapan setiap gateway terakhir melapor (kolom waktu) dan sudah berapa lama agennya jalan.",
        InfluxQL(select.text()).table(),
        Look(columns={"uptime agen": "s"}, width=16, height=8),
    )


def _gauge(
    title: str, description: str, fields: str, policy: Policy, look: Look
) -> timeseries.Panel:
    select = Select(fields, AGENT_HEALTH, policy, PLACE, GATEWAY)
    return time_series(title, description, InfluxQL(select.text()).alias("$tag_gateway $col"), look)


def _outbox() -> list[timeseries.Panel]:
    telemetry = call("max", "c.outbox.telemetry", "telemetri")
    depth = f"{telemetry}, {call('max', 'c.outbox.events', 'kejadian')}"
    lost = ", ".join(f'non_negative_difference(max("{name}")) AS "{words}"' for name, words in LOST)
    return [
        _gauge(
            "Isi outbox",
            "Bacaan yang menunggu di outbox gateway (belum dikonfirmasi collector).",
            depth,
            Policy.RAW,
            Look(width=8, height=8),
        ),
        _gauge(
            "Umur bacaan tertua di outbox",
            "Berapa lama bacaan tertua sudah menunggu: kuning di atas 10 menit, merah di atas "
            "1 jam.",
            call("max", "c.outbox.oldest_age_s", "umur"),
            Policy.RAW,
            Look(unit="s", colours=BACKLOG, width=8, height=8),
        ),
        _gauge(
            "Bacaan dibuang",
            "Bacaan yang terpaksa dibuang per interval: outbox penuh, terlalu lama, atau memori "
            "penuh saat outbox gagal. Seharusnya selalu nol.",
            lost,
            Policy.RAW,
            Look(colours=thresholds(Colour.GREEN, (1, Colour.RED)), width=8, height=8),
        ),
    ]


def _agent() -> list[timeseries.Panel]:
    return [
        _gauge(
            "CPU agen",
            "Pemakaian CPU proses agen di setiap gateway (rata-rata per interval).",
            call("mean", "cpu_percent", "cpu"),
            Policy.CHOSEN,
            Look(
                unit="percent",
                colours=thresholds(Colour.GREEN, (50, Colour.YELLOW), (80, Colour.RED)),
                width=12,
                height=8,
            ),
        ),
        _gauge(
            "Memori agen",
            "Memori (RSS) proses agen di setiap gateway.",
            call("max", "rss_bytes", "memori"),
            Policy.RAW,
            Look(unit="bytes", width=12, height=8),
        ),
    ]


def _collector() -> list[timeseries.Panel]:
    rates = (
        'non_negative_derivative(max("messages_in"), 1s) AS "pesan masuk", '
        'non_negative_derivative(max("readings_written"), 1s) AS "titik ditulis"'
    )
    throughput = Select(rates, COLLECTOR_STATS, Policy.CHOSEN, (), ("collector",))
    # One counter field per reason (rejected.<reason>, refused.<reason>), made when the first
    # one happens: a regular expression picks up whatever reasons exist.
    rejects = Select(
        r"non_negative_difference(max(/^(rejected\.|refused\.|points_rejected$)/))",
        COLLECTOR_STATS,
        Policy.RAW,
        (),
        ("collector",),
    )
    dead = Select(
        'count("detail") AS "surat mati"', DEAD_LETTER, Policy.RAW, (), ("reason",), fill="0"
    )
    return [
        time_series(
            "Throughput collector",
            "Pesan MQTT yang diterima dan titik yang ditulis ke InfluxDB per detik, per collector.",
            InfluxQL(throughput.text()).alias("$tag_collector $col"),
            Look(unit="cps", width=8, height=8),
        ),
        _troubles(
            "Ditolak per alasan",
            "Pesan dan bacaan yang ditolak collector per interval, per alasan (rejected.*, "
            "refused.*, points_rejected).",
            InfluxQL(rejects.text()).alias("$tag_collector $col"),
        ),
        _troubles(
            "Dead letter per alasan",
            "Yang disimpan sebagai dead letter per interval, per alasan; bisa diputar ulang dengan "
            "pelangi-collector dead-letters replay setelah penyebabnya diperbaiki.",
            InfluxQL(dead.text()).alias("$tag_reason"),
        ),
    ]


def _troubles(title: str, description: str, query: InfluxQL) -> timeseries.Panel:
    """Counts per interval of what should not happen: bars, orange from one on."""
    look = Look(colours=thresholds(Colour.GREEN, (1, Colour.ORANGE)), width=8, height=8)
    return time_series(title, description, query, look, bars=True)


def dashboard(places: Places) -> Dashboard:
    """The gateways dashboard."""
    frame = Frame(
        UID,
        "Pelangi: Gateway",
        "Gateway dan agen: online, outbox, bacaan dibuang, CPU dan memori; collector: "
        "throughput, penolakan dan dead letter.",
        [*place_variables(places), rp_variable()],
        alert_rules="^(gateway_|outbox_|agent_)",
    )
    now = [facts.now_panel(facts.GATEWAYS_ONLINE), facts.now_panel(facts.OPEN_ALERTS, SITE)]
    return build(
        frame,
        [
            Row("Status", [*now, _last_seen(), _online()]),
            Row("Outbox", _outbox()),
            Row("Agen", _agent()),
            Row("Collector", _collector()),
            Row("Alarm", [facts.alert_table("^(gateway_|outbox_|agent_)", "Alarm gateway", 24)]),
        ],
    )


__all__ = ["UID", "dashboard"]
