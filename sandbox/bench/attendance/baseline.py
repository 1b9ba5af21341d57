"""InfluxDB alone returning the month's taps: the baseline the job is compared with.

The same InfluxQL the tap store sends (:func:`collector.attendance.taps.taps_query`), for
the same ranges the job asks for (a week of dates per query, each widened by
:func:`~collector.attendance.windows.tap_range`), posted the way
:class:`~collector.storage.influx_v1.InfluxV1Writer` posts it (a form body with ``db``
and ``epoch=ns``) on a kept-alive urllib3 connection. Timed: the HTTP request until the
whole answer has been read (InfluxDB's query and its JSON encoding, the transfer over
loopback), then ``json.loads`` of the answer, separately. Not timed, and not done: turning
rows into dicts or taps (the tap store's own work, which the job's figure includes).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urlencode

import urllib3

from collector.attendance.job import CHUNK_DAYS
from collector.attendance.taps import taps_query
from collector.attendance.windows import tap_range
from collector.storage.influx_v1 import quote_ident
from collector.storage.points import CARD_READ

if TYPE_CHECKING:
    from datetime import date

    from collector.attendance.settings import AttendanceSettings
    from sandbox.servers import InfluxDB

READ_TIMEOUT_S: Final = 120.0


@dataclass(frozen=True, slots=True)
class QueryTiming:
    """One pass over a set of tap queries."""

    queries: int
    http_s: float
    json_s: float
    rows: int
    body_bytes: int

    @property
    def total_s(self) -> float:
        """HTTP plus JSON decoding."""
        return self.http_s + self.json_s


def job_ranges(days: list[date], settings: AttendanceSettings) -> list[tuple[str, str]]:
    """``(label, statement)`` of every tap query the job sends for ``days``, in its order."""
    ordered = sorted(set(days))
    statements = []
    for start in range(0, len(ordered), CHUNK_DAYS):
        chunk = ordered[start : start + CHUNK_DAYS]
        begin, end = tap_range(chunk, settings)
        statements.append(
            (f"{chunk[0]}..{chunk[-1]}", taps_query(quote_ident(CARD_READ), begin, end))
        )
    return statements


def month_range(days: list[date], settings: AttendanceSettings) -> list[tuple[str, str]]:
    """The whole month in one query (for information: the job never sends it)."""
    begin, end = tap_range(days, settings)
    return [(f"{min(days)}..{max(days)}", taps_query(quote_ident(CARD_READ), begin, end))]


class RawQueries:
    """Posts tap queries to InfluxDB and times them (see the module docstring)."""

    def __init__(self, influx: InfluxDB, database: str) -> None:
        """Query ``database`` on ``influx`` over one kept-alive connection."""
        self._database = database
        self._pool = urllib3.HTTPConnectionPool(
            influx.host,
            influx.port,
            maxsize=1,
            retries=False,
            timeout=urllib3.Timeout(connect=2.0, read=READ_TIMEOUT_S),
        )

    def run(self, statements: list[tuple[str, str]]) -> QueryTiming:
        """Send each statement once; HTTP and JSON seconds summed over them, rows counted."""
        http_s = json_s = 0.0
        rows = body_bytes = 0
        for _, statement in statements:
            body = urlencode({"q": statement, "db": self._database, "epoch": "ns"}).encode()
            started = time.perf_counter()
            response = self._pool.request(
                "POST",
                "/query",
                body=body,
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            data = response.data
            received = time.perf_counter()
            answer: dict[str, Any] = json.loads(data)
            json_s += time.perf_counter() - received
            http_s += received - started
            if response.status != 200:
                raise RuntimeError(f"tap query answered HTTP {response.status}: {data[:200]!r}")
            rows += _rows(answer)
            body_bytes += len(data)
        return QueryTiming(len(statements), http_s, json_s, rows, body_bytes)

    def close(self) -> None:
        """Close the connection."""
        self._pool.close()


def _rows(answer: dict[str, Any]) -> int:
    count = 0
    for result in answer.get("results", []):
        if "error" in result:
            raise RuntimeError(f"tap query failed: {result['error']}")
        count += sum(len(series.get("values") or []) for series in result.get("series", []))
    return count
