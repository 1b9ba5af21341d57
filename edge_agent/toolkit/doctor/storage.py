"""The agent's storage checks: the outbox folder (writable, free space) and its backlog."""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import time
from typing import TYPE_CHECKING, Final

from edge_agent.outbox._sqlite import oldest_ts
from pelangi.doctor import Check, Finding, failed, passed, warned

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from edge_agent.config import AgentSettings

LOW_SPACE_BYTES: Final = 100_000_000
"""Below this much free space the outbox can hold only a short outage's readings."""
OLD_BACKLOG_S: Final = 3600.0
"""A reading waiting longer than this means readings are not leaving: something is wrong."""
FOLDER: Final = "outbox folder"


def folder_usable(
    outbox: Path, user: str, access: Callable[[str, int], bool] = os.access
) -> Finding:
    """Whether the outbox's folder (or the nearest existing parent) is writable, and free space.

    ``access`` is a seam for tests that run as root (root may write anywhere).
    """
    folder = outbox.parent
    existing = next(p for p in (folder, *folder.parents) if p.exists())
    if not access(str(existing), os.W_OK | os.X_OK):
        return failed(
            f"{existing} is not writable by this user ({user})",
            f"give the service user the folder: sudo chown -R {user} {folder} (or set "
            "state_dir / outbox.path to a folder it owns)",
        )
    free = shutil.disk_usage(existing).free
    where = f"{folder}" + ("" if existing == folder else f" (to be created in {existing})")
    if free < LOW_SPACE_BYTES:
        return warned(
            f"{where} is writable but only {free / 1e6:.0f} MB are free",
            "free disk space (old logs: sudo journalctl --vacuum-size=50M) or move the "
            "outbox to a bigger disk: readings are dropped oldest first when it is full",
        )
    return passed(f"{where} is writable, {free / 1e9:.1f} GB free")


def backlog(outbox: Path, now_ns: int) -> Finding:
    """How many readings wait in the outbox and how old the oldest is (read only)."""
    if not outbox.exists():
        return passed(f"no outbox yet at {outbox} (the agent has not stored anything)")
    try:
        # mode=ro: doctor must never create, upgrade or lock the agent's file.
        with contextlib.closing(
            sqlite3.connect(f"file:{outbox}?mode=ro", uri=True, timeout=5)
        ) as db:
            (count,) = db.execute("SELECT COUNT(*) FROM reading").fetchone()
            oldest = oldest_ts(db)
    except sqlite3.Error as exc:
        return failed(
            f"cannot read the outbox {outbox}: {exc}",
            "check the file's owner and permissions; if it is damaged the agent moves it "
            "aside by itself on its next start",
        )
    if oldest is None:
        return passed("the outbox is empty: every reading has left")
    age_s = max(0, now_ns - oldest) / 1e9
    found = f"{count} reading(s) waiting, the oldest from {age_s / 60:.0f} min ago"
    if age_s > OLD_BACKLOG_S:
        return warned(
            found,
            "readings are not leaving: see the broker and collector checks; they leave by "
            "themselves once a collector confirms them",
        )
    return passed(found)


def storage_checks(settings: AgentSettings, user: str) -> list[Check]:
    """The outbox folder, then its backlog."""
    path = settings.outbox_path
    return [
        Check(FOLDER, lambda: folder_usable(path, user), 5.0),
        Check("outbox backlog", lambda: backlog(path, time.time_ns()), 10.0),
    ]
