"""What InfluxDB holds after a run: counts, write counters, field keys."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Final

from sandbox.servers import InfluxQueryError
from sandbox.waiting import wait_until

if TYPE_CHECKING:
    from sandbox.servers import InfluxDB

COUNT_POLL_S: Final = 0.5
"""How often ``SELECT count`` is repeated while it disagrees (counting costs CPU)."""

# Literal queries, so no query is ever built from a variable. Only the readings' own
# measurements count: the collector also writes its metrics (and dead letters) there.
_COUNT_QUERY: Final = 'SELECT count("seq") FROM "card_read", "interface"'
_FIELD_KEYS_QUERY: Final = 'SHOW FIELD KEYS FROM "card_read", "interface"'


def count_points(influx: InfluxDB, db: str) -> int:
    """The readings' points ``db`` holds (a real count: duplicates counted once)."""
    return sum(int(row["count"]) for row in influx.query(_COUNT_QUERY, db))


def points_written(influx: InfluxDB, db: str) -> int:
    """Points InfluxDB accepted into ``db`` so far, from its write counters (not a count)."""
    rows = influx.query("SHOW STATS FOR 'shard'")
    return sum(int(row.get("writePointsOk", 0)) for row in rows if row.get("database") == db)


def verify_stored(influx: InfluxDB, db: str, expected: int) -> int:
    """Count the points in ``db`` (a few times if short of ``expected``); return the count."""

    # The write counters include overwritten duplicates: only a count proves nothing is lost.
    def enough() -> int | None:
        stored = count_points(influx, db)
        return stored if stored >= expected else None

    try:
        return wait_until(
            enough, timeout=5.0, what=f"{db} holds {expected:,} points", interval=COUNT_POLL_S
        )
    except TimeoutError:
        return count_points(influx, db)


def field_keys(influx: InfluxDB, db: str) -> list[str]:
    """The field keys the readings' measurements have in ``db``, sorted (what was stored)."""
    return sorted(row["fieldKey"] for row in influx.query(_FIELD_KEYS_QUERY, db))


def drop_quietly(influx: InfluxDB, db: str) -> None:
    """Drop ``db`` if it exists (a run's database is dropped as soon as it is checked).

    Dropping stops its compactions, so the next run does not share the CPU with them.
    """
    with contextlib.suppress(InfluxQueryError):
        influx.drop_database(db)
