"""Panel helpers: each kind of panel set up once, for reading at a glance. Pure.

Every panel has one InfluxQL target (``refId`` ``A``), Pelangi's data source, a Bahasa
Indonesia title and description, a unit and colours; the dashboards only say what
differs (a :class:`Look`). Sizes are in Grafana's grid (24 columns wide).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final, TypeVar

from grafana_foundation_sdk.builders import bargauge, stat, statetimeline, table, timeseries
from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as model

from collector.dashboards.common import Colour, thresholds
from collector.dashboards.influxql import datasource

if TYPE_CHECKING:
    from collections.abc import Mapping

    from collector.dashboards.influxql import InfluxQL

ValueMapping = model.ValueMap | model.RangeMap | model.RegexMap | model.SpecialValueMap
AnyPanel = TypeVar(
    "AnyPanel", stat.Panel, timeseries.Panel, statetimeline.Panel, table.Panel, bargauge.Panel
)


@dataclass(frozen=True, slots=True)
class Look:
    """How a panel shows its values: everything but the query and the words."""

    unit: str = "none"
    width: int = 6
    height: int = 6
    colours: dash.ThresholdsConfig | None = None
    """Thresholds (default: one neutral colour)."""
    mappings: tuple[ValueMapping, ...] = ()
    decimals: int | None = None
    no_value: str | None = None
    """What to show when the query returns nothing (``0`` for counts: no row is none)."""
    time_from: str | None = None
    """The panel's own range (``1h``, ``now/d``), whatever the dashboard's."""
    interval: str | None = None
    """The smallest ``$__interval`` (e.g. ``1d`` for days, ``5m`` for the rollup's step)."""
    columns: Mapping[str, str] = field(default_factory=dict)
    """Table columns' units, by column name."""
    transformations: tuple[model.DataTransformerConfig, ...] = ()
    repeat: str | None = None
    """A template variable: one copy of the panel per selected value (e.g. per switch)."""


NONE_COUNTED: Final = "0"
"""A count query that matches nothing returns no series at all, not a zero."""


def _dress(panel: AnyPanel, title: str, description: str, query: InfluxQL, look: Look) -> AnyPanel:
    """Set what every panel has; the builders change themselves in place."""
    panel.title(title).description(description).datasource(datasource()).with_target(query)
    panel.span(look.width).height(look.height).unit(look.unit)
    panel.thresholds(look.colours or thresholds(Colour.BLUE))
    if look.mappings:
        panel.mappings(list(look.mappings))
    if look.decimals is not None:
        panel.decimals(look.decimals)
    if look.no_value is not None:
        panel.no_value(look.no_value)
    if look.time_from is not None:
        panel.time_from(look.time_from)
    if look.interval is not None:
        panel.interval(look.interval)
    if look.transformations:
        panel.transformations(list(look.transformations))
    if look.repeat is not None:
        panel.repeat(look.repeat).repeat_direction("v")
    for column, unit in sorted(look.columns.items()):
        panel.override_by_name(column, [model.DynamicConfigValue(id_val="unit", value=unit)])
    return panel


def _legend(mode: common.LegendDisplayMode) -> common_builders.VizLegendOptions:
    return (
        common_builders.VizLegendOptions()
        .display_mode(mode)
        .placement(common.LegendPlacement.BOTTOM)
        .show_legend(mode is not common.LegendDisplayMode.HIDDEN)
    )


def _last() -> common_builders.ReduceDataOptions:
    return common_builders.ReduceDataOptions().calcs(["lastNotNull"]).values(False)


def stat_panel(title: str, description: str, query: InfluxQL, look: Look) -> stat.Panel:
    """One big number coloured by its thresholds (the last value of the range)."""
    panel = _dress(stat.Panel(), title, description, query, look)
    return (
        panel.color_mode(common.BigValueColorMode.BACKGROUND)
        .graph_mode(common.BigValueGraphMode.NONE)
        .text_mode(common.BigValueTextMode.VALUE_AND_NAME)
        .reduce_options(_last())
    )


def time_series(
    title: str, description: str, query: InfluxQL, look: Look, *, bars: bool = False
) -> timeseries.Panel:
    """Lines (or bars, for counts per interval), legend as a table with mean and max."""
    panel = _dress(timeseries.Panel(), title, description, query, look)
    style = common.GraphDrawStyle.BARS if bars else common.GraphDrawStyle.LINE
    legend = _legend(common.LegendDisplayMode.TABLE).calcs(["mean", "max", "lastNotNull"])
    return panel.draw_style(style).fill_opacity(40 if bars else 10).legend(legend).min(0)


def state_timeline(
    title: str, description: str, query: InfluxQL, look: Look
) -> statetimeline.Panel:
    """Coloured bands per series (doors, ports, gateways), values named by the mappings."""
    panel = _dress(statetimeline.Panel(), title, description, query, look)
    return (
        panel.show_value(common.VisibilityMode.NEVER)
        .merge_values(True)
        .row_height(0.8)
        .fill_opacity(80)
        .legend(_legend(common.LegendDisplayMode.LIST))
    )


def table_panel(title: str, description: str, query: InfluxQL, look: Look) -> table.Panel:
    """Rows of the query (use a table-format target), filterable by column."""
    return _dress(table.Panel(), title, description, query, look).filterable(True)


def bar_gauge(title: str, description: str, query: InfluxQL, look: Look) -> bargauge.Panel:
    """One horizontal bar per series or row, coloured by the thresholds."""
    panel = _dress(bargauge.Panel(), title, description, query, look)
    return (
        panel.display_mode(common.BarGaugeDisplayMode.GRADIENT)
        .orientation(common.VizOrientation.HORIZONTAL)
        .reduce_options(_last())
    )


def top(
    column: str, limit: int, *, descending: bool = True
) -> tuple[model.DataTransformerConfig, ...]:
    """Sort a table by ``column`` and keep its first ``limit`` rows (top-N)."""
    order = {"fields": {}, "sort": [{"field": column, "desc": descending}]}
    return (
        model.DataTransformerConfig(id_val="sortBy", options=order),
        model.DataTransformerConfig(id_val="limit", options={"limitField": limit}),
    )


__all__ = [
    "NONE_COUNTED",
    "Look",
    "ValueMapping",
    "bar_gauge",
    "stat_panel",
    "state_timeline",
    "table_panel",
    "time_series",
    "top",
]
