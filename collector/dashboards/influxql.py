"""A typed InfluxQL target for the Grafana Foundation SDK, which ships none.

The SDK models every data source's query as a ``cog.variants.Dataquery`` and builds it
with a ``cog.builder.Builder``; a data source it
does not know is read back as an untyped ``UnknownDataquery``. :class:`InfluxQLQuery` and its
builder :class:`InfluxQL` fill that gap for Grafana's InfluxDB data source in InfluxQL mode,
and :func:`register` tells the SDK's runtime about them, so ``Dashboard.from_json`` reads
our targets back as :class:`InfluxQLQuery` instead of a bag of keys.

Every target is a raw query (``rawQuery: true``, the text as written, no query editor
model) against the fixed data source ``pelangi-influxdb``:

.. code-block:: json

    {"refId": "A", "datasource": {"type": "influxdb", "uid": "pelangi-influxdb"},
     "query": "SELECT ... WHERE $timeFilter ...", "rawQuery": true,
     "resultFormat": "time_series", "alias": "$tag_port"}

``alias`` is optional (Grafana's InfluxQL alias patterns: ``$tag_<key>``, ``$col``).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Self

from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import runtime as cogruntime
from grafana_foundation_sdk.cog import variants as cogvariants
from grafana_foundation_sdk.models.dashboard import DataSourceRef

from collector.dashboards.names import DATASOURCE_TYPE, DATASOURCE_UID


class ResultFormat(StrEnum):
    """How Grafana shapes the result: one series per group, or one table."""

    TIME_SERIES = "time_series"
    TABLE = "table"


def datasource() -> DataSourceRef:
    """The reference to Pelangi's InfluxDB data source (a fresh object: the SDK mutates refs)."""
    return DataSourceRef(type_val=DATASOURCE_TYPE, uid=DATASOURCE_UID)


class InfluxQLQuery(cogvariants.Dataquery):
    """One raw InfluxQL target of a panel (the JSON shape is in the module docstring)."""

    ref_id: str
    query: str
    result_format: ResultFormat
    alias: str | None
    datasource: DataSourceRef

    def __init__(
        self,
        query: str = "",
        *,
        ref_id: str = "A",
        result_format: ResultFormat = ResultFormat.TIME_SERIES,
        alias: str | None = None,
        datasource_ref: DataSourceRef | None = None,
    ) -> None:
        """A target running ``query`` (see the module docstring for the other keys)."""
        self.ref_id = ref_id
        self.query = query
        self.result_format = result_format
        self.alias = alias
        self.datasource = datasource_ref if datasource_ref is not None else datasource()

    def to_json(self) -> dict[str, object]:
        """The target as Grafana stores it in a dashboard."""
        payload: dict[str, object] = {
            "refId": self.ref_id,
            "datasource": self.datasource,
            "query": self.query,
            # Always raw: the text is the query; Grafana's editor model is left out.
            "rawQuery": True,
            "resultFormat": self.result_format.value,
        }
        if self.alias is not None:
            payload["alias"] = self.alias
        return payload

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        """Read a target back (the SDK's unmarshalling hook)."""
        ref = data.get("datasource")
        return cls(
            str(data.get("query", "")),
            ref_id=str(data.get("refId", "A")),
            result_format=ResultFormat(data.get("resultFormat", ResultFormat.TIME_SERIES)),
            alias=data.get("alias"),
            datasource_ref=DataSourceRef.from_json(ref) if isinstance(ref, dict) else None,
        )


class InfluxQL(cogbuilder.Builder[InfluxQLQuery]):
    """Builds an :class:`InfluxQLQuery`: ``InfluxQL(text).table().alias("$tag_port")``."""

    def __init__(self, query: str) -> None:
        """A time-series target running ``query``, ``refId`` ``A``."""
        self._internal = InfluxQLQuery(query)

    def build(self) -> InfluxQLQuery:
        """The target."""
        return self._internal

    def ref_id(self, ref_id: str) -> Self:
        """Name the target within its panel (``A`` unless set)."""
        self._internal.ref_id = ref_id
        return self

    def table(self) -> Self:
        """Return the result as one table (rows of the query), not as series."""
        self._internal.result_format = ResultFormat.TABLE
        return self

    def alias(self, alias: str) -> Self:
        """Name the series (``$tag_<key>``, ``$col`` patterns)."""
        self._internal.alias = alias
        return self


def variant_config() -> cogruntime.DataqueryConfig:
    """The SDK runtime's entry for InfluxDB targets."""
    return cogruntime.DataqueryConfig(
        identifier=DATASOURCE_TYPE, from_json_hook=InfluxQLQuery.from_json
    )


def register() -> None:
    """Make the SDK read ``influxdb`` targets back as :class:`InfluxQLQuery` (idempotent)."""
    cogruntime.register_dataquery_variant(variant_config())


__all__ = [
    "DATASOURCE_TYPE",
    "DATASOURCE_UID",
    "InfluxQL",
    "InfluxQLQuery",
    "ResultFormat",
    "datasource",
    "register",
    "variant_config",
]
