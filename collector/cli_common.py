"""What the ``pelangi-collector`` commands share: the ``--config`` option, exit statuses."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Final

import typer

from collector.config import CollectorSettings, InfluxV1Settings

DEFAULT_CONFIG: Final = Path("/etc/pelangi/collector.yaml")
EXIT_FAILED: Final = 1

ConfigOption = Annotated[
    Path,
    typer.Option(
        "--config", "-c", help="The collector's configuration file (YAML).", dir_okay=False
    ),
]


def storage_name(settings: CollectorSettings) -> str:
    """Where the collector stores, in words."""
    influx = settings.influxdb
    if isinstance(influx, InfluxV1Settings):
        return f"InfluxDB {influx.url} database {influx.database}"
    return f"InfluxDB (v2 API) {influx.url} org {influx.org} bucket {influx.bucket}"


__all__ = ["DEFAULT_CONFIG", "EXIT_FAILED", "ConfigOption", "storage_name"]
