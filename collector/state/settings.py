"""Where the state database is: ``state:`` in the collector's configuration file.

The URL is SQLAlchemy's: ``sqlite:////var/lib/pelangi/state.db`` (the default: an embedded
file, four slashes for an absolute path) or ``postgresql+psycopg://pelangi@db-host/pelangi``
for an office that runs PostgreSQL (``postgresql://`` means the same here: psycopg 3 is the
driver Pelangi ships with). The password is kept apart, in ``password``, a secret never
shown: the URL holds none (one written into it is refused), so the URL can be logged, and
the settings dumped, as they are; :attr:`StateSettings.display_url` is what messages print.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Annotated, Final

from pydantic import Field, SecretStr, field_validator
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from pelangi.configfile import StrictModel

DEFAULT_URL: Final = "sqlite:////var/lib/pelangi/state.db"
SQLITE: Final = "sqlite"
POSTGRESQL: Final = "postgresql+psycopg"
_DRIVERS: Final = {"sqlite": SQLITE, "postgresql": POSTGRESQL, "postgresql+psycopg": POSTGRESQL}


def parse_url(text: str) -> URL:
    """Parse and normalise a state database URL (see the module docstring).

    Raises:
        ValueError: not a URL, another database, a password in it, or an SQLite URL that
            is not an absolute file path; the message never repeats a password.
    """
    try:
        url = make_url(text)
    except ArgumentError:
        raise ValueError(
            "expected a database URL such as sqlite:////var/lib/pelangi/state.db or "
            "postgresql+psycopg://pelangi@db-host/pelangi"
        ) from None
    driver = _DRIVERS.get(url.drivername)
    if driver is None:
        raise ValueError(
            f"expected an sqlite:// or postgresql+psycopg:// URL, got {url.drivername}://"
        )
    url = url.set(drivername=driver)
    if url.password is not None:
        raise ValueError("expected the URL without a password: put it in state.password")
    if driver == SQLITE:
        # A relative path would depend on the working directory (systemd starts us in /),
        # and an in-memory database would forget everything at exit.
        if not url.database or not PurePosixPath(url.database).is_absolute():
            raise ValueError(
                "expected an absolute file path after sqlite:/// "
                "(four slashes in all: sqlite:////var/lib/pelangi/state.db)"
            )
    elif not url.database:
        raise ValueError("expected the database name at the end of the URL (…/pelangi)")
    return url


class StateSettings(StrictModel):
    """The state database: employees, cards, leave, attendance results (later: alert state)."""

    url: str = Field(
        default=DEFAULT_URL,
        description="SQLAlchemy URL: sqlite:////path/state.db or postgresql+psycopg://...",
    )
    password: SecretStr | None = Field(
        default=None, description="PostgreSQL password (never in the URL)"
    )
    upgrade_on_start: bool = Field(
        default=True,
        description="bring an older schema up to date when the collector opens the database "
        "(off: refuse, and leave it to `pelangi-collector state upgrade`)",
    )
    busy_timeout_s: Annotated[float, Field(gt=0, le=600)] = Field(
        default=10.0,
        description="SQLite: how long a write waits for another process's write to finish",
    )
    connect_timeout_s: Annotated[int, Field(ge=1, le=600)] = Field(
        default=10, description="PostgreSQL: longest wait for a connection"
    )

    @field_validator("url")
    @classmethod
    def _valid_url(cls, value: str) -> str:
        parse_url(value)
        return value

    @property
    def engine_url(self) -> URL:
        """The URL to connect with, the password included (never print it)."""
        url = parse_url(self.url)
        if self.password is not None:
            url = url.set(password=self.password.get_secret_value())
        return url

    @property
    def display_url(self) -> str:
        """The URL for log lines and messages, the password masked as ``***``."""
        return self.engine_url.render_as_string(hide_password=True)

    @property
    def is_sqlite(self) -> bool:
        """Whether the database is an SQLite file."""
        return self.engine_url.drivername == SQLITE
