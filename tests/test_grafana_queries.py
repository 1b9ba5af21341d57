"""Grafana's InfluxQL interpolation as reproduced in sandbox/grafana_queries.py (pure).

Expected values are Grafana's own: ``rangeutil.roundInterval``/``calculateInterval``,
``gtime.FormatInterval``, the ``regex`` variable format and ``Query.Build``'s
``$timeFilter`` (see the module docstring for the source files).
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sandbox.grafana_queries import (
    DashboardError,
    Selection,
    TimeRange,
    VariableSpec,
    calculate_interval,
    custom_options,
    duration_ms,
    escape_regex,
    format_interval,
    interpolate,
    iter_targets,
    iter_variables,
    replace_variables,
    round_interval,
)

NOW = 1_796_400_000_000
DAY = 86_400_000


@pytest.mark.parametrize(
    ("raw_ms", "nice_ms"),
    [
        (5, 1),
        (86_400, 60_000),  # a day over 1,000 points: 86.4 s -> 1m
        (3_600, 5000),  # an hour over 1,000 points: 3.6 s -> 5s (not below 3.5 s)
        (31_536_000, 21_600_000),  # a year over 1,000 points: 6h
        (5_000_000_000, 31_536_000_000),
    ],
)
def test_round_interval_is_grafanas(raw_ms: float, nice_ms: int) -> None:
    assert round_interval(raw_ms) == nice_ms


@pytest.mark.parametrize(
    ("span", "points", "min_interval", "expected"),
    [
        ("24h", 1000, None, "1m"),  # 86.4 s -> 1m
        ("1y", 1000, None, "6h"),
        ("30d", 1000, None, "30m"),  # 43.2 min -> 30m
        ("6h", 1000, None, "20s"),  # 21.6 s -> 20s
        ("1h", 1000, "1m", "1m"),  # the min interval wins
        ("7d", 500, None, "20m"),  # 20.2 min -> 20m
    ],
)
def test_interval_for_a_range(
    span: str, points: int, min_interval: str | None, expected: str
) -> None:
    interval = calculate_interval(TimeRange.last(span, NOW), points, min_interval)
    assert format_interval(interval) == expected


def test_format_interval_truncates_to_the_largest_unit() -> None:
    assert format_interval(90_000) == "1m"
    assert format_interval(500) == "500ms"
    assert format_interval(43_200_000) == "12h"
    assert format_interval(2_592_000_000) == "30d"
    assert format_interval(0) == "1ms"


def test_time_filter_and_interval_macros() -> None:
    window = TimeRange(1000, 2000)
    query = (
        "SELECT mean(x) FROM y WHERE $timeFilter GROUP BY time($__interval) LIMIT $__interval_ms"
    )
    assert interpolate(query, time_range=window, interval_ms=60_000, selections={}) == (
        "SELECT mean(x) FROM y WHERE time >= 1000ms and time <= 2000ms "
        "GROUP BY time(1m) LIMIT 60000"
    )


def test_single_value_is_regex_escaped_even_in_quotes() -> None:
    # Grafana formats raw InfluxQL with 'regex': '$site' with "a.b" becomes 'a\.b'.
    chosen = {"site": Selection(("kantor.pusat",))}
    assert replace_variables("\"site\" = '$site'", chosen) == "\"site\" = 'kantor\\.pusat'"
    assert replace_variables('"site" =~ /^$site$/', {"site": Selection(("gw-1",))}) == (
        '"site" =~ /^gw-1$/'
    )


def test_multi_values_and_all() -> None:
    several = Selection(("a|b", "c"), multi=True)
    assert replace_variables("/^$v$/", {"v": several}) == "/^(a\\|b|c)$/"
    one = Selection(("a",), multi=True)
    assert replace_variables("/^$v$/", {"v": one}) == "/^a$/"
    everything = Selection(("x", "y"), include_all=True, all_selected=True)
    assert replace_variables("/^${v}$/", {"v": everything}) == "/^(x|y)$/"
    custom_all = Selection((), include_all=True, all_selected=True, all_value=".*")
    assert replace_variables("/^(${v:pipe})$/", {"v": custom_all}) == "/^(.*)$/"


def test_explicit_formats_and_unknown_names() -> None:
    chosen = {"g": Selection(("gw-1", "gw.2"), multi=True)}
    assert replace_variables("${g:pipe} [[g:raw]] ${g:csv}", chosen) == (
        "gw-1|gw.2 gw-1,gw.2 gw-1,gw.2"
    )
    assert replace_variables("$timeFilter $nothing", chosen) == "$timeFilter $nothing"
    with pytest.raises(DashboardError, match="glob"):
        replace_variables("${g:glob}", chosen)


def test_rp_variable_fills_the_retention_policy() -> None:
    query = 'SELECT max("in_bps") FROM "$rp"."interface" WHERE $timeFilter'
    out = interpolate(
        query,
        time_range=TimeRange(0, 1),
        interval_ms=1,
        selections={"rp": Selection(("rollup",))},
    )
    assert out.startswith('SELECT max("in_bps") FROM "rollup"."interface"')


def test_panel_time_override_and_shift() -> None:
    window = TimeRange.last("24h", NOW)
    assert window.for_panel("30d", None) == TimeRange(NOW - 30 * DAY, NOW)
    assert window.for_panel(None, "1d") == TimeRange(NOW - 2 * DAY, NOW - DAY)
    with pytest.raises(DashboardError, match="fortnight"):
        duration_ms("fortnight")


def _target(query: str) -> dict[str, object]:
    return {"refId": "A", "query": query, "rawQuery": True, "resultFormat": "time_series"}


def test_walking_a_dashboard_finds_nested_panels_and_annotations() -> None:
    dashboard = {
        "panels": [
            {"title": "top", "timeFrom": "30d", "targets": [_target("SELECT 1")]},
            {
                "type": "row",
                "title": "row",
                "panels": [{"title": "inner", "targets": [_target("SELECT 2")]}],
            },
            {"title": "hidden", "targets": [{**_target("SELECT 3"), "hide": True}]},
        ],
        "annotations": {
            "list": [
                {"builtIn": 1, "name": "Annotations & Alerts"},
                {"name": "Alarm", "target": {"query": "SELECT 4", "rawQuery": True}},
            ]
        },
    }
    found = [(t.panel, t.query, t.time_from) for t in iter_targets("d", dashboard)]
    assert found == [
        ("top", "SELECT 1", "30d"),
        ("inner", "SELECT 2", None),
        ("annotation: Alarm", "SELECT 4", None),
    ]


def test_a_target_that_is_not_raw_influxql_is_refused() -> None:
    dashboard = {"panels": [{"title": "p", "targets": [{"refId": "A", "measurement": "x"}]}]}
    with pytest.raises(DashboardError, match="p / A"):
        list(iter_targets("d", dashboard))


def test_variables_and_custom_options() -> None:
    dashboard = {
        "templating": {
            "list": [
                {"name": "rp", "type": "custom", "query": "raw,rollup"},
                {"name": "b", "type": "custom", "query": "Gedung A : gw-1|gw-2, Gedung B : gw-3"},
                {
                    "name": "site",
                    "type": "query",
                    "query": {"query": "SHOW TAG VALUES WITH KEY = site"},
                    "multi": True,
                    "includeAll": True,
                    "current": {"value": ["$__all"]},
                },
            ]
        }
    }
    rp, building, site = iter_variables(dashboard)
    assert custom_options(rp) == ("raw", "rollup")
    assert custom_options(building) == ("gw-1|gw-2", "gw-3")
    assert site.query == "SHOW TAG VALUES WITH KEY = site"
    assert site.current == ("$__all",)
    assert custom_options(VariableSpec("c", "constant", "x")) == ("x",)


@given(st.text(max_size=40))
def test_escaped_values_match_themselves_literally(value: str) -> None:
    escaped = escape_regex(value)
    assert re.fullmatch(escaped, value, flags=re.DOTALL) is not None


def test_the_datasource_uid_comes_from_the_target_or_else_its_panel() -> None:
    fixed = {"type": "influxdb", "uid": "pelangi-influxdb"}
    dashboard = {
        "panels": [
            {"title": "own", "targets": [{**_target("SELECT 1"), "datasource": fixed}]},
            {"title": "panel's", "datasource": "${DS_INFLUXDB}", "targets": [_target("SELECT 2")]},
        ]
    }
    assert [t.datasource for t in iter_targets("d", dashboard)] == [
        "pelangi-influxdb",
        "${DS_INFLUXDB}",
    ]


def test_time_from_date_math_rounds_in_the_dashboards_time_zone() -> None:
    now = 1_796_389_200_000  # 2026-12-04 13:00 UTC, 21:00 WITA
    midnight_wita = now - 21 * 3600 * 1000
    window = TimeRange.last("24h", now)
    assert window.for_panel("now/d", None, "Asia/Makassar") == TimeRange(midnight_wita, now)
    assert window.for_panel("now-1d/d", None, "Asia/Makassar").start_ms == midnight_wita - DAY
    assert window.for_panel("now-7d", None).start_ms == now - 7 * DAY
    with pytest.raises(DashboardError, match="date math"):
        window.for_panel("now/fy", None)
