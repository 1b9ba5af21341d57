"""What the ``alerts`` commands share: the alert store, and how tables write times and places.

Times are printed in WITA as ``2026-12-03 08:05`` (sortable, one column wide, easy to
``grep``); the header of each table says WITA. A store that cannot be opened (the database
down, a schema too new) is one line and exit 1, as for every other command
(:func:`collector.cli_common.failures_reported`); a bad configuration file exit 2.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from collector.alerts.notify.formats import WITA
from collector.alerts.store import AlertStore
from collector.attendance.cli.tables import EMPTY
from collector.cli_common import failures_reported
from collector.config import CollectorSettings
from collector.state import open_state
from pelangi.cli import load_or_exit

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from collector.alerts.model import AlertKey
    from collector.alerts.silences import Silence


def now() -> datetime:
    """The current instant (aware, UTC): what the store's times are compared with."""
    return datetime.now(UTC)


def local(moment: datetime | None) -> str:
    """``2026-12-03 08:05`` in WITA, ``-`` for None."""
    if moment is None:
        return EMPTY
    return f"{moment.astimezone(WITA):%Y-%m-%d %H:%M}"


def place(key: AlertKey) -> str:
    """``bukit-pelangi/gw-1/pintu-utama`` (the parts of the key that are set, rule aside)."""
    return "/".join(part for part in (key.site, key.gateway, key.device, key.item) if part)


def matchers(silence: Silence) -> str:
    """``rule=door_* site=bukit-pelangi``: what ``silence add --match`` was given."""
    return " ".join(f"{part}={glob}" for part, glob in silence.matchers.items())


@contextmanager
def opened_store(config: Path) -> Iterator[tuple[CollectorSettings, AlertStore]]:
    """The configuration and the alert store in its state database; closed after.

    Exits 2 on a bad configuration file, 1 (one line) when the database cannot be opened
    or a store request fails inside the block.
    """
    settings = load_or_exit(config, CollectorSettings)
    with failures_reported():
        database = open_state(settings.state)
    try:
        with failures_reported():
            yield settings, AlertStore(database)
    finally:
        database.close()


__all__ = ["local", "matchers", "now", "opened_store", "place"]
