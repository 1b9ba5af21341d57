"""Schema revisions: where the database stands, and bringing it up to date (Alembic).

The program migrates its own database, at start-up (``state.upgrade_on_start``) or by
command: Alembic is driven from here with a connection the program opened, so there is
no ``alembic.ini`` for anyone to find or keep in step. Revisions live in
:mod:`collector.state.migrations`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Final

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

MIGRATIONS: Final = Path(__file__).with_name("migrations")


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(_config())


def head() -> str:
    """The newest revision this program knows."""
    newest = _scripts().get_current_head()
    if newest is None:  # pragma: no cover - the tree ships at least one revision
        raise RuntimeError(f"no revisions in {MIGRATIONS}")
    return newest


def current(connection: Connection) -> str | None:
    """The revision the database is at (None: no schema yet)."""
    return MigrationContext.configure(connection).get_current_revision()


def known(revision: str) -> bool:
    """Whether ``revision`` is one of this program's (else a newer program wrote it)."""
    try:
        return _scripts().get_revision(revision) is not None
    except CommandError:  # alembic's ResolutionError is a CommandError
        return False


def upgrade(connection: Connection, target: str = "head") -> None:
    """Run every revision after the database's current one up to ``target``, and commit."""
    command.upgrade(_config(connection), target)
    connection.commit()


__all__ = ["MIGRATIONS", "current", "head", "known", "upgrade"]
