"""``pelangi-collector state status|upgrade`` on a fresh, an up-to-date and a too-new database."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import text

from collector.cli_common import EXIT_FAILED
from collector.state import StateDatabase, migrate
from collector.state.cli import EXIT_UPGRADE_NEEDED
from sandbox.registry_cli import run, write_config

if TYPE_CHECKING:
    from collector.state import StateSettings


@pytest.fixture
def config(tmp_path: Path, state_settings: StateSettings) -> Path:
    return write_config(tmp_path, state_settings)


def revision_of(settings: StateSettings) -> str | None:
    with StateDatabase(settings) as database:
        return database.revision()


def test_status_then_upgrade_of_a_fresh_database(
    config: Path, state_settings: StateSettings
) -> None:
    head = migrate.head()
    url = state_settings.display_url

    fresh = run(config, "state", "status")
    assert fresh.exit_code == EXIT_UPGRADE_NEEDED, fresh.output
    assert fresh.stdout.splitlines() == [
        f"state database: {url}",
        "revision: none (empty database)",
        f"head: {head} (the newest this Pelangi knows)",
        "upgrade needed: yes (take a backup, then: pelangi-collector state upgrade)",
    ]
    if state_settings.is_sqlite:  # looking did not create the file
        assert not Path(state_settings.engine_url.database or "").exists()

    upgraded = run(config, "state", "upgrade")
    assert upgraded.exit_code == 0, upgraded.output
    assert upgraded.stdout == f"{url}: upgraded from empty to {head}\n"
    assert revision_of(state_settings) == head

    again = run(config, "state", "upgrade")
    assert again.exit_code == 0, again.output
    assert again.stdout == f"{url}: already at revision {head}; nothing to do\n"

    current = run(config, "state", "status")
    assert current.exit_code == 0, current.output
    assert current.stdout.splitlines()[1:] == [
        f"revision: {head}",
        f"head: {head} (the newest this Pelangi knows)",
        "upgrade needed: no",
    ]


@pytest.mark.parametrize("state_settings", ["postgresql"], indirect=True)  # SQLite: no password
def test_status_masks_the_password(config: Path, state_settings: StateSettings) -> None:
    assert state_settings.password is not None
    result = run(config, "state", "status")
    assert state_settings.password.get_secret_value() not in result.output
    assert result.stdout.splitlines()[0].startswith("state database: postgresql+psycopg://")
    assert ":***@" in result.stdout.splitlines()[0]


def test_a_schema_from_a_newer_pelangi_is_reported_never_upgraded(
    config: Path, state_settings: StateSettings, state_db: StateDatabase
) -> None:
    with state_db.write() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))

    status = run(config, "state", "status")
    assert status.exit_code == EXIT_FAILED
    assert status.stdout.splitlines()[1] == "revision: 9999"
    assert status.stdout.splitlines()[-1].startswith("upgrade needed: no, the schema is NEWER")

    upgrade = run(config, "state", "upgrade")
    assert upgrade.exit_code == EXIT_FAILED
    assert upgrade.stderr.startswith(
        f"pelangi-collector: state database {state_settings.display_url}: its schema is at "
        "revision '9999', which this Pelangi does not know"
    )
    assert len(upgrade.stderr.splitlines()) == 1
    assert revision_of(state_settings) == "9999"


def test_an_unreachable_database_is_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder" / "state.db"
    config = tmp_path / "collector.yaml"
    config.write_text(f"state: {{url: 'sqlite:///{missing}'}}\n", encoding="utf-8")
    for command in ("status", "upgrade"):
        result = run(config, "state", command)
        assert result.exit_code == EXIT_FAILED
        assert result.stderr.startswith(f"pelangi-collector: state database sqlite:///{missing}:")
        assert len(result.stderr.splitlines()) == 1
