"""What ``pelangi-collector setup-db`` creates on InfluxDB 1.x, decided without IO.

- retention policy ``raw`` (``retention.raw_days``, the database's default, where the
  collector writes unless ``influxdb.retention_policy`` names another);
- retention policy ``rollup`` (``retention.rollup_days``);
- one continuous query per measurement worth downsampling, from ``raw`` into the
  measurement of the same name in ``rollup``, every ``retention.rollup_interval``,
  keeping every tag (``GROUP BY time(...), *``). Field names stay the same (``mean``)
  with ``_max``/``_min`` companions, so a dashboard switches between raw and rollup by
  the retention policy alone.

Idempotent: :func:`plan` compares with what the server shows and returns only the
statements needed. A continuous query's name ends with a hash of its text, so a changed
definition (other interval, other database) replaces the old query instead of
colliding with it; queries this module made (``pelangi_`` prefix) that no longer match
are dropped. Other continuous queries are left alone.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from collector.storage.points import (
    AGENT_HEALTH,
    CARD_READ,
    COLLECTOR_STATS,
    DEAD_LETTER,
    DOOR,
    INTERFACE,
    PORT_CHANGE,
    REACHABILITY,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from collector.config import RetentionSettings

RAW: Final = "raw"
ROLLUP: Final = "rollup"
CQ_PREFIX: Final = "pelangi_"

ROLLUPS: Final[Mapping[str, tuple[str, ...]]] = {
    INTERFACE: (
        "mean(in_bps) AS in_bps",
        "max(in_bps) AS in_bps_max",
        "mean(out_bps) AS out_bps",
        "max(out_bps) AS out_bps_max",
        "mean(in_errors_ps) AS in_errors_ps",
        "mean(out_errors_ps) AS out_errors_ps",
        "mean(in_discards_ps) AS in_discards_ps",
        "mean(out_discards_ps) AS out_discards_ps",
        "min(oper_up) AS oper_up_min",
        "max(speed_mbps) AS speed_mbps",
    ),
    AGENT_HEALTH: (
        "mean(cpu_percent) AS cpu_percent",
        "max(cpu_percent) AS cpu_percent_max",
        "max(rss_bytes) AS rss_bytes_max",
        "min(disk_free_bytes) AS disk_free_bytes_min",
        "max(uptime_s) AS uptime_s",
    ),
    CARD_READ: ("count(uid) AS reads",),
    DOOR: ("max(state_code) AS state_code_max", "count(state) AS statements"),
    PORT_CHANGE: ("count(current) AS changes", "min(up) AS up_min"),
    REACHABILITY: ("min(up) AS up_min", "count(reachable) AS changes"),
    DEAD_LETTER: ("count(detail) AS dead_letters",),
    COLLECTOR_STATS: (
        "max(messages_in) AS messages_in",
        "max(readings_written) AS readings_written",
        "max(unacked_messages) AS unacked_messages_max",
        "max(write_ms_max) AS write_ms_max",
    ),
}
"""Per measurement, the aggregates its rollup keeps (what dashboards read over months)."""


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """A retention policy as ``SHOW RETENTION POLICIES`` reports it."""

    name: str
    duration: str
    default: bool


def quote(name: str) -> str:
    """Quote ``name`` as an InfluxQL identifier."""
    escaped = name.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _hours(days: int) -> str:
    # SHOW RETENTION POLICIES reports durations as hours-minutes-seconds: 90d -> 2160h0m0s.
    return f"{days * 24}h0m0s"


def continuous_queries(database: str, raw: str, retention: RetentionSettings) -> dict[str, str]:
    """Name -> ``CREATE CONTINUOUS QUERY`` statement of every rollup."""
    interval = retention.rollup_interval
    queries = {}
    for measurement, aggregates in ROLLUPS.items():
        db, m = quote(database), quote(measurement)
        # Every name is quoted by quote(); aggregates and interval are fixed in this module.
        fields = ", ".join(aggregates)
        source = f"FROM {db}.{quote(raw)}.{m} GROUP BY time({interval}), *"
        select = f"SELECT {fields} INTO {db}.{quote(ROLLUP)}.{m} {source}"
        digest = hashlib.sha256(f"{database}|{select}".encode()).hexdigest()[:8]
        name = f"{CQ_PREFIX}{measurement}_{interval}_{digest}"
        queries[name] = f"CREATE CONTINUOUS QUERY {quote(name)} ON {db} BEGIN {select} END"
    return queries


def plan(
    database: str,
    raw: str,
    retention: RetentionSettings,
    policies: Mapping[str, RetentionPolicy],
    existing_cqs: set[str],
) -> list[str]:
    """The statements that bring the database to the configured state (after it exists).

    Args:
        database: the database name.
        raw: the retention policy the collector writes to (made the default).
        retention: the configured durations and rollup interval.
        policies: the database's retention policies, by name.
        existing_cqs: names of the database's continuous queries.
    """
    statements = []
    db = quote(database)
    for name, days, default in (
        (raw, retention.raw_days, True),
        (ROLLUP, retention.rollup_days, False),
    ):
        wanted = _hours(days)
        have = policies.get(name)
        suffix = " DEFAULT" if default else ""
        if have is None:
            statements.append(
                f"CREATE RETENTION POLICY {quote(name)} ON {db} DURATION {days}d "
                f"REPLICATION 1{suffix}"
            )
        elif have.duration != wanted or (default and not have.default):
            statements.append(
                f"ALTER RETENTION POLICY {quote(name)} ON {db} DURATION {days}d{suffix}"
            )
    wanted_cqs = continuous_queries(database, raw, retention)
    statements.extend(
        f"DROP CONTINUOUS QUERY {quote(name)} ON {db}"
        for name in sorted(existing_cqs)
        if name.startswith(CQ_PREFIX) and name not in wanted_cqs
    )
    statements.extend(
        statement for name, statement in wanted_cqs.items() if name not in existing_cqs
    )
    return statements


__all__ = ["RAW", "ROLLUP", "ROLLUPS", "RetentionPolicy", "continuous_queries", "plan", "quote"]
