"""The storage backend interface: what the pipeline and the CLI need from a database.

A backend takes lines of line protocol and either stores all of them or raises one of
two errors (see :mod:`collector.errors`), which is all the pipeline needs to decide
between retrying and splitting. Backends: :class:`collector.storage.influx_v1.InfluxV1Writer`
(InfluxDB 1.x HTTP API). An InfluxDB 2.x/3.x writer (v2 write API) is another class with
(InfluxDB 1.x HTTP API) and :class:`collector.storage.influx_v2.InfluxV2Writer` (the v2
write API of InfluxDB 2.x/3.x).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from collections.abc import Sequence

    from collector.config import RetentionSettings


class Writer(Protocol):
    """Stores batches of line-protocol lines."""

    @property
    def target(self) -> str:
        """Where the data goes, for log lines (e.g. ``InfluxDB at http://h:8086, db pelangi``)."""
        ...

    def write(self, lines: Sequence[str]) -> None:
        """Store every line, or raise.

        Raises:
            StorageUnavailable: nothing is known to be stored; retry later, keep the data.
            PointsRejected: the server refused at least one line because of its content.
                Others may have been stored; rewriting them is harmless (idempotent).
        """
        ...

    def ping(self) -> str:
        """Check the server answers; return its version (e.g. ``1.6.7``).

        Raises:
            StorageUnavailable: it does not answer, or not like the expected server.
        """
        ...

    def close(self) -> None:
        """Release connections. The writer is not used afterwards."""
        ...


class DatabaseAdmin(Protocol):
    """One-off setup a technician runs (``pelangi-collector setup-db``), not the hot path."""

    def setup(self, retention: RetentionSettings) -> list[str]:
        """Create what is missing (database or bucket, retention, downsampling), idempotently.

        Returns one sentence per change made; empty when everything was already there.

        Raises:
            StorageError: the server is unreachable or refused (e.g. no admin rights).
        """
        ...


class Backend(Writer, DatabaseAdmin, Protocol):
    """A complete storage backend: writes and setup."""


__all__ = ["Backend", "DatabaseAdmin", "Writer"]
