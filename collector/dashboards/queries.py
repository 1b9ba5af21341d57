"""InfluxQL text for the panels, composed from a few parts. Pure.

Every query filters on Grafana's ``$timeFilter`` (the panel's range) and on template
variables as anchored regular expressions (``"site" =~ /^$site$/``): Grafana writes a
multi-value or "All" selection as ``(a|b|c)``, which an ``=`` comparison cannot take.
A time series groups by ``time($__interval)``, the interval Grafana derives from the range
and the panel's width, so a year-long view asks for a few hundred points, not millions.

The retention policy is part of the ``FROM`` clause (see :class:`Policy` and the package
docstring for which panel reads which).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from collector.storage.setup_v1 import RAW, ROLLUP, quote

TIME_FILTER: Final = "$timeFilter"
PER_INTERVAL: Final = "time($__interval)"
PER_WITA_DAY: Final = "time($__interval, 16h)"
"""Days from 00:00 WITA: InfluxDB's buckets start at 00:00 UTC, 16:00 WITA is 8 h later."""


class Policy(StrEnum):
    """Where a query reads from: the ``rp`` variable's choice, or a fixed policy."""

    CHOSEN = "$rp"
    """The dashboard's ``rp`` variable: ``raw`` (default) or ``rollup``, same field names."""
    RAW = RAW
    """Raw readings (``retention.raw_days``): fields the rollup does not keep."""
    ROLLUP = ROLLUP
    """The 5-minute rollups made by ``setup-db`` (panels whose own range is long)."""


def matches(tag: str, variable: str | None = None) -> str:
    """``"tag" =~ /^$variable$/``: the tag is one of the variable's selected values."""
    return f"{quote(tag)} =~ /^${variable or tag}$/"


def field(name: str) -> str:
    """``name`` quoted as a field key (names like ``c.outbox.telemetry`` need it)."""
    return quote(name)


def call(function: str, name: str, alias: str | None = None) -> str:
    """``function("name") AS "alias"`` (no alias: InfluxDB names the column after the function)."""
    text = f"{function}({field(name)})"
    return text if alias is None else f"{text} AS {quote(alias)}"


PLACE: Final = (matches("site"), matches("gateway"))
"""Readings of the selected sites and gateways (the gateway list follows ``building``)."""
SWITCH: Final = (*PLACE, matches("device", "switch"))
"""Interface readings of the selected switches (a switch is the reading's ``device``)."""
UNIT: Final = (matches("unit"),)
"""Attendance days of the selected units."""
SITE: Final = (matches("site"),)
"""Alerts of the selected sites (an alert about a whole site has no gateway tag)."""


@dataclass(frozen=True, slots=True)
class Select:
    """One ``SELECT``: ``fields FROM policy.measurement WHERE $timeFilter AND ... GROUP BY``."""

    fields: str
    measurement: str
    policy: Policy = Policy.CHOSEN
    where: tuple[str, ...] = ()
    by: tuple[str, ...] = ()
    """Tag keys, one series (or one row) per combination."""
    time: str | None = PER_INTERVAL
    """The ``GROUP BY time(...)`` part; None for a table or one value over the range."""
    fill: str | None = None
    tail: str = ""
    """``ORDER BY`` / ``LIMIT`` after everything else."""

    def source(self) -> str:
        """``"policy"."measurement"``."""
        return f"{quote(self.policy.value)}.{quote(self.measurement)}"

    def text(self) -> str:
        """The statement."""
        conditions = " AND ".join((TIME_FILTER, *self.where))
        # Text for Grafana's panels, composed from this package's constants: no user input.
        parts = [f"SELECT {self.fields} FROM {self.source()} WHERE {conditions}"]  # noqa: S608
        groups = ([self.time] if self.time else []) + [quote(tag) for tag in self.by]
        if groups:
            parts.append("GROUP BY " + ", ".join(groups))
        if self.fill:
            parts.append(f"fill({self.fill})")
        if self.tail:
            parts.append(self.tail)
        return " ".join(parts)


def count_where(inner: Select, condition: str, alias: str) -> str:
    """How many of ``inner``'s series (one row each) meet ``condition``, e.g. doors open now.

    ``inner`` takes the last value per series (``GROUP BY`` its tags, no time); the outer
    query counts the rows whose value passes ``condition``.
    """
    column = inner.fields.rsplit(" AS ", 1)[-1]
    select = f"SELECT count({column}) AS {quote(alias)}"
    return f"{select} FROM ({inner.text()}) WHERE {condition}"


__all__ = [
    "PER_INTERVAL",
    "PER_WITA_DAY",
    "PLACE",
    "SITE",
    "SWITCH",
    "TIME_FILTER",
    "UNIT",
    "Policy",
    "Select",
    "call",
    "count_where",
    "field",
    "matches",
]
