"""Errors the collector raises on purpose.

Tree (under :class:`pelangi.errors.PelangiError`)::

    CollectorError
    ├── InvalidPointError      a point cannot be written as line protocol (also a ValueError)
    └── StorageError           the storage backend did not take a write
        ├── StorageUnavailable retryable: nothing is wrong with the data; try again later
        │   └── DatabaseNotFound   the database does not exist (run ``setup-db``)
        └── PointsRejected     the server refused the data itself: retrying it cannot help

The split between the two storage errors is what the pipeline acts on:

- :class:`StorageUnavailable` means *keep the batch and retry with backoff, ack nothing*.
  It covers connection refused, timeouts, 5xx, refused credentials (401/403) and a
  missing database (404). The last two need a person, but the data is fine and the broker
  keeps it for us meanwhile, so the safe reaction is the same: wait, retry, lose nothing.
- :class:`PointsRejected` (HTTP 400 and 413) means *some point in this batch will never be
  accepted*: the pipeline splits the batch to find it, drops only that point and acks the
  rest once stored.
"""

from __future__ import annotations

from pelangi.errors import PelangiError


class CollectorError(PelangiError):
    """Base class of the collector's own errors."""


class InvalidPointError(CollectorError, ValueError):
    """A point cannot be expressed in line protocol (bad name, NaN, out-of-range value)."""


class StorageError(CollectorError):
    """The storage backend did not store a write."""


class StorageUnavailable(StorageError):  # noqa: N818 - reads as the condition it reports
    """The backend cannot take writes now (network, overload, auth, setup); retry later.

    Attributes:
        target: what we tried to reach, for log lines (e.g. ``http://influx:8086``).
        reason: the cause in plain words (``connection refused``, ``HTTP 503: ...``).
    """

    def __init__(self, target: str, reason: str) -> None:
        """Create the error for ``target`` with a readable ``reason``."""
        self.target = target
        self.reason = reason
        super().__init__(f"{target} unavailable: {reason}")


class DatabaseNotFound(StorageUnavailable):
    """The configured database does not exist; ``pelangi-collector setup-db`` creates it."""

    def __init__(self, target: str, database: str) -> None:
        """Create the error for ``database`` on ``target``."""
        self.database = database
        super().__init__(
            target,
            f"database {database!r} does not exist; "
            "create it with `pelangi-collector setup-db --config FILE`",
        )


class PointsRejected(StorageError):  # noqa: N818 - reads as the condition it reports
    """The server refused (some of) the points in a write because of the data itself.

    Attributes:
        message: the server's own explanation, verbatim (e.g. InfluxDB's
            ``partial write: field type conflict: ...``).
    """

    def __init__(self, message: str) -> None:
        """Create the error carrying the server's ``message``."""
        self.message = message
        super().__init__(f"points rejected: {message}")
