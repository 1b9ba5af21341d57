"""Attendance (``pelangi-kehadiran``): check-ins, late arrivals, absences, TL/PSW bands. Pure.

Everything reads ``attendance_day``, the attendance job's one point per employee and day
(:mod:`collector.attendance.taps`), at the day's 00:00 WITA. Day counts group by
``time($__interval, 16h)`` with a minimum interval of one day: InfluxDB's day buckets
start at 00:00 UTC, and the 16 h offset moves them to 00:00 WITA, so a day's points are
counted on their own day. Employees appear as pseudonyms (no names or NIPs in InfluxDB:
UU PDP); ``pelangi-collector attendance report`` names them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from collector.attendance.model import Status
from collector.attendance.taps import ATTENDANCE_DAY
from collector.dashboards.common import Colour, thresholds, unit_variable
from collector.dashboards.influxql import InfluxQL
from collector.dashboards.layout import Frame, Row, build
from collector.dashboards.panels import NONE_COUNTED, Look, stat_panel, table_panel, time_series
from collector.dashboards.queries import PER_WITA_DAY, UNIT, Policy, Select

if TYPE_CHECKING:
    from grafana_foundation_sdk.builders import stat, table, timeseries
    from grafana_foundation_sdk.models.dashboard import Dashboard

UID: Final = "pelangi-kehadiran"
BANDS: Final = range(1, 5)
"""TL1-TL4 and PSW1-PSW4: 1-30, 31-60, 61-90, > 90 minutes (or no record)."""
BAND_COLOURS: Final = {1: Colour.YELLOW, 2: Colour.ORANGE, 3: Colour.RED, 4: Colour.RED}
LATEST_FIRST: Final = "ORDER BY time DESC LIMIT 1000"
TK: Final = f"\"status\" = '{Status.TANPA_KETERANGAN}'"


def _per_day(title: str, description: str, count: str, condition: str | None) -> timeseries.Panel:
    where = UNIT if condition is None else (*UNIT, condition)
    select = Select(
        f'count("{count}") AS "pegawai"',
        ATTENDANCE_DAY,
        Policy.RAW,
        where,
        ("unit",),
        time=PER_WITA_DAY,
        fill="0",
    )
    return time_series(
        title,
        description,
        InfluxQL(select.text()).alias("$tag_unit"),
        Look(interval="1d", width=8, height=8),
        bars=True,
    )


def _days() -> list[timeseries.Panel]:
    return [
        _per_day(
            "Tap masuk per unit per hari",
            "Pegawai yang tercatat datang (tap masuk) setiap hari, per unit kerja.",
            "check_in",
            None,
        ),
        _per_day(
            "Terlambat per unit per hari",
            "Pegawai yang datang setelah jam masuk (menit terlambat > 0) setiap hari.",
            "minutes_late",
            '"minutes_late" > 0',
        ),
        _per_day(
            "Tanpa keterangan per unit per hari",
            "Pegawai tanpa tap masuk dan tanpa izin, sakit, cuti, DL atau TB (status TK).",
            "employee",
            TK,
        ),
    ]


def _band(field: str, label: str, band: int, meaning: str) -> stat.Panel:
    select = Select(
        f'count("{field}") AS "{label}{band}"',
        ATTENDANCE_DAY,
        Policy.RAW,
        (*UNIT, f'"{field}" = {band}'),
        time=None,
    )
    return stat_panel(
        f"{label}{band}",
        f"Hari-pegawai dengan {meaning} pita {label}{band} dalam rentang waktu "
        "(1: 1-30, 2: 31-60, 3: 61-90, 4: > 90 menit atau tanpa catatan).",
        InfluxQL(select.text()),
        Look(
            colours=thresholds(Colour.GREEN, (1, BAND_COLOURS[band])),
            no_value=NONE_COUNTED,
            width=3,
            height=4,
        ),
    )


def _bands() -> list[stat.Panel]:
    late = [_band("tl", "TL", band, "keterlambatan") for band in BANDS]
    early = [_band("psw", "PSW", band, "pulang sebelum waktunya") for band in BANDS]
    return late + early


def _list(
    title: str, description: str, fields: str, condition: str, columns: dict[str, str]
) -> table.Panel:
    select = Select(
        fields, ATTENDANCE_DAY, Policy.RAW, (*UNIT, condition), time=None, tail=LATEST_FIRST
    )
    return table_panel(
        title,
        description,
        InfluxQL(select.text()).table(),
        Look(columns=columns, width=12, height=10),
    )


def _lists() -> list[table.Panel]:
    return [
        _list(
            "Datang terlambat",
            "Setiap hari-pegawai yang terlambat: unit, pegawai (nama samaran), jam datang "
            "(WITA), menit terlambat dan pita TL. Nama ada di laporan kehadiran.",
            '"unit", "employee", "check_in" * 60 AS "datang", "minutes_late" AS "terlambat", "tl"',
            '"minutes_late" > 0',
            {"datang": "clocks", "terlambat": "m"},
        ),
        _list(
            "Tanpa keterangan (TK)",
            "Setiap hari-pegawai tanpa tap masuk dan tanpa keterangan: unit dan pegawai "
            "(nama samaran). Nama ada di laporan kehadiran.",
            '"unit", "employee"',
            TK,
            {},
        ),
    ]


def dashboard() -> Dashboard:
    """The attendance dashboard (no place variables: attendance is per unit)."""
    frame = Frame(
        UID,
        "Pelangi: Kehadiran",
        "Kehadiran pegawai per unit kerja: tap masuk, keterlambatan, tanpa keterangan dan "
        "pita TL/PSW, dihitung oleh job kehadiran dari tap kartu.",
        [unit_variable()],
        alert_rules="^card_",
        alert_scope=(),
        time_from="now-30d",
    )
    return build(
        frame,
        [
            Row("Per hari", _days()),
            Row("Pita TL dan PSW", _bands()),
            Row("Daftar", _lists()),
        ],
    )


__all__ = ["UID", "dashboard"]
