"""Running every dashboard query against a real InfluxDB 1.x, as Grafana would send it.

Used by ``tests/test_dashboards_queries.py`` (correctness: rows and columns back) and by
the ``dashboards`` benchmark (time per query). The interpolation itself is
:mod:`sandbox.grafana_queries` (pure); this module adds the IO: loading dashboard files,
asking InfluxDB for the template variables' values (``SHOW TAG VALUES``, as Grafana's
variable editor does) and running each interpolated query over ``/query``.

Which dashboards: the checked-in ``dashboards/*.json`` (``make dashboards`` writes them).
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal

import urllib3

from sandbox.grafana_queries import (
    DashboardError,
    Selection,
    Target,
    TimeRange,
    VariableSpec,
    calculate_interval,
    custom_options,
    interpolate,
    iter_targets,
    iter_variables,
    replace_variables,
    selection,
)

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence

REPO: Final = Path(__file__).resolve().parents[1]
DASHBOARDS: Final = REPO / "dashboards"
RP_VARIABLE: Final = "rp"
"""The retention-policy variable of the contract (``raw`` or ``rollup``): every option is tried."""

Mode = Literal["default", "single"]
"""How variables are set: as the dashboard opens (current value, or *All*), or one value each."""

MAX_ALTERNATIVES: Final = 20
"""Values of one variable tried, in ``single`` mode, before a target counts as empty."""
_ALIAS: Final = re.compile(r"\bAS\s+(\"[^\"]+\"|\w+)", re.IGNORECASE)
_SHOW: Final = re.compile(r"^\s*SHOW\b", re.IGNORECASE)


class InfluxQLError(RuntimeError):
    """InfluxDB answered a query with an error (the message has the query and the error)."""


@dataclass(frozen=True, slots=True)
class Series:
    """One series of a ``/query`` answer."""

    name: str
    tags: dict[str, str]
    columns: tuple[str, ...]
    values: tuple[tuple[Any, ...], ...]


@dataclass(frozen=True, slots=True)
class Outcome:
    """One target run once: which, for which range and variables, how long, and any problem."""

    target: Target
    range_label: str
    variables: str
    query: str
    seconds: float
    rows: int
    problem: str | None

    def describe(self) -> str:
        """One line for a failure message."""
        return (
            f"{self.target.name} [{self.range_label}, {self.variables}]: {self.problem}\n"
            f"    query: {self.query}"
        )


class InfluxQL:
    """Runs InfluxQL on one database of an InfluxDB 1.x (``POST /query``, epoch ms)."""

    def __init__(self, url: str, database: str, *, timeout_s: float = 30.0) -> None:
        """Query ``database`` at ``url`` (e.g. ``http://127.0.0.1:8086``)."""
        self.url = url.rstrip("/")
        self.database = database
        self._http = urllib3.PoolManager(
            maxsize=1, retries=False, timeout=urllib3.Timeout(timeout_s)
        )

    def series(self, query: str) -> list[Series]:
        """Every series of every statement of ``query``.

        Raises:
            InfluxQLError: InfluxDB reported an error (HTTP or per statement).
        """
        response = self._http.request(
            "POST",
            f"{self.url}/query",
            fields={"q": query, "db": self.database, "epoch": "ms"},
            encode_multipart=False,
        )
        text = response.data.decode(errors="replace")
        try:
            body = json.loads(text) if text else {}
        except ValueError:
            body = {"error": text}
        if response.status >= 300 or "error" in body:
            raise InfluxQLError(f"HTTP {response.status}: {body.get('error', text)}")
        found: list[Series] = []
        for result in body.get("results", []):
            if "error" in result:
                raise InfluxQLError(str(result["error"]))
            found.extend(
                Series(
                    name=str(series.get("name", "")),
                    tags=dict(series.get("tags") or {}),
                    columns=tuple(series.get("columns") or ()),
                    values=tuple(tuple(row) for row in series.get("values") or ()),
                )
                for series in result.get("series", [])
            )
        return found

    def close(self) -> None:
        """Close the connection."""
        self._http.clear()


def dashboard_files(directory: Path = DASHBOARDS) -> list[Path]:
    """The checked-in ``dashboards/*.json``."""
    return sorted(directory.glob("*.json"))


def load_dashboards(paths: Sequence[Path]) -> dict[str, dict[str, Any]]:
    """File stem -> dashboard JSON (a provisioning file holding ``{"dashboard": ...}`` too)."""
    loaded = {}
    for path in paths:
        data = json.loads(path.read_text(encoding="utf-8"))
        loaded[path.stem] = data.get("dashboard", data) if isinstance(data, dict) else data
    return loaded


def default_span(dashboard: Mapping[str, Any]) -> str:
    """The dashboard's default range as a span (``now-24h`` .. ``now`` -> ``24h``).

    Raises:
        DashboardError: a default range other than ``now-<span>`` .. ``now``.
    """
    window = dashboard.get("time") or {"from": "now-6h", "to": "now"}  # Grafana's default
    start, end = str(window.get("from", "")), str(window.get("to", ""))
    if end != "now" or not start.startswith("now-"):
        raise DashboardError(f"default range {start!r} .. {end!r}: only now-<span> .. now")
    return start.removeprefix("now-")


def tag_values(runner: InfluxQL, query: str) -> list[str]:
    """The values a ``SHOW TAG VALUES`` (or other metadata) query gives, as Grafana lists them."""
    values: list[str] = []
    for series in runner.series(query):
        column = series.columns.index("value") if "value" in series.columns else 0
        values.extend(str(row[column]) for row in series.values)
    return sorted(set(values))


def _options(
    spec: VariableSpec, runner: InfluxQL, time_range: TimeRange, chosen: Mapping[str, Selection]
) -> list[str]:
    """A variable's options: asked of InfluxDB for a query variable, given ``chosen`` ones."""
    if spec.kind == "query":
        text = replace_variables(spec.query, chosen)
        text = interpolate(text, time_range=time_range, interval_ms=60_000, selections=chosen)
        return tag_values(runner, text)
    if spec.kind in {"custom", "constant", "textbox", "interval"}:
        return list(custom_options(spec))
    return []


def _candidates(spec: VariableSpec, values: Sequence[str], mode: Mode) -> list[Selection]:
    """What to select, best first: as the dashboard opens, or each single value in turn."""
    if not values:
        if spec.include_all and spec.all_value is not None:  # e.g. no buildings configured
            return [selection(spec, [], all_selected=True)]
        return []
    if mode == "default" and spec.current and set(spec.current) <= set(values):
        return [selection(spec, spec.current, all_selected=False)]
    if mode == "default" and spec.include_all:
        return [selection(spec, values, all_selected=True)]
    return [selection(spec, [value], all_selected=False) for value in values]


def _uses(query: str, name: str) -> bool:
    return re.search(rf"\$\{{?{re.escape(name)}\b|\[\[{re.escape(name)}\b", query) is not None


def variable_values(
    dashboard: Mapping[str, Any], runner: InfluxQL, time_range: TimeRange, mode: Mode
) -> tuple[dict[str, tuple[VariableSpec, list[str]]], dict[str, Selection]]:
    """Each variable's spec and options, and what is selected, resolved in order as Grafana does.

    A query variable's query may use earlier variables (chained): they are interpolated
    with what is selected so far. In ``single`` mode a variable takes the first value
    for which the next variable depending on it still has options (a gateway that has
    switches, for the switch variable), as a person picking would.

    Raises:
        InfluxQLError: a variable query failed.
    """
    specs = list(iter_variables(dashboard))
    found: dict[str, tuple[VariableSpec, list[str]]] = {}
    chosen: dict[str, Selection] = {}
    for index, spec in enumerate(specs):
        values = _options(spec, runner, time_range, chosen)
        found[spec.name] = (spec, values)
        candidates = _candidates(spec, values, mode)
        if not candidates:
            continue
        pick = candidates[0]
        later = next(
            (s for s in specs[index + 1 :] if s.kind == "query" and _uses(s.query, spec.name)),
            None,
        )
        if later is not None and len(candidates) > 1:
            pick = next(
                (
                    c
                    for c in candidates
                    if _options(later, runner, time_range, {**chosen, spec.name: c})
                ),
                pick,
            )
        chosen[spec.name] = pick
    return found, chosen


def check(target: Target, query: str, found: Sequence[Series]) -> tuple[int, str | None]:
    """Rows returned and the problem with them, if any (see the test's docstring)."""
    rows = sum(len(series.values) for series in found)
    if not found or rows == 0:
        # A panel with a noValue (open doors counted when none is open) shows it: "0".
        return rows, None if target.no_value is not None else "no rows"
    if _SHOW.match(query):
        return rows, None
    if target.result_format == "time_series":
        for series in found:
            if "time" not in series.columns or len(series.columns) < 2:
                return rows, f"columns {series.columns}: expected time and a value column"
        has_value = any(value is not None for s in found for row in s.values for value in row[1:])
        return rows, None if has_value else "only null values"
    wanted = {alias.strip('"') for alias in _ALIAS.findall(query.split(" FROM ", maxsplit=1)[0])}
    columns = {column for series in found for column in series.columns}
    columns |= {tag for series in found for tag in series.tags}
    missing = sorted(wanted - columns)
    if missing:
        return rows, f"table lacks columns {missing}; it has {sorted(columns)}"
    return rows, None


def run_target(
    runner: InfluxQL,
    target: Target,
    *,
    time_range: TimeRange,
    chosen: Mapping[str, Selection],
) -> tuple[str, float, int, str | None]:
    """Interpolate ``target`` for ``time_range`` and run it: query, seconds, rows, problem."""
    panel_range = time_range.for_panel(target.time_from, target.time_shift, target.timezone)
    interval = calculate_interval(panel_range, target.max_data_points, target.min_interval)
    query = interpolate(
        target.query, time_range=panel_range, interval_ms=interval, selections=chosen
    )
    started = time.perf_counter()
    try:
        found = runner.series(query)
    except InfluxQLError as exc:
        return query, time.perf_counter() - started, 0, f"InfluxDB error: {exc}"
    elapsed = time.perf_counter() - started
    rows, problem = check(target, query, found)
    return query, elapsed, rows, problem


def _described(chosen: Mapping[str, Selection]) -> str:
    return ", ".join(
        f"{k}={'All' if v.all_selected else '|'.join(v.values)}" for k, v in chosen.items()
    )


def _attempts(
    target: Target,
    found: Mapping[str, tuple[VariableSpec, list[str]]],
    chosen: Mapping[str, Selection],
    mode: Mode,
) -> Iterator[dict[str, Selection]]:
    """``chosen``, then (``single`` mode) each other value of one variable the query uses.

    One value per variable picks, say, the first gateway, which may have no switch: a
    person would pick one that has. The first of these that returns rows counts.
    """
    yield dict(chosen)
    if mode != "single":
        return
    for name, (spec, values) in found.items():
        if name == RP_VARIABLE or name not in chosen or not _uses(target.query, name):
            continue
        for value in values[:MAX_ALTERNATIVES]:
            if (value,) != chosen[name].values:
                yield {**chosen, name: selection(spec, [value], all_selected=False)}


def prove(
    dashboards: Mapping[str, Mapping[str, Any]],
    runner: InfluxQL,
    *,
    now_ms: int,
    spans: Sequence[tuple[str, str | None, Mode]],
) -> Iterator[Outcome]:
    """Run every target of every dashboard for each ``(label, span, mode)``.

    ``span`` None means the dashboard's default range. The ``rp`` variable, when a
    dashboard has one, is tried with each of its options. Variable queries count as
    targets too (panel ``variable: NAME``): they must return values.
    """
    for name, dashboard in dashboards.items():
        for label, span, mode in spans:
            time_range = TimeRange.last(span or default_span(dashboard), now_ms)
            started = time.perf_counter()
            found, chosen = variable_values(dashboard, runner, time_range, mode)
            elapsed = time.perf_counter() - started
            for variable, (spec, values) in found.items():
                if spec.kind == "query":
                    yield Outcome(
                        Target(name, f"variable: {variable}", "var", spec.query, "table"),
                        label,
                        "-",
                        spec.query,
                        elapsed / max(len(found), 1),
                        len(values),
                        None if values else "no values",
                    )
            rp_spec = found.get(RP_VARIABLE)
            rps: list[str | None] = list(rp_spec[1]) if rp_spec else [None]
            for rp in rps:
                run_chosen = dict(chosen)
                if rp_spec is not None and rp is not None:
                    run_chosen[RP_VARIABLE] = selection(rp_spec[0], [rp], all_selected=False)
                for target in iter_targets(name, dashboard):
                    for attempt in _attempts(target, found, run_chosen, mode):
                        query, seconds, rows, problem = run_target(
                            runner, target, time_range=time_range, chosen=attempt
                        )
                        if problem is None:
                            break
                    yield Outcome(target, label, _described(attempt), query, seconds, rows, problem)


__all__ = [
    "DASHBOARDS",
    "InfluxQL",
    "InfluxQLError",
    "Outcome",
    "Series",
    "check",
    "dashboard_files",
    "default_span",
    "load_dashboards",
    "prove",
    "run_target",
    "tag_values",
    "variable_values",
]
