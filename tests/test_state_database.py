"""The state database on real backends: SQLite files and a private PostgreSQL 15.

Opening creates the schema at the newest revision (and matches schema.py exactly), sets
SQLite up for sharing, and every way it can fail at start-up — PostgreSQL unreachable, a
refused login, a missing database, a read-only file or role, a schema written by a newer
Pelangi — is one error naming the URL (password masked) and what to do.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from datetime import UTC, date, datetime, timedelta, timezone
from typing import TYPE_CHECKING

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from pydantic import SecretStr
from sqlalchemy import insert, inspect, select, text
from sqlalchemy.exc import IntegrityError, StatementError

from collector.config import CollectorSettings
from collector.state import (
    SchemaOutdated,
    SchemaTooNew,
    StateDatabase,
    StateReadOnly,
    StateSettings,
    StateUnavailable,
    migrate,
    open_state,
    schema,
)
from pelangi.configfile import parse
from pelangi.errors import ConfigError
from sandbox.servers import PostgreSQL, free_port
from sandbox.servers.postgres import PASSWORD

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


def sqlite_settings(path: Path, **options: object) -> StateSettings:
    return StateSettings.model_validate({"url": f"sqlite:///{path}", **options})


@contextlib.contextmanager
def unwritable(*paths: Path) -> Iterator[None]:
    """Make ``paths`` unwritable, even for root (immutable: chattr +i), then restore them."""
    if os.geteuid() == 0:
        subprocess.run(["chattr", "+i", *map(str, paths)], check=True)
    else:
        for path in paths:
            path.chmod(path.stat().st_mode & ~0o222)
    try:
        yield
    finally:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", *map(str, paths)], check=True)
        else:
            for path in paths:
                path.chmod(path.stat().st_mode | 0o200)


# -- opening ---------------------------------------------------------------------------


def test_open_creates_the_schema_at_the_newest_revision(state_db: StateDatabase) -> None:
    assert state_db.revision() == migrate.head()
    tables = set(inspect(state_db.engine).get_table_names())
    assert {t.name for t in schema.ATTENDANCE_TABLES} <= tables


def test_an_upgraded_database_matches_the_schema_exactly(state_db: StateDatabase) -> None:
    with state_db.read() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, schema.metadata) == []


def test_opening_again_changes_nothing(state_settings: StateSettings) -> None:
    open_state(state_settings).close()
    with open_state(state_settings, upgrade=False) as db:  # nothing left to upgrade
        assert db.revision() == migrate.head()


def test_sqlite_is_set_up_for_sharing(tmp_path: Path) -> None:
    with open_state(sqlite_settings(tmp_path / "s.db", busy_timeout_s=2.5)) as db:
        with db.read() as connection:
            pragmas = {
                name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")
            }
        assert pragmas == {
            "journal_mode": "wal",
            "foreign_keys": 1,
            "busy_timeout": 2500,
            "synchronous": 1,  # NORMAL
        }


def test_foreign_keys_hold_on_both_backends(state_db: StateDatabase) -> None:
    row = {"uid": "0012A9D8", "bits": 32, "employee_id": 999, "valid_from": date(2026, 1, 1)}
    with pytest.raises(IntegrityError), state_db.write() as connection:
        connection.execute(insert(schema.card_assignment).values(row))


def test_instants_are_stored_as_utc_and_naive_ones_refused(state_db: StateDatabase) -> None:
    wita = timezone(timedelta(hours=8))
    tap = {
        "day": date(2026, 12, 3),
        "uid": "0012A9D8",
        "bits": 32,
        "at": datetime(2026, 12, 3, 0, 30, tzinfo=wita),
        "site": "bukit-pelangi",
        "gateway": "gw-1",
        "reader": "lobby",
        "clock_suspect": False,
        "candidates": "[]",
        "note": "",
    }
    with state_db.write() as connection:
        connection.execute(insert(schema.unknown_tap).values(tap))
    with state_db.read() as connection:
        stored = connection.execute(select(schema.unknown_tap.c.at)).scalar_one()
    assert stored == datetime(2026, 12, 2, 16, 30, tzinfo=UTC)
    assert stored.tzinfo is UTC
    naive = {**tap, "at": datetime(2026, 12, 3, 0, 30)}  # noqa: DTZ001 - the point
    with (
        pytest.raises(StatementError, match="expected an aware datetime"),
        state_db.write() as connection,
    ):
        connection.execute(insert(schema.unknown_tap).values(naive))


# -- a schema newer or older than this program -------------------------------------------


def test_a_schema_from_a_newer_pelangi_is_refused(state_settings: StateSettings) -> None:
    with open_state(state_settings) as db, db.write() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(SchemaTooNew) as caught:
        open_state(state_settings)
    assert caught.value.revision == "9999"
    assert str(caught.value).startswith(f"state database {state_settings.display_url}: ")
    assert "a newer Pelangi upgraded it" in str(caught.value)
    assert PASSWORD not in str(caught.value)


def test_an_older_schema_waits_for_the_upgrade_command_when_told_to(
    state_settings: StateSettings,
) -> None:
    manual = state_settings.model_copy(update={"upgrade_on_start": False})
    with pytest.raises(SchemaOutdated, match=r"empty \(no schema yet\).*state upgrade"):
        open_state(manual)
    with open_state(manual, upgrade=True) as db:
        assert db.revision() == migrate.head()


# -- what goes wrong at start-up ----------------------------------------------------------


def test_an_unreachable_postgresql_names_the_url_and_what_to_check() -> None:
    port = free_port()  # nothing listens there
    settings = StateSettings(
        url=f"postgresql://pelangi@127.0.0.1:{port}/pelangi",
        password=SecretStr(PASSWORD),
        connect_timeout_s=2,
    )
    with pytest.raises(StateUnavailable) as caught:
        open_state(settings)
    message = str(caught.value)
    assert message.startswith(
        f"state database postgresql+psycopg://pelangi:***@127.0.0.1:{port}/pelangi: "
        "cannot connect ("
    )
    assert "check that PostgreSQL runs" in message
    assert PASSWORD not in message


def test_a_refused_login_names_the_role_and_password_settings(postgres: PostgreSQL) -> None:
    settings = StateSettings(url=postgres.url("postgres"), password=SecretStr("wrong"))
    with pytest.raises(StateUnavailable, match="PostgreSQL refused the login") as caught:
        open_state(settings)
    assert "state.password" in str(caught.value)
    assert "wrong" not in str(caught.value).replace("wrong password", "")
    assert PASSWORD not in str(caught.value)


def test_a_missing_postgresql_database_says_how_to_create_it(postgres: PostgreSQL) -> None:
    with pytest.raises(StateUnavailable, match=r"the database does not exist.*createdb"):
        open_state(StateSettings(url=postgres.url("no_such_db"), password=SecretStr(PASSWORD)))


def test_a_role_without_write_rights_is_read_only(
    postgres: PostgreSQL, request: pytest.FixtureRequest
) -> None:
    name = f"t{os.getpid()}_readonly_role"
    postgres.create_database(name)
    request.addfinalizer(lambda: postgres.drop_database(name))
    open_state(StateSettings(url=postgres.url(name), password=SecretStr(PASSWORD))).close()
    with postgres.connect(name) as admin:
        admin.execute("DROP ROLE IF EXISTS reader")
        admin.execute("CREATE ROLE reader LOGIN PASSWORD 'reader-pw'")
        admin.execute("GRANT SELECT ON ALL TABLES IN SCHEMA public TO reader")
    request.addfinalizer(lambda: _drop_role(postgres, name))
    reader = StateSettings(url=postgres.url(name, user="reader"), password=SecretStr("reader-pw"))
    with pytest.raises(StateReadOnly, match="PostgreSQL refused a write") as caught:
        open_state(reader)
    assert "reader:***@" in str(caught.value)
    assert "reader-pw" not in str(caught.value)


def _drop_role(postgres: PostgreSQL, database: str) -> None:
    with postgres.connect(database) as admin:
        admin.execute("DROP OWNED BY reader")
        admin.execute("DROP ROLE reader")


def test_a_read_only_sqlite_file_is_reported_as_such(tmp_path: Path) -> None:
    settings = sqlite_settings(tmp_path / "state.db")
    open_state(settings).close()
    with unwritable(tmp_path / "state.db"), pytest.raises(StateReadOnly) as caught:
        open_state(settings)
    assert str(caught.value).startswith(
        f"state database sqlite:///{tmp_path}/state.db: the file cannot be written ("
    )
    assert "-wal and -shm" in str(caught.value)


def test_a_new_sqlite_file_in_a_read_only_folder_is_reported_as_such(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    with unwritable(folder), pytest.raises(StateReadOnly, match="cannot be written"):
        open_state(sqlite_settings(folder / "state.db"))


def test_a_missing_sqlite_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(StateUnavailable, match=f"its folder {tmp_path}/nowhere does not exist"):
        open_state(sqlite_settings(tmp_path / "nowhere" / "state.db"))


# -- settings ------------------------------------------------------------------------------


def test_the_default_is_an_sqlite_file_under_var_lib() -> None:
    settings = CollectorSettings().state
    assert settings.display_url == "sqlite:////var/lib/pelangi/state.db"
    assert settings.is_sqlite


def test_postgresql_urls_name_the_driver_pelangi_ships_and_keep_the_password_apart() -> None:
    text = "state:\n  url: postgresql://pelangi@db/pelangi\n  password: s3cret\n"
    settings = parse(text, CollectorSettings).state
    assert settings.engine_url.password == "s3cret"  # noqa: S105 - a test value
    assert settings.display_url == "postgresql+psycopg://pelangi:***@db/pelangi"
    assert "s3cret" not in repr(settings)
    # What the sandbox does with settings (a YAML file for a child process) keeps working.
    assert StateSettings.model_validate(settings.model_dump(mode="json")).url == settings.url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "mysql://u:s3cret@db/x",
            (
                "got 'mysql://u:***@db/x'; expected: Value error, expected an "
                "sqlite:// or postgresql+psycopg:// URL, got mysql://"
            ),
        ),
        (
            "postgresql://u:s3cret@db/x",
            (
                "got 'postgresql://u:***@db/x'; expected: Value error, expected the URL without a "
                "password: put it in state.password"
            ),
        ),
        ("sqlite:///state.db", "expected an absolute file path after sqlite:///"),
        ("sqlite://", "expected an absolute file path"),
        (
            "postgresql://u@db",
            "got 'postgresql://u@db'; expected: Value error, expected the database name",
        ),
        ("not a url", "expected a database URL such as sqlite:////var/lib/pelangi/state.db"),
    ],
)
def test_bad_urls_are_explained_without_their_passwords(url: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse(f"state:\n  url: {url!r}\n", CollectorSettings)
    assert expected in str(caught.value)
    assert "s3cret" not in str(caught.value)
