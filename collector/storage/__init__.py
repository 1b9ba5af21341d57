"""Storage: readings to points, points to line protocol, and the backends that store them.

- :mod:`collector.storage.points`: the schema (which readings become which points).
- :mod:`collector.storage.lineprotocol`: :class:`Point` and its exact text encoding.
- :mod:`collector.storage.base`: the backend interface the pipeline writes through.
- :mod:`collector.storage.influx_v1`: InfluxDB 1.x HTTP API backend (and ``setup-db``:
  database, retention policies, continuous queries).
- :mod:`collector.storage.influx_v2`: the v2 write API (InfluxDB 2.x/3.x) through
  influxdb-client.

The rest of the collector builds a backend only through :func:`open_backend`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from collector.config import InfluxV1Settings
from collector.storage.influx_v1 import InfluxV1Writer
from collector.storage.influx_v2 import InfluxV2Writer

if TYPE_CHECKING:
    from collector.config import InfluxV2Settings
    from collector.storage.base import Backend


def open_backend(settings: InfluxV1Settings | InfluxV2Settings) -> Backend:
    """Build the backend that ``settings`` describe (nothing is contacted yet)."""
    if isinstance(settings, InfluxV1Settings):
        return InfluxV1Writer(settings)
    return InfluxV2Writer(settings)


__all__ = ["open_backend"]
