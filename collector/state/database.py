"""Opening the state database: the engine, its transactions, and errors an operator can act on.

:func:`open_state` is what the collector and its commands call: it connects, checks the
schema revision (refusing one newer than this program), upgrades an older one when
allowed, and proves the database writable — so a bad URL, an unreachable PostgreSQL or a
read-only file is reported once, at start-up, naming the URL and what to do, rather than
as a traceback in the middle of a night's attendance run.

SQLite is set up for a file several processes share (the attendance job, the CLI): WAL
journal (readers never block the writer), ``synchronous=NORMAL`` (safe with WAL: a power
cut loses at most the last commits, never the file), foreign keys enforced (SQLite leaves
them off by default), a busy timeout, and write transactions that take the write lock
when they begin (``BEGIN IMMEDIATE``), so two writers queue instead of one failing halfway.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from sqlalchemy import create_engine, event, text
from sqlalchemy.exc import DBAPIError

from collector.state import migrate
from collector.state.errors import (
    SchemaOutdated,
    SchemaTooNew,
    StateError,
    StateReadOnly,
    StateUnavailable,
)
from collector.state.settings import SQLITE

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sqlalchemy.engine import Connection, Engine

    from collector.state.settings import StateSettings

_WRITE = "pelangi_write"
"""Execution option marking a connection whose transaction will write (SQLite: IMMEDIATE)."""


class StateDatabase:
    """The state database as configured: transactions for readers and writers.

    Made by :func:`open_state`; close it with :meth:`close` (or use it as a context
    manager). Errors while connecting come out as :class:`StateError` subclasses.
    """

    def __init__(self, settings: StateSettings) -> None:
        """Prepare the engine; nothing connects until a transaction starts."""
        self.settings = settings
        self.url = settings.display_url
        self.engine = _make_engine(settings)

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection for reading (one consistent snapshot), rolled back at the end."""
        with self._translated(), self.engine.connect() as connection, connection.begin():
            yield connection

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction: committed if the block ends normally, else rolled back."""
        with self._translated(), self.engine.connect() as plain:
            connection = plain.execution_options(**{_WRITE: True})
            with connection.begin():
                yield connection

    def revision(self) -> str | None:
        """The schema revision the database is at (None: empty)."""
        with self.read() as connection:
            return migrate.current(connection)

    def upgrade(self) -> None:
        """Bring the schema up to this program's newest revision (a no-op when it is)."""
        with self._translated(), self.engine.connect() as plain:
            migrate.upgrade(plain.execution_options(**{_WRITE: True}))

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    def __enter__(self) -> Self:
        """Use as a context manager that closes the database at the end."""
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Close the database."""
        self.close()

    @contextmanager
    def _translated(self) -> Iterator[None]:
        try:
            yield
        except DBAPIError as exc:
            if self.settings.is_sqlite:
                problem = _sqlite_problem(self.url, exc, self.settings.engine_url.database)
            else:
                problem = _postgres_problem(self.url, exc)
            if problem is None:
                raise
            raise problem from exc


def open_state(settings: StateSettings, *, upgrade: bool | None = None) -> StateDatabase:
    """Open the state database, check (and maybe upgrade) its schema, prove it writable.

    Args:
        settings: where it is.
        upgrade: bring an older schema up to date; None: as ``settings.upgrade_on_start``.

    Raises:
        StateUnavailable: it cannot be reached or opened.
        StateReadOnly: it cannot be written.
        SchemaTooNew: a newer Pelangi wrote its schema.
        SchemaOutdated: its schema is older and ``upgrade`` is off.
    """
    database = StateDatabase(settings)
    try:
        _bring_up_to_date(
            database, upgrade=settings.upgrade_on_start if upgrade is None else upgrade
        )
        with database.write() as connection:
            # A write that changes nothing: a read-only file, mount or role shows now.
            connection.execute(text("UPDATE alembic_version SET version_num = version_num"))
    except BaseException:
        database.close()
        raise
    return database


def _bring_up_to_date(database: StateDatabase, *, upgrade: bool) -> None:
    revision = database.revision()
    newest = migrate.head()
    if revision is not None and not migrate.known(revision):
        raise SchemaTooNew(database.url, revision, newest)
    if revision != newest:
        if not upgrade:
            raise SchemaOutdated(database.url, revision, newest)
        database.upgrade()


def _make_engine(settings: StateSettings) -> Engine:
    url = settings.engine_url
    if url.drivername != SQLITE:
        return create_engine(
            url,
            pool_pre_ping=True,  # a PostgreSQL restarted overnight leaves dead pooled sockets
            connect_args={
                "connect_timeout": settings.connect_timeout_s,
                "application_name": "pelangi",
            },
        )
    engine = create_engine(url, connect_args={"timeout": settings.busy_timeout_s})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, record: object) -> None:  # noqa: ANN401 - DB-API
        del record
        # Python's sqlite3 opens transactions on its own schedule; SQLAlchemy's recipe:
        # switch that off and say BEGIN ourselves (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute(f"PRAGMA busy_timeout = {int(settings.busy_timeout_s * 1000)}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        write = connection.get_execution_options().get(_WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def _sqlite_problem(url: str, exc: DBAPIError, path: str | None) -> StateError | None:
    """The operator's view of an SQLite error, or None for errors in the data or the code."""
    cause = exc.orig
    name = getattr(cause, "sqlite_errorname", "")
    folder = Path(path or "/").parent
    if name.startswith("SQLITE_CANTOPEN") and not folder.is_dir():
        return StateUnavailable(
            url,
            f"its folder {folder} does not exist",
            "create it, owned by the collector's user "
            "(systemd: StateDirectory=pelangi creates /var/lib/pelangi)",
        )
    # In an existing folder, "cannot open" is a file or folder we may not write: SQLite
    # opens for writing, and in WAL mode must create the -wal and -shm files beside it.
    if name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN")):
        return StateReadOnly(
            url,
            f"the file cannot be written ({cause})",
            "let the collector's user write the file and its folder (SQLite writes "
            "-wal and -shm files beside it), or fix the read-only mount",
        )
    return None


def _postgres_problem(url: str, exc: DBAPIError) -> StateError | None:
    """The operator's view of a PostgreSQL error, or None for errors in the data or the code."""
    cause = exc.orig
    sqlstate = getattr(cause, "sqlstate", None) or _login_sqlstate(str(cause))
    if sqlstate in {"25006", "42501"}:  # read_only_sql_transaction, insufficient_privilege
        return StateReadOnly(
            url,
            f"PostgreSQL refused a write ({_first_line(cause)})",
            "grant the role write rights on its database (README: State database), or "
            "point state.url at the primary rather than a read-only standby",
        )
    if sqlstate.startswith("28"):  # invalid authorization: bad password, no pg_hba entry
        return StateUnavailable(
            url,
            f"PostgreSQL refused the login ({_first_line(cause)})",
            "check the role in state.url, state.password, and the server's pg_hba.conf",
        )
    if sqlstate == "3D000":  # invalid_catalog_name
        return StateUnavailable(
            url,
            f"the database does not exist ({_first_line(cause)})",
            "create it (README, State database: createdb --owner pelangi pelangi)",
        )
    if exc.connection_invalidated or sqlstate.startswith("08") or not sqlstate:
        return StateUnavailable(
            url,
            f"cannot connect ({_first_line(cause)})",
            "check that PostgreSQL runs and accepts TCP connections at that host and "
            "port (listen_addresses, firewall), and the host and port in state.url",
        )
    return None


def _login_sqlstate(message: str) -> str:
    """The SQLSTATE of a refused connection, which libpq reports as text only."""
    # The server's FATAL lines, in English (PostgreSQL's default lc_messages).
    if "password authentication failed" in message or "no pg_hba.conf entry" in message:
        return "28P01"
    if "role" in message and "does not exist" in message:
        return "28000"
    if "database" in message and "does not exist" in message:
        return "3D000"
    return ""


def _first_line(cause: BaseException | None) -> str:
    return (str(cause).strip().splitlines() or [type(cause).__name__])[0]
