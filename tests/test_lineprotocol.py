"""Line protocol: exact encodings, what is refused, and a round trip through a real InfluxDB."""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import pytest
import urllib3
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from collector.errors import InvalidPointError
from collector.storage.influx_v1 import quote_ident
from collector.storage.lineprotocol import MAX_TIME_NS, MIN_TIME_NS, FieldValue, Point, to_line

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sandbox.servers import InfluxDB


def line(
    measurement: str = "m",
    tags: dict[str, str] | None = None,
    fields: dict[str, FieldValue] | None = None,
    time_ns: int = 1,
) -> str:
    return to_line(Point(measurement, tags or {}, fields or {"f": 1}, time_ns))


@pytest.mark.parametrize(
    ("point", "expected"),
    [
        (Point("m", {}, {"f": 1}, 5), "m f=1i 5"),
        (Point("m", {}, {"f": -(2**63)}, 5), "m f=-9223372036854775808i 5"),
        (Point("m", {}, {"f": 1.5}, 5), "m f=1.5 5"),
        (Point("m", {}, {"f": 1e16}, 5), "m f=1e+16 5"),
        (Point("m", {}, {"f": True, "g": False}, 5), "m f=true,g=false 5"),
        (Point("m", {}, {"f": "text"}, 5), 'm f="text" 5'),
        (Point("m", {}, {"f": ""}, 5), 'm f="" 5'),
        # Tags sorted by key; fields keep their order.
        (Point("m", {"b": "2", "a": "1"}, {"z": 1, "y": 2}, 5), "m,a=1,b=2 z=1i,y=2i 5"),
        # Empty tag values are left out.
        (Point("m", {"a": "", "b": "x"}, {"f": 1}, 5), "m,b=x f=1i 5"),
        (Point("m", {}, {"f": 1}, MIN_TIME_NS), f"m f=1i {MIN_TIME_NS}"),
    ],
)
def test_encodes_values(point: Point, expected: str) -> None:
    assert to_line(point) == expected


def test_escapes_measurement_commas_and_spaces_only() -> None:
    assert line("a,b c=d") == r"a\,b\ c=d f=1i 1"


def test_escapes_tag_keys_values_and_field_keys() -> None:
    assert (
        line("m", {"k,e y=": "v,a l=ue"}, {"f,i e=ld": 1})
        == r"m,k\,e\ y\==v\,a\ l\=ue f\,i\ e\=ld=1i 1"
    )


def test_escapes_quotes_and_backslashes_in_string_fields() -> None:
    assert line(fields={"f": 'say "hi" C:\\ \\'}) == r'm f="say \"hi\" C:\\ \\" 1'


def test_keeps_newlines_and_non_ascii_in_string_fields() -> None:
    assert line(fields={"f": "baris 1\nbaris 2 ✓"}) == 'm f="baris 1\nbaris 2 ✓" 1'


def test_non_ascii_names_need_no_escaping() -> None:
    assert (
        line("kartu_dibaca", {"lokasi": "Lobi Utama ✓"})
        == r"kartu_dibaca,lokasi=Lobi\ Utama\ ✓ f=1i 1"
    )


@pytest.mark.parametrize(
    ("measurement", "tags", "fields", "time_ns", "problem"),
    [
        ("", {}, {"f": 1}, 1, "non-empty"),
        ("#m", {}, {"f": 1}, 1, "comment"),
        ("m\nx", {}, {"f": 1}, 1, "control"),
        ("m", {"a\tb": "x"}, {"f": 1}, 1, "control"),
        ("m", {"a": "x\r"}, {"f": 1}, 1, "control"),
        ("m", {"a": "x\\"}, {"f": 1}, 1, "backslash"),
        ("m", {}, {"f\\": 1}, 1, "backslash"),
        ("m", {}, {"f": "\ud800"}, 1, "surrogate"),
        ("m", {"time": "x"}, {"f": 1}, 1, "reserved"),
        ("m", {}, {"time": 1}, 1, "reserved"),
        ("m", {"k": "x"}, {"k": 1}, 1, "both a tag and a field"),
        ("m", {}, {}, 1, "no fields"),
        ("m", {}, {"f": math.nan}, 1, "finite"),
        ("m", {}, {"f": math.inf}, 1, "finite"),
        ("m", {}, {"f": 2**63}, 1, "64-bit"),
        ("m", {}, {"f": None}, 1, "not a field type"),
        ("m", {}, {"f": 1}, MAX_TIME_NS + 1, "range"),
        ("m", {}, {"f": 1}, MIN_TIME_NS - 1, "range"),
    ],
)
def test_refuses_what_has_no_faithful_encoding(
    measurement: str, tags: dict[str, str], fields: dict[str, Any], time_ns: int, problem: str
) -> None:
    with pytest.raises(InvalidPointError, match=problem):
        Point(measurement, tags, fields, time_ns)


def test_point_is_immutable() -> None:
    tags = {"a": "1"}
    point = Point("m", tags, {"f": 1}, 1)
    tags["a"] = "changed"
    assert point.tags == {"a": "1"}
    with pytest.raises(TypeError):
        point.tags["a"] = "2"  # type: ignore[index]


# -- the round trip through a real InfluxDB ------------------------------------------------

# Names: any text but control characters and backslashes (see collector.storage.lineprotocol).
_NAME_CHARS = st.characters(exclude_categories=("Cc", "Cs"), exclude_characters="\\")
_names = st.text(_NAME_CHARS, min_size=1, max_size=12)
_measurements = _names.filter(lambda name: not name.startswith("#"))
_keys = _names.filter(lambda name: name != "time")
_values: st.SearchStrategy[FieldValue] = st.one_of(
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(st.characters(exclude_categories=["Cs"]), max_size=40),
)
_BASE_NS = 1_764_300_000_000_000_000


@st.composite
def _points(draw: st.DrawFn) -> Point:
    tags = draw(st.dictionaries(_keys, st.one_of(_names, st.just("")), max_size=3))
    fields = draw(
        st.dictionaries(_keys.filter(lambda key: key not in tags), _values, min_size=1, max_size=4)
    )
    time_ns = _BASE_NS + draw(st.integers(min_value=0, max_value=10**12))
    return Point(draw(_measurements), tags, fields, time_ns)


class _Database:
    """A scratch database on the session's InfluxDB, read back raw (series names and tags)."""

    def __init__(self, influx: InfluxDB) -> None:
        self.influx = influx
        self.http = urllib3.PoolManager(retries=False)
        self.counter = 0

    def round_trip(
        self, points: list[Point]
    ) -> list[tuple[str, dict[str, str], dict[str, Any], int]]:
        self.counter += 1
        name = f"lineprotocol_{self.counter}"
        self.influx.create_database(name)
        try:
            self.influx.write("\n".join(to_line(point) for point in points), name)
            # One statement per measurement: across measurements, InfluxQL 1.x gives a field
            # one type and leaves out the measurements where it has another.
            statements = ";".join(
                f"SELECT * FROM {quote_ident(point.measurement)} GROUP BY *"  # noqa: S608 - quoted
                for point in points
            )
            query = urlencode({"db": name, "q": statements, "epoch": "ns"})
            response = self.http.request("GET", f"{self.influx.url}/query?{query}")
            results = json.loads(response.data)["results"]
        finally:
            self.influx.drop_database(name)
        stored = []
        for series in (series for result in results for series in result.get("series", [])):
            for row in series["values"]:
                values = dict(zip(series["columns"], row, strict=True))
                time_ns = values.pop("time")
                fields = {key: value for key, value in values.items() if value is not None}
                tags = {key: value for key, value in series.get("tags", {}).items() if value}
                stored.append((series["name"], tags, fields, time_ns))
        return stored


@pytest.fixture(scope="module")
def scratch(influxdb: InfluxDB) -> Iterator[_Database]:
    database = _Database(influxdb)
    yield database
    database.http.clear()


@pytest.mark.servers
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(points=st.lists(_points(), min_size=1, max_size=8, unique_by=lambda p: p.measurement))
@example(
    points=[
        Point(
            "kartu, dibaca=1",
            {"lokasi ruang": "Lobi, Utama=1 ✓", "kosong": ""},
            {"catatan": 'baris 1\nbaris 2\r\t "kutip" \\ akhir\\', "n": 7, "ok": True, "x": -0.0},
            _BASE_NS,
        )
    ]
)
def test_arbitrary_text_round_trips_through_influxdb(
    scratch: _Database, points: list[Point]
) -> None:
    stored = {name: (tags, fields, time) for name, tags, fields, time in scratch.round_trip(points)}
    assert stored.keys() == {p.measurement for p in points}
    for point in points:
        tags, fields, time_ns = stored[point.measurement]
        assert (tags, time_ns) == (point.tags, point.time_ns)
        assert fields.keys() == point.fields.keys()
        for key, sent in point.fields.items():
            # JSON may print a float without a fraction: Python then reads an exact int.
            got = float(fields[key]) if isinstance(sent, float) else fields[key]
            assert (type(got), got) == (type(sent), sent), key
