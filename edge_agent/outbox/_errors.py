"""The outbox's errors, and the words that name what went wrong on disk.

:class:`OutboxError` and :class:`UnsendableReadingError` are public (re-exported by
:mod:`edge_agent.outbox`);
:class:`DamagedError` never leaves the writer: it leads to quarantine.
"""

from __future__ import annotations

import errno
import shutil
from typing import TYPE_CHECKING

from edge_agent.errors import AgentError

if TYPE_CHECKING:
    import sqlite3
    from pathlib import Path


class OutboxError(AgentError):
    """The outbox cannot store (or open) readings.

    Attributes:
        path: the database file.
        cause: what went wrong, in words (e.g. "the disk is full (0 B free)").
    """

    def __init__(self, path: Path, cause: str) -> None:
        """Create the error for ``path``; the message reads ``outbox <path>: <cause>``."""
        self.path = path
        self.cause = cause
        super().__init__(f"outbox {path}: {cause}")


class UnsendableReadingError(AgentError):
    """A reading that could never be sent: empty, too large, a bad device id or ``ts``.

    Raised by :meth:`Outbox.append` before anything is stored; the message names the
    device and what is wrong. Storing it again cannot help, so it is counted and logged.
    """


class DamagedError(Exception):
    """The database file is damaged (internal: leads to quarantine, never escapes)."""


def is_damaged(exc: sqlite3.Error) -> bool:
    """Whether ``exc`` says the database file is damaged (not merely unwritable)."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    return name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB"))


def write_cause(exc: sqlite3.Error, folder: Path, *, opening: bool) -> str:
    """Why opening or writing the database in ``folder`` failed, in words."""
    name = sqlite_name(exc)
    verb = "cannot open" if opening else "cannot write"
    free = free_space(folder)
    if name == "SQLITE_FULL":
        return f"{verb}: the disk is full ({free} free)"
    if name.startswith("SQLITE_IOERR"):
        return f"{verb}: disk I/O error ({name}); is the disk full ({free} free) or failing?"
    if name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN", "SQLITE_PERM", "SQLITE_AUTH")):
        return (
            f"{verb}: the file or its folder is read-only or not writable by the agent "
            f"({exc}; {name})"
        )
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")):
        return f"{verb}: the database is locked by another process ({name})"
    return f"{verb}: {exc} ({name})"


def sqlite_name(exc: sqlite3.Error) -> str:
    """SQLite's name for the error (e.g. ``SQLITE_FULL``), else the exception's type."""
    return getattr(exc, "sqlite_errorname", "") or type(exc).__name__


def os_cause(exc: OSError, path: Path) -> str:
    """What an OS error near ``path`` means for the outbox, in words."""
    text = exc.strerror or str(exc)
    if exc.errno in {errno.ENOSPC, errno.EDQUOT}:
        return f"{text} (the disk is full: {free_space(path)} free)"
    if exc.errno in {errno.EACCES, errno.EPERM, errno.EROFS}:
        return f"{text} (the agent's user may not write there)"
    if exc.errno in {errno.ENOTDIR, errno.EEXIST}:
        return f"{text} (a file stands where a folder is expected)"
    return text


def free_space(path: Path) -> str:
    """Free space on the disk holding ``path`` (or its nearest existing parent)."""
    for candidate in (path, *path.parents):
        try:
            return human_bytes(shutil.disk_usage(candidate).free)
        except OSError:
            continue
    return "unknown"


def human_bytes(n: float) -> str:
    """``n`` bytes in decimal units, e.g. ``12 MB``."""
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000:
            return f"{n:.0f} {unit}"
        n /= 1000
    return f"{n:.0f} TB"
