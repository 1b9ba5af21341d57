"""Errors the state database raises on purpose, each naming the database and what to do.

Tree (under :class:`collector.errors.CollectorError`)::

    StateError                 the state database cannot be used as configured
    ├── StateUnavailable       it cannot be reached or opened (PostgreSQL down, bad login,
    │                          missing folder or database)
    ├── StateReadOnly          it can be read but not written (file or folder permissions,
    │                          a read-only mount, a PostgreSQL role without write rights)
    ├── SchemaTooNew           its schema was written by a newer Pelangi than this one
    └── SchemaOutdated         its schema is older and automatic upgrades are switched off

Every message names the database by its URL with the password masked (``***``): these
errors end up in logs and on screens.
"""

from __future__ import annotations

from collector.errors import CollectorError


class StateError(CollectorError):
    """The state database cannot be used as configured.

    Attributes:
        url: the database URL with any password masked.
        reason: what went wrong, in plain words.
        remedy: what an operator can do about it.
    """

    def __init__(self, url: str, reason: str, remedy: str) -> None:
        """Create the error for the database at ``url`` (already masked)."""
        self.url = url
        self.reason = reason
        self.remedy = remedy
        super().__init__(f"state database {url}: {reason}; {remedy}")


class StateUnavailable(StateError):  # noqa: N818 - reads as the condition it reports
    """The database cannot be reached or opened."""


class StateReadOnly(StateError):  # noqa: N818 - reads as the condition it reports
    """The database can be read but not written."""


class SchemaTooNew(StateError):  # noqa: N818 - reads as the condition it reports
    """The database's schema revision is unknown to this program: a newer one wrote it.

    Attributes:
        revision: the revision the database is at.
    """

    def __init__(self, url: str, revision: str, head: str) -> None:
        """Create the error for ``url`` at ``revision`` (ours goes up to ``head``)."""
        self.revision = revision
        super().__init__(
            url,
            f"its schema is at revision {revision!r}, which this Pelangi does not know "
            f"(it knows up to {head!r}): a newer Pelangi upgraded it",
            "run that newer Pelangi (or restore a backup taken before the upgrade); "
            "an older program must not write a newer schema",
        )


class SchemaOutdated(StateError):  # noqa: N818 - reads as the condition it reports
    """The schema is older than this program's and ``upgrade_on_start`` is off.

    Attributes:
        revision: the revision the database is at (None: empty database).
    """

    def __init__(self, url: str, revision: str | None, head: str) -> None:
        """Create the error for ``url`` at ``revision`` (ours is ``head``)."""
        self.revision = revision
        at = "empty (no schema yet)" if revision is None else f"at revision {revision!r}"
        super().__init__(
            url,
            f"its schema is {at}, this Pelangi needs {head!r}",
            "take a backup, then run `pelangi-collector state upgrade --config FILE` "
            "(or set state.upgrade_on_start: true)",
        )
