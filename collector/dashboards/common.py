"""What every Pelangi dashboard shares: time zone, template variables, mappings, annotations.

Template variables (all multi-value with "All", read by the queries as ``=~ /^$name$/``):

- ``site``, ``gateway``: InfluxQL ``SHOW TAG VALUES`` over every measurement; ``gateway``
  lists only the gateways of the selected sites and buildings.
- ``building``: InfluxDB has no building tag; the collector's ``alerts.buildings`` says
  which gateways stand where, so each building's value is its gateways joined by ``|``
  and the ``gateway`` variable filters on it. Without buildings configured, only "All".
- ``switch``: the ``device`` tag of ``interface`` readings; ``unit``: of ``attendance_day``.
- ``rp``: the retention policy of the panels that may read either (``raw``, the default,
  or ``rollup``); see the package docstring.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Final

from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.models import dashboard as model

from collector.dashboards.influxql import datasource
from collector.dashboards.queries import matches
from collector.storage.setup_v1 import RAW, ROLLUP, quote

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

TIMEZONE: Final = "Asia/Makassar"
"""WITA: stored in UTC, shown in the managers' own time."""
REFRESH: Final = "1m"
ALL_REGEX: Final = ".*"


class Colour(StrEnum):
    """Colours as Grafana's palette names them, so light and dark themes can adjust them."""

    GREEN = "green"
    RED = "red"
    ORANGE = "orange"
    YELLOW = "yellow"
    BLUE = "blue"
    GREY = "text"
    """The theme's text colour: for "unknown", neither good nor bad."""


@dataclass(frozen=True, slots=True)
class Places:
    """What the dashboards know of the pilot beyond InfluxDB's tags: the buildings."""

    buildings: Mapping[str, Sequence[str]]
    """Building name -> its gateways (from ``alerts.buildings``)."""


def _choice(text: str, value: str, *, selected: bool = True) -> model.VariableOption:
    return model.VariableOption(selected=selected, text=text, value=value)


def _all() -> model.VariableOption:
    return _choice("All", "$__all")


def tag_variable(
    name: str, label: str, tag: str, measurement: str | None = None, where: Sequence[str] = ()
) -> dash.QueryVariable:
    """A multi-value "All" variable of a tag's values (``SHOW TAG VALUES``)."""
    source = f" FROM {quote(measurement)}" if measurement else ""
    condition = f" WHERE {' AND '.join(where)}" if where else ""
    return (
        dash.QueryVariable(name)
        .label(label)
        .datasource(datasource())
        .query(f"SHOW TAG VALUES{source} WITH KEY = {quote(tag)}{condition}")
        .refresh(model.VariableRefresh.ON_DASHBOARD_LOAD)
        .sort(model.VariableSort.ALPHABETICAL_CASE_INSENSITIVE_ASC)
        .multi(True)
        .include_all(True)
        .current(_all())
    )


def building_variable(places: Places) -> dash.CustomVariable:
    """Buildings as ``name : gateway|gateway`` pairs; "All" means every gateway."""
    pairs = [(name, "|".join(gateways)) for name, gateways in sorted(places.buildings.items())]
    return (
        dash.CustomVariable("building")
        .label("Gedung")
        .values(",".join(f"{name} : {gateways}" for name, gateways in pairs))
        .options([_all()] + [_choice(n, g, selected=False) for n, g in pairs])
        .multi(True)
        .include_all(True)
        # A regex of any gateway: a gateway outside every building still shows under All.
        .all_value(ALL_REGEX)
        .current(_all())
    )


def rp_variable() -> dash.CustomVariable:
    """The retention policy of the switchable panels: ``raw`` unless the reader picks."""
    return (
        dash.CustomVariable("rp")
        .label("Data (raw ≤ 1 hari, rollup > 1 hari)")
        .description(
            "raw: setiap pembacaan, untuk rentang sampai sehari; rollup: rata-rata 5 menit, "
            "untuk rentang panjang (minggu, bulan, tahun) agar cepat."
        )
        .values(f"{RAW},{ROLLUP}")
        .options([_choice(RAW, RAW), _choice(ROLLUP, ROLLUP, selected=False)])
        .current(_choice(RAW, RAW))
    )


def place_variables(places: Places) -> list[dash.QueryVariable | dash.CustomVariable]:
    """``site``, ``building``, ``gateway``: where the readings come from."""
    return [
        tag_variable("site", "Lokasi", "site"),
        building_variable(places),
        tag_variable(
            "gateway",
            "Gateway",
            "gateway",
            where=(matches("site"), f"{quote('gateway')} =~ /^(${{building:pipe}})$/"),
        ),
    ]


def switch_variable() -> dash.QueryVariable:
    """Switches (the ``device`` of interface readings) of the selected gateways."""
    return tag_variable(
        "switch", "Switch", "device", "interface", (matches("site"), matches("gateway"))
    )


def unit_variable() -> dash.QueryVariable:
    """Attendance units (the ``unit`` tag of ``attendance_day``)."""
    return tag_variable("unit", "Unit kerja", "unit", "attendance_day")


def value_map(entries: Mapping[str, tuple[str, str]]) -> model.ValueMap:
    """Exact values to ``(text, colour)``, in the order given."""
    return model.ValueMap(
        options={
            value: model.ValueMappingResult(text=text, color=colour, index=index)
            for index, (value, (text, colour)) in enumerate(entries.items())
        }
    )


def range_map(low: float, high: float | None, text: str, colour: str) -> model.RangeMap:
    """Values in ``[low, high]`` (no ``high``: and above) to ``text`` in ``colour``."""
    result = model.ValueMappingResult(text=text, color=colour)
    return model.RangeMap(
        options=model.DashboardRangeMapOptions(from_val=low, to=high, result=result)
    )


DOOR_STATES: Final = {
    "1": ("Terbuka", Colour.ORANGE),
    "0": ("Tertutup", Colour.GREEN),
    "-1": ("Tak diketahui", Colour.GREY),
}
"""``state_code`` of ``door`` readings (1 open, 0 closed, -1 unknown)."""
UP_DOWN: Final = {"1": ("Naik (up)", Colour.GREEN), "0": ("Turun (down)", Colour.RED)}
"""``oper_up``/``up`` fields: 1 up, 0 down."""
ATTENDANCE_STATUS: Final = {
    "H": ("Hadir", Colour.GREEN),
    "TK": ("Tanpa keterangan", Colour.RED),
    "I": ("Izin", Colour.BLUE),
    "S": ("Sakit", Colour.BLUE),
    "C": ("Cuti", Colour.BLUE),
    "DL": ("Dinas luar", Colour.BLUE),
    "TB": ("Tugas belajar", Colour.BLUE),
    "libur": ("Libur", Colour.GREY),
}
"""The ``status`` tag of ``attendance_day`` in words (today, TK reads "not yet in")."""


def thresholds(base: str, *steps: tuple[float, str]) -> dash.ThresholdsConfig:
    """Absolute thresholds: ``base`` below the first step, then each step's colour."""
    return (
        dash.ThresholdsConfig()
        .mode(model.ThresholdsMode.ABSOLUTE)
        .steps(
            [model.Threshold(value=None, color=base)]
            + [model.Threshold(value=value, color=colour) for value, colour in steps]
        )
    )


__all__ = [
    "ATTENDANCE_STATUS",
    "DOOR_STATES",
    "REFRESH",
    "TIMEZONE",
    "UP_DOWN",
    "Colour",
    "Places",
    "building_variable",
    "place_variables",
    "range_map",
    "rp_variable",
    "switch_variable",
    "tag_variable",
    "thresholds",
    "unit_variable",
    "value_map",
]
