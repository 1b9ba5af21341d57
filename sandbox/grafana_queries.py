r"""Grafana's interpolation of raw InfluxQL targets, reproduced without Grafana. Pure.

What a Grafana (10.x/11.x, InfluxQL datasource in the default server-side mode) does to a
raw query before InfluxDB sees it, in the order it does it:

1. The frontend replaces dashboard variables with the ``regex`` format
   (``applyTemplateVariables`` -> ``templateSrv.replace(query, rest, 'regex')`` in
   ``public/app/plugins/datasource/influxdb/datasource.ts``): a single value is
   regex-escaped (``escapeRegex`` of ``@grafana/data``: ``\\ ^ $ * + ? . ( ) | [ ] { } /``
   get a backslash, also inside ``'$var'``); several values, or *All* without a custom
   all value, become ``(a|b|c)`` of escaped values (one value alone: no parentheses);
   *All* with a custom all value is that value as is. ``${var:raw}`` and the other
   explicit formats are honoured. Unknown names (``$timeFilter``...) are left alone.
2. The interval: ``rangeutil.calculateInterval(range, maxDataPoints, minInterval)``
   (``packages/grafana-data/src/datetime/rangeutil.ts``): the span divided by the
   panel's max data points, rounded by ``roundInterval`` to a "nice" step, and never
   below the panel's (or datasource's) min interval.
3. The backend (``pkg/tsdb/influxdb/models/query.go``, ``Query.Build``) replaces
   ``$timeFilter`` with ``time >= <from>ms and time <= <to>ms``, ``$interval`` and
   ``$__interval`` with ``gtime.FormatInterval`` of the interval (largest whole unit:
   ``6h``, ``5m``, ``500ms``) and ``$__interval_ms`` with its milliseconds.

A panel's ``timeFrom`` (``"30d"``) replaces the dashboard range by the last 30 days;
``timeShift`` moves it back. Calendar units are approximated (``M`` = 30 days,
``y`` = 365 days, Grafana's own ``intervals_in_seconds``); Grafana's date math uses
the calendar there, which moves a 1-year range by at most a day.

Not reproduced: ad-hoc filters, ``$__from:date`` style formats, browser-side (legacy
"direct") access, the panel width that sets the default max data points (passed in).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping, Sequence

MS: Final = 1
SECOND_MS: Final = 1000
MINUTE_MS: Final = 60 * SECOND_MS
HOUR_MS: Final = 60 * MINUTE_MS
DAY_MS: Final = 24 * HOUR_MS
YEAR_MS: Final = 365 * DAY_MS

DEFAULT_MAX_DATA_POINTS: Final = 1000
"""Grafana sends the panel's width in pixels; about this for a half-width panel on a laptop."""

_UNITS_MS: Final[Mapping[str, int]] = {
    "ms": 1,
    "s": SECOND_MS,
    "m": MINUTE_MS,
    "h": HOUR_MS,
    "d": DAY_MS,
    "w": 7 * DAY_MS,
    "M": 30 * DAY_MS,
    "y": YEAR_MS,
}
_DURATION: Final = re.compile(r"^(\d+)(ms|[smhdwMy])$")

# rangeutil.roundInterval: (below this many ms, use this step).
_ROUNDING: Final[tuple[tuple[int, int], ...]] = (
    (10, 1),
    (15, 10),
    (35, 20),
    (75, 50),
    (150, 100),
    (350, 200),
    (750, 500),
    (1500, 1000),
    (3500, 2000),
    (7500, 5000),
    (12500, 10000),
    (17500, 15000),
    (25000, 20000),
    (45000, 30000),
    (90000, 60000),
    (210000, 120000),
    (450000, 300000),
    (750000, 600000),
    (1050000, 900000),
    (1500000, 1200000),
    (2700000, 1800000),
    (5400000, 3600000),
    (9000000, 7200000),
    (16200000, 10800000),
    (32400000, 21600000),
    (86400000, 43200000),
    (604800000, 86400000),
    (1814400000, 604800000),
    (3628800000, 2592000000),
)
_ROUNDING_MAX: Final = 31536000000

# templateSrv's variable syntaxes: $name, [[name(:format)]], ${name(.field)(:format)}.
_VARIABLE: Final = re.compile(
    r"\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:^\}]+))?(?::([^\}]+))?\}"
)
_REGEX_SPECIALS: Final = re.compile(r"[\\^$*+?.()|\[\]{}/]")


class DashboardError(ValueError):
    """A dashboard's JSON does not follow the contract (the message names where)."""


def duration_ms(text: str) -> int:
    """``"30d"`` -> milliseconds (Grafana's ``intervalToMs``; a bare number is seconds).

    Raises:
        DashboardError: not a duration Grafana accepts.
    """
    text = text.strip()
    if text.isdigit():
        return int(text) * SECOND_MS
    match = _DURATION.match(text)
    if match is None:
        raise DashboardError(f"not a Grafana duration: {text!r} (expected e.g. 30d, 5m, 1y)")
    return int(match.group(1)) * _UNITS_MS[match.group(2)]


def round_interval(interval_ms: float) -> int:
    """Grafana's ``rangeutil.roundInterval``: a raw step to the next "nice" one below."""
    for below, step in _ROUNDING:
        if interval_ms < below:
            return step
    return _ROUNDING_MAX


def format_interval(interval_ms: int) -> str:
    """Grafana's ``gtime.FormatInterval``: the largest whole unit, truncated (``90s`` -> ``1m``)."""
    for unit, size in (("y", YEAR_MS), ("d", DAY_MS), ("h", HOUR_MS), ("m", MINUTE_MS)):
        if interval_ms >= size:
            return f"{interval_ms // size}{unit}"
    if interval_ms >= SECOND_MS:
        return f"{interval_ms // SECOND_MS}s"
    return f"{max(interval_ms, 1)}ms"


@dataclass(frozen=True, slots=True)
class TimeRange:
    """An absolute range in epoch milliseconds, as Grafana resolves ``now-7d`` .. ``now``."""

    start_ms: int
    end_ms: int

    @classmethod
    def last(cls, span: str, now_ms: int) -> TimeRange:
        """The range ``now-<span>`` .. ``now`` (``span`` as in ``timeFrom``, e.g. ``1y``)."""
        return cls(now_ms - duration_ms(span), now_ms)

    @property
    def span_ms(self) -> int:
        """The range's length in ms."""
        return self.end_ms - self.start_ms

    def for_panel(
        self, time_from: str | None, time_shift: str | None, timezone: str = "UTC"
    ) -> TimeRange:
        """The range a panel queries: its ``timeFrom`` replaces ours, ``timeShift`` moves it.

        ``timeFrom`` is a span (``30d``: the last 30 days) or Grafana date math from now
        (``now/d``: since today's midnight in ``timezone``; ``now-1d/d``: since yesterday's).
        """
        result = self
        if time_from and time_from.startswith("now"):
            result = TimeRange(date_math_ms(time_from, self.end_ms, timezone), self.end_ms)
        elif time_from:
            result = TimeRange(self.end_ms - duration_ms(time_from), self.end_ms)
        if time_shift:
            shift = duration_ms(time_shift)
            result = TimeRange(result.start_ms - shift, result.end_ms - shift)
        return result


_DATE_MATH: Final = re.compile(r"^now(?:-(\d+)([smhdwMy]))?(?:/([hdwMy]))?$")


def date_math_ms(expression: str, now_ms: int, timezone: str = "UTC") -> int:
    """Grafana's date math for a range start: ``now``, ``now-2d``, ``now/d``, ``now-1M/M``.

    Rounding (``/d``) is to the start of the unit in ``timezone`` (the dashboard's);
    weeks start on Monday (Grafana follows the browser's locale there).

    Raises:
        DashboardError: not date math this module reproduces.
    """
    match = _DATE_MATH.match(expression.strip())
    if match is None:
        raise DashboardError(f"date math {expression!r} is not reproduced (e.g. now-7d, now/d)")
    amount, unit, rounding = match.groups()
    zone = ZoneInfo("UTC" if timezone in {"", "browser", "utc"} else timezone)
    at = datetime.fromtimestamp(now_ms / 1000, zone)
    if amount:
        at -= timedelta(milliseconds=int(amount) * _UNITS_MS[unit])
    if rounding:
        at = at.replace(minute=0, second=0, microsecond=0)
        if rounding in "dwMy":
            at = at.replace(hour=0)
        if rounding == "w":
            at -= timedelta(days=at.weekday())
        if rounding in "My":
            at = at.replace(day=1)
        if rounding == "y":
            at = at.replace(month=1)
    return int(at.timestamp() * 1000)


def calculate_interval(
    time_range: TimeRange,
    max_data_points: int = DEFAULT_MAX_DATA_POINTS,
    min_interval: str | None = None,
) -> int:
    """Grafana's ``rangeutil.calculateInterval``: ``$__interval`` in ms for a panel."""
    interval = round_interval(time_range.span_ms / max(max_data_points, 1))
    low = duration_ms(min_interval) if min_interval else 1
    return max(interval, low)


@dataclass(frozen=True, slots=True)
class Selection:
    """A template variable's current value(s) and what kind of variable it is.

    Attributes:
        values: the selected values (one for a single-value variable).
        multi: the variable allows several values.
        include_all: the variable offers *All*.
        all_selected: *All* is selected: ``values`` are then all of its options.
        all_value: the custom all value (used as is when *All* is selected).
    """

    values: tuple[str, ...]
    multi: bool = False
    include_all: bool = False
    all_selected: bool = False
    all_value: str | None = None


def escape_regex(value: str) -> str:
    """``@grafana/data``'s ``escapeRegex``: a backslash before every regex special."""
    return _REGEX_SPECIALS.sub(lambda m: "\\" + m.group(0), value)


def _regex(values: Sequence[str]) -> str:
    escaped = [escape_regex(v) for v in values]
    return escaped[0] if len(escaped) == 1 else "(" + "|".join(escaped) + ")"


_FORMATS: Final[Mapping[str, Callable[[Sequence[str]], str]]] = {
    "regex": _regex,
    "raw": ",".join,
    "text": ",".join,
    "csv": ",".join,
    "pipe": "|".join,
    "singlequote": lambda vs: ",".join("'" + v.replace("'", "\\'") + "'" for v in vs),
    "doublequote": lambda vs: ",".join('"' + v.replace('"', '\\"') + '"' for v in vs),
}


def _format(selection: Selection, fmt: str | None) -> str:
    if selection.all_selected and selection.all_value is not None and fmt != "text":
        return selection.all_value
    formatter = _FORMATS.get(fmt or "regex")
    if formatter is None:
        raise DashboardError(f"variable format {fmt!r} is not reproduced here")
    return formatter(selection.values)


def replace_variables(query: str, selections: Mapping[str, Selection]) -> str:
    """Step 1 of the module docstring: dashboard variables, ``regex`` format by default."""

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2) or match.group(4)
        fmt = match.group(3) or match.group(6)
        selection = selections.get(name)
        if selection is None:
            return match.group(0)
        return _format(selection, fmt)

    return _VARIABLE.sub(substitute, query)


def interpolate(
    query: str,
    *,
    time_range: TimeRange,
    interval_ms: int,
    selections: Mapping[str, Selection],
) -> str:
    """The InfluxQL Grafana sends for ``query`` (all three steps of the module docstring)."""
    builtins = {
        "__from": Selection((str(time_range.start_ms),), all_value=None),
        "__to": Selection((str(time_range.end_ms),)),
        "__range_ms": Selection((str(time_range.span_ms),)),
        "__range_s": Selection((str(time_range.span_ms // SECOND_MS),)),
        "__range": Selection((f"{time_range.span_ms // SECOND_MS}s",)),
    }
    text = replace_variables(query, {**builtins, **selections})
    interval = format_interval(interval_ms)
    time_filter = f"time >= {time_range.start_ms}ms and time <= {time_range.end_ms}ms"
    text = text.replace("$timeFilter", time_filter)
    text = text.replace("$interval", interval)
    text = text.replace("$__interval_ms", str(interval_ms))
    return text.replace("$__interval", interval)


# -- walking a dashboard ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Target:
    """One query of one panel (or an annotation), as the dashboard JSON states it."""

    dashboard: str
    panel: str
    ref_id: str
    query: str
    result_format: str = "time_series"
    time_from: str | None = None
    time_shift: str | None = None
    max_data_points: int = DEFAULT_MAX_DATA_POINTS
    min_interval: str | None = None
    datasource: str = ""
    """The target's datasource uid (or the panel's when the target names none)."""
    no_value: str | None = None
    """The panel's ``noValue``: what Grafana shows when the query returns nothing."""
    timezone: str = "UTC"
    """The dashboard's time zone (for ``timeFrom`` date math such as ``now/d``)."""

    @property
    def name(self) -> str:
        """``dashboard / panel / refId``, for messages."""
        return f"{self.dashboard} / {self.panel} / {self.ref_id}"


@dataclass(frozen=True, slots=True)
class VariableSpec:
    """A template variable of a dashboard (what the test and bench need of it)."""

    name: str
    kind: str
    query: str = ""
    multi: bool = False
    include_all: bool = False
    all_value: str | None = None
    options: tuple[str, ...] = ()
    current: tuple[str, ...] = field(default=())


def _panels(panels: Sequence[Any]) -> Iterator[dict[str, Any]]:
    for panel in panels:
        if not isinstance(panel, dict):
            continue
        yield panel
        yield from _panels(panel.get("panels") or [])  # a row's collapsed panels


def _query_text(target: Mapping[str, Any], where: str) -> str:
    query = target.get("query")
    if not isinstance(query, str) or not query.strip():
        raise DashboardError(f"{where}: no raw InfluxQL in 'query'")
    if target.get("rawQuery") is not True:
        raise DashboardError(f"{where}: 'rawQuery' must be true (the contract: raw InfluxQL)")
    return query


def iter_targets(name: str, dashboard: Mapping[str, Any]) -> Iterator[Target]:
    """Every (dashboard, panel title, refId, query, timeFrom...) target of ``dashboard``.

    Panels nested in rows are included; targets with ``"hide": true`` are skipped as
    Grafana skips them; annotations with a query come last, as panel ``annotation: NAME``.

    Raises:
        DashboardError: a target does not follow the contract (raw InfluxQL).
    """
    timezone = str(dashboard.get("timezone") or "UTC")
    for panel in _panels(dashboard.get("panels") or []):
        title = str(panel.get("title") or f"panel {panel.get('id', '?')}")
        for target in panel.get("targets") or []:
            if target.get("hide") is True:
                continue
            ref_id = str(target.get("refId", "A"))
            where = f"{name} / {title} / {ref_id}"
            yield Target(
                dashboard=name,
                panel=title,
                ref_id=ref_id,
                query=_query_text(target, where),
                result_format=str(target.get("resultFormat") or "time_series"),
                time_from=panel.get("timeFrom") or None,
                time_shift=panel.get("timeShift") or None,
                max_data_points=int(panel.get("maxDataPoints") or DEFAULT_MAX_DATA_POINTS),
                min_interval=panel.get("interval") or None,
                datasource=_uid(target.get("datasource") or panel.get("datasource")),
                no_value=((panel.get("fieldConfig") or {}).get("defaults") or {}).get("noValue"),
                timezone=timezone,
            )
    for annotation in (dashboard.get("annotations") or {}).get("list") or []:
        query = annotation.get("query") or (annotation.get("target") or {}).get("query")
        if not query or annotation.get("builtIn") == 1:
            continue  # Grafana's own "Annotations & Alerts" (its database, not InfluxDB)
        yield Target(
            dashboard=name,
            panel=f"annotation: {annotation.get('name', '?')}",
            ref_id="annotation",
            query=str(query),
            result_format="table",
            datasource=_uid(annotation.get("datasource")),
            timezone=timezone,
        )


def _uid(datasource: object) -> str:
    """A datasource reference's uid: ``{"type": ..., "uid": ...}``, or a bare name/uid."""
    if isinstance(datasource, dict):
        return str(datasource.get("uid", ""))
    return "" if datasource is None else str(datasource)


def _strings(value: object) -> tuple[str, ...]:
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    if value is None:
        return ()
    return (str(value),)


def iter_variables(dashboard: Mapping[str, Any]) -> Iterator[VariableSpec]:
    """The template variables of ``dashboard``, in order (later ones may use earlier ones)."""
    for variable in (dashboard.get("templating") or {}).get("list") or []:
        query = variable.get("query")
        if isinstance(query, dict):  # newer Grafana: {"query": "...", "refId": ...}
            query = query.get("query", "")
        options = tuple(
            str(option.get("value"))
            for option in variable.get("options") or []
            if option.get("value") not in {None, "$__all"}
        )
        current = _strings((variable.get("current") or {}).get("value"))
        yield VariableSpec(
            name=str(variable["name"]),
            kind=str(variable.get("type", "query")),
            query=str(query or ""),
            multi=bool(variable.get("multi")),
            include_all=bool(variable.get("includeAll")),
            all_value=variable.get("allValue") or None,
            options=options,
            current=current,
        )


def custom_options(spec: VariableSpec) -> tuple[str, ...]:
    """The values of a custom, constant, textbox or interval variable (no datasource needed).

    Custom variables split their query on commas (``raw,rollup``) as Grafana does, unless
    ``options`` are listed; ``key : value`` pairs give the value.
    """
    if spec.options:
        return spec.options
    if spec.kind in {"constant", "textbox"}:
        return (spec.query,)
    parts = [part.strip() for part in re.findall(r"(?:\\,|[^,])+", spec.query)]
    values = [part.split(" : ", 1)[1] if " : " in part else part for part in parts]
    return tuple(v.replace("\\,", ",") for v in values if v and v != "auto")


def selection(spec: VariableSpec, values: Sequence[str], *, all_selected: bool) -> Selection:
    """The :class:`Selection` of ``spec`` with ``values`` chosen (all of them when *All*)."""
    return Selection(
        values=tuple(values),
        multi=spec.multi,
        include_all=spec.include_all,
        all_selected=all_selected,
        all_value=spec.all_value,
    )


__all__ = [
    "DEFAULT_MAX_DATA_POINTS",
    "DashboardError",
    "Selection",
    "Target",
    "TimeRange",
    "VariableSpec",
    "calculate_interval",
    "custom_options",
    "date_math_ms",
    "duration_ms",
    "escape_regex",
    "format_interval",
    "interpolate",
    "iter_targets",
    "iter_variables",
    "replace_variables",
    "round_interval",
    "selection",
]
