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
  missing database (404). The data is fine and the broker keeps it for us meanwhile, so
  the reaction is the same: wait, retry, lose nothing. Its ``answered`` tells the two
  kinds apart for the watchdog (:mod:`collector.watchdog`): no answer at all (refused,
  timeout: waited out, however long) or an error *answer* (5xx, 401/403, database
  missing), which needs a person: if it persists for ``stall_timeout_s`` the collector
  exits, saying why, rather than retry forever in silence.
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
        answered: the server answered, with an error (``HTTP 503``, ``401``, database
            missing); False when no answer came (refused, timeout, reset).
    """

    def __init__(self, target: str, reason: str, *, answered: bool = False) -> None:
        """Create the error for ``target`` with a readable ``reason``."""
        self.target = target
        self.reason = reason
        self.answered = answered
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
            answered=True,
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
