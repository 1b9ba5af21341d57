"""A dashboard's frame: uid, time zone, variables, alert annotations, rows of panels. Pure.

Alerts come from the ``alert`` measurement that the alert engine writes (one point per
firing and per resolution; :mod:`collector.alerts.annotations`) and show as annotations
on every time axis. Each dashboard shows the rules about what it is about (a regular
expression over the ``rule`` tag); the overview shows all of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from grafana_foundation_sdk.builders import dashboard as dash
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.models import dashboard as model

from collector.alerts.annotations import MEASUREMENT as ALERT
from collector.dashboards.common import REFRESH, TIMEZONE, Colour
from collector.dashboards.influxql import ResultFormat, datasource
from collector.dashboards.queries import SITE, Policy, Select

if TYPE_CHECKING:
    from collections.abc import Sequence

    from grafana_foundation_sdk.cog.builder import Builder

TAG: Final = "pelangi"
"""Every generated dashboard carries this tag (Grafana's dashboard lists can filter on it)."""


class AlertAnnotationTarget(model.AnnotationTarget):
    """The InfluxQL query of an annotation.

    The SDK's annotation target knows only the built-in Grafana source's keys; Grafana's
    InfluxDB data source reads ``query`` and the columns that become each marker's text
    and tags from the same object.
    """

    def __init__(self, query: str) -> None:
        """An annotation from the rows of ``query``."""
        super().__init__()
        self.query = query

    def to_json(self) -> dict[str, object]:
        """The target as Grafana's InfluxDB data source stores it."""
        return {
            "refId": "Anno",
            "query": self.query,
            "rawQuery": True,
            "resultFormat": ResultFormat.TABLE.value,
            "fromAnnotations": True,
            "textColumn": "value",
            "tagsColumn": "rule,severity,state",
        }


class _Target(cogbuilder.Builder[model.AnnotationTarget]):
    def __init__(self, query: str) -> None:
        self._target = AlertAnnotationTarget(query)

    def build(self) -> model.AnnotationTarget:
        return self._target


def alert_query(rules: str, scope: tuple[str, ...] = SITE) -> str:
    """Firings and resolutions of the rules matching the regex ``rules``, within ``scope``."""
    where = (*scope, f'"rule" =~ /{rules}/')
    fields = '"value", "state", "rule", "severity", "gateway", "device"'
    return Select(fields, ALERT, Policy.RAW, where, time=None).text()


def alert_annotation(rules: str, scope: tuple[str, ...] = SITE) -> dash.AnnotationQuery:
    """Alerts as annotations (see the module docstring)."""
    return (
        dash.AnnotationQuery()
        .name("Alarm Pelangi")
        .datasource(datasource())
        .enable(True)
        .icon_color(Colour.RED)
        .target(_Target(alert_query(rules, scope)))
    )


@dataclass(frozen=True, slots=True)
class Row:
    """A titled row of panels (laid out left to right, wrapping at 24 columns)."""

    title: str
    panels: Sequence[Builder[model.Panel]]


@dataclass(frozen=True, slots=True)
class Frame:
    """What a dashboard is about: its uid, words, variables and the alerts it shows."""

    uid: str
    title: str
    description: str
    variables: Sequence[Builder[model.VariableModel]]
    alert_rules: str = ".*"
    """The ``rule`` tags shown as annotations (a regular expression)."""
    alert_scope: tuple[str, ...] = SITE
    """Conditions on the alerts' tags (empty on a dashboard without a ``site`` variable)."""
    time_from: str = "now-24h"


def build(frame: Frame, rows: Sequence[Row]) -> model.Dashboard:
    """The dashboard; panel ids are numbered in order, so they stay stable between runs."""
    board = (
        dash.Dashboard(frame.title)
        .uid(frame.uid)
        .description(frame.description)
        .tags([TAG])
        .timezone(TIMEZONE)
        .week_start("monday")
        .time(frame.time_from, "now")
        .refresh(REFRESH)
        .tooltip(model.DashboardCursorSync.CROSSHAIR)
        .readonly()
        .variables(list(frame.variables))
        .annotation(alert_annotation(frame.alert_rules, frame.alert_scope))
    )
    for row in rows:
        board.with_row(dash.Row(row.title))
        for panel in row.panels:
            board.with_panel(panel)
    built = board.build()
    for number, placed in enumerate(built.panels or [], start=1):
        placed.id_val = number
    return built


__all__ = ["TAG", "AlertAnnotationTarget", "Frame", "Row", "alert_annotation", "build"]
