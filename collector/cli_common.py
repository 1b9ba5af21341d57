"""What the ``pelangi-collector`` commands share: the ``--config`` option, exit statuses."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Final

import typer

from collector.config import CollectorSettings, InfluxV1Settings
from collector.errors import CollectorError

if TYPE_CHECKING:
    from collections.abc import Iterator

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


@contextmanager
def failures_reported() -> Iterator[None]:
    """Turn a :class:`CollectorError` (storage, state, registry, rules) into one line, exit 1.

    What a command expects to go wrong (a database away, an unknown unit) is said in one
    line naming it, never as a traceback.
    """
    try:
        yield
    except CollectorError as exc:
        typer.echo(f"pelangi-collector: {exc}", err=True)
        raise typer.Exit(EXIT_FAILED) from None


__all__ = ["DEFAULT_CONFIG", "EXIT_FAILED", "ConfigOption", "failures_reported", "storage_name"]
