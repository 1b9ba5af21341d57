"""The state database: what Pelangi keeps that is relational, not a time series.

Attendance keeps its registry here (employees, cards, leave, rosters) and the days it has
computed; the alert engine will keep its state here too. One SQLite file is the default
(``sqlite:////var/lib/pelangi/state.db``); offices that run PostgreSQL point ``state.url``
at it instead. Both are driven through SQLAlchemy Core, the schema through Alembic
revisions the program applies itself.

- :mod:`.settings`: :class:`StateSettings`, the ``state:`` section of the configuration.
- :mod:`.database`: :func:`open_state` and :class:`StateDatabase` (transactions).
- :mod:`.schema`: the tables; :mod:`.migrate` and :mod:`.migrations`: their revisions.
- :mod:`.errors`: :class:`StateError` and its kinds, each naming the URL (password masked)
  and what to do.

Adding tables (the alert engine): define them in :mod:`.schema` on the same ``metadata``
and add a revision in ``migrations/versions/`` whose ``down_revision`` is today's head.
"""

from collector.state.database import StateDatabase, open_state
from collector.state.errors import (
    SchemaOutdated,
    SchemaTooNew,
    StateError,
    StateReadOnly,
    StateUnavailable,
)
from collector.state.settings import StateSettings

__all__ = [
    "SchemaOutdated",
    "SchemaTooNew",
    "StateDatabase",
    "StateError",
    "StateReadOnly",
    "StateSettings",
    "StateUnavailable",
    "open_state",
]
