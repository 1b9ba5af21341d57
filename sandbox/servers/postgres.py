"""A private PostgreSQL on a free loopback port, its cluster in a folder of its own.

PostgreSQL refuses to run as root: when we are root (CI, these machines) ``initdb`` and the
server run as the ``postgres`` user that Debian's package creates, and the cluster lives
in a private folder under the system's temp folder, since the test's own folders (under
``/tmp/pytest-of-root``, mode 0700) are out of that user's reach. The system's own
PostgreSQL (port 5432) is never touched.

The cluster is made for speed, not durability (``fsync=off``, no WAL flushes): a test
database is thrown away anyway. Logins over TCP need the superuser's password
(scram-sha-256), so tests can exercise wrong passwords; the Unix socket is trusted.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path
from typing import Final

import psycopg
from psycopg import sql

from sandbox.processes import SandboxError, as_user
from sandbox.servers.base import LOOPBACK, Server, free_port

SUPERUSER: Final = "postgres"
PASSWORD: Final = "pelangi-test-secret"  # noqa: S105 - a throw-away test cluster's
_BINDIR_ROOT: Final = Path("/usr/lib/postgresql")


def postgres_bindir(version: str | None = None) -> Path:
    """Debian's folder of PostgreSQL server programs (``initdb``, ``postgres``): the newest.

    Raises:
        SandboxError: no server is installed; the message says which package to install.
    """
    versions = sorted(
        (p for p in _BINDIR_ROOT.glob("*/bin") if (p / "postgres").exists()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    if version is not None:
        versions = [p for p in versions if p.parent.name == version]
    if not versions:
        raise SandboxError(
            f"no PostgreSQL server under {_BINDIR_ROOT} (version {version or 'any'}); "
            "run scripts/install-debian-packages (or `make deps`): package postgresql-15"
        )
    return versions[-1]


class PostgreSQL(Server):
    """PostgreSQL on ``127.0.0.1:<port>`` (see the module docstring).

    The work folder holds the log; the cluster is in :attr:`cluster` (removed when the
    context manager exits, or by :meth:`remove`).
    """

    name = "postgres"
    start_timeout = 30.0

    def __init__(self, workdir: Path, *, port: int | None = None) -> None:
        """Prepare a server logging into ``workdir``, on ``port`` (a free one if None)."""
        super().__init__(workdir)
        self.host = LOOPBACK
        self.port = port if port is not None else free_port()
        self.bindir = postgres_bindir()
        self._user = SUPERUSER if os.geteuid() == 0 else None
        if self._user is None:
            self.cluster = self.workdir / "cluster"
            self.cluster.mkdir(exist_ok=True)
        else:
            self.cluster = Path(tempfile.mkdtemp(prefix="pelangi-postgres-"))
            shutil.chown(self.cluster, self._user, self._user)

    @property
    def data_dir(self) -> Path:
        """The cluster's data folder (PGDATA)."""
        return self.cluster / "data"

    def url(self, database: str, *, user: str = SUPERUSER) -> str:
        """The SQLAlchemy URL of ``database`` for ``user``, without a password.

        The superuser's password is :data:`PASSWORD`.
        """
        return f"postgresql+psycopg://{user}@{self.host}:{self.port}/{database}"

    def _prepare(self) -> None:
        if (self.data_dir / "PG_VERSION").exists():
            return
        password_file = self.cluster / "superuser-password"
        password_file.write_text(PASSWORD + "\n", encoding="utf-8")
        if self._user is not None:
            shutil.chown(password_file, self._user, self._user)
        done = subprocess.run(
            [
                str(self.bindir / "initdb"),
                f"--pgdata={self.data_dir}",
                f"--username={SUPERUSER}",
                f"--pwfile={password_file}",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "--no-sync",  # a throw-away cluster: skip ~1 s of fsyncs
            ],
            capture_output=True,
            text=True,
            env=self._env(),
            timeout=120,
            check=False,
            **as_user(self._user),
        )
        if done.returncode != 0:
            raise SandboxError(f"initdb exited with status {done.returncode}:\n{done.stderr}")

    def _argv(self) -> list[str]:
        settings = {
            "listen_addresses": self.host,
            "unix_socket_directories": str(self.cluster),
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "40",
            "shared_buffers": "32MB",
            "logging_collector": "off",  # log to stderr: our log file
        }
        options = [arg for key, value in settings.items() for arg in ("-c", f"{key}={value}")]
        return [
            str(self.bindir / "postgres"),
            "-D",
            str(self.data_dir),
            "-p",
            str(self.port),
            *options,
        ]

    def _env(self) -> dict[str, str]:
        # PGHOST, PGPORT, PGDATA... from an operator's shell must not move our server.
        return {k: v for k, v in os.environ.items() if not k.startswith("PG")}

    def _run_as(self) -> str | None:
        return self._user

    def _is_ready(self) -> bool:
        try:
            with self.connect("postgres", timeout=1):
                return True
        except psycopg.OperationalError:
            return False

    def connect(
        self, database: str, *, timeout: float = 5
    ) -> psycopg.Connection[tuple[object, ...]]:
        """A psycopg connection to ``database`` as the superuser, in autocommit mode."""
        return psycopg.connect(
            host=self.host,
            port=self.port,
            user=SUPERUSER,
            password=PASSWORD,
            dbname=database,
            connect_timeout=max(1, round(timeout)),
            autocommit=True,
        )

    def create_database(self, name: str) -> None:
        """Create an empty database ``name`` (from template0: nothing inherited)."""
        with self.connect("postgres") as connection:
            connection.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(name))
            )

    def drop_database(self, name: str) -> None:
        """Drop database ``name``, disconnecting whoever still uses it."""
        with self.connect("postgres") as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    def stop(self) -> int | None:
        """Stop with a *fast* shutdown (SIGINT): SIGTERM would wait for every client to leave."""
        if self._process is not None and self._process.running:
            self._process.signal(signal.SIGINT)
            # If it has not stopped in time, the base class insists: SIGTERM, then SIGKILL.
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._process.wait(self.stop_timeout)
        return super().stop()

    def remove(self) -> None:
        """Delete the cluster (the server must be stopped)."""
        if self.running:
            raise SandboxError(f"{self.name} is still running as PID {self.pid}")
        shutil.rmtree(self.cluster, ignore_errors=True)

    def __exit__(self, *exc_info: object) -> None:
        """Stop the server and delete its cluster."""
        self.stop()
        self.remove()
