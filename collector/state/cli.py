"""``pelangi-collector state upgrade|status``: the state database's schema.

``status`` says where the database stands and changes nothing (an SQLite file that does
not exist yet is reported as empty, not created by looking); ``upgrade`` brings the
schema to this program's newest revision (what the collector does at start-up when
``state.upgrade_on_start`` is on), says from which revision to which, and does nothing
when the schema is already there.

Exit statuses: 0 up to date (``status``) or done (``upgrade``); :data:`EXIT_UPGRADE_NEEDED`
(``status``) an upgrade is needed; 1 the database cannot be used (unreachable, read-only,
a schema from a newer Pelangi); 2 the configuration file is not valid.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Final

import typer

from collector.cli_common import DEFAULT_CONFIG, EXIT_FAILED, ConfigOption, failures_reported
from collector.config import CollectorSettings
from collector.state import migrate
from collector.state.database import StateDatabase, open_state
from pelangi.cli import load_or_exit

if TYPE_CHECKING:
    from collector.state.settings import StateSettings

EXIT_UPGRADE_NEEDED: Final = 3
"""``state status``: the schema is older than this program's (as systemctl's "not running")."""

state = typer.Typer(help="The state database (registry, attendance, alerts).", no_args_is_help=True)


@state.command()
def status(config: ConfigOption = DEFAULT_CONFIG) -> None:
    """Show the state database (password masked), its schema revision and whether to upgrade.

    Example: pelangi-collector state status -c /etc/pelangi/collector.yaml
    """
    settings = load_or_exit(config, CollectorSettings).state
    with failures_reported():
        revision = revision_of(settings)
    newest = migrate.head()
    typer.echo(f"state database: {settings.display_url}")
    typer.echo(f"revision: {revision or 'none (empty database)'}")
    typer.echo(f"head: {newest} (the newest this Pelangi knows)")
    if revision == newest:
        typer.echo("upgrade needed: no")
        return
    if revision is not None and not migrate.known(revision):
        typer.echo(
            "upgrade needed: no, the schema is NEWER than this Pelangi's: a newer Pelangi "
            "upgraded it; run that one (this one refuses to write it)"
        )
        raise typer.Exit(EXIT_FAILED)
    typer.echo("upgrade needed: yes (take a backup, then: pelangi-collector state upgrade)")
    raise typer.Exit(EXIT_UPGRADE_NEEDED)


@state.command()
def upgrade(config: ConfigOption = DEFAULT_CONFIG) -> None:
    """Bring the schema up to this Pelangi's newest revision (nothing to do when it is).

    Take a backup first (README, "State database"). Safe to run again.

    Example: pelangi-collector state upgrade -c /etc/pelangi/collector.yaml
    """
    settings = load_or_exit(config, CollectorSettings).state
    with failures_reported():
        before = revision_of(settings)
        # open_state refuses a newer schema and proves the database writable afterwards.
        with open_state(settings, upgrade=True) as database:
            after = database.revision()
    if before == after:
        typer.echo(f"{settings.display_url}: already at revision {after}; nothing to do")
    else:
        typer.echo(f"{settings.display_url}: upgraded from {before or 'empty'} to {after}")


def revision_of(settings: StateSettings) -> str | None:
    """The database's revision, without creating an SQLite file that is not there."""
    path = settings.engine_url.database
    # A missing folder is left to the connection, which explains what to create.
    if settings.is_sqlite and path and not Path(path).exists() and Path(path).parent.is_dir():
        return None
    with StateDatabase(settings) as database:
        return database.revision()
