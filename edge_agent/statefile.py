"""Small state files the agent keeps in ``state_dir``, replaced atomically.

A power cut must leave either the old content or the new one, never a torn file: the new
content goes to a temporary file, which is synced, renamed over the old one, and the
folder is synced so the rename itself survives.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path


def replace_atomically(path: Path, text: str, mode: int | None = None) -> None:
    """Make ``text`` the content of ``path`` (ASCII); raises :class:`OSError` on failure.

    ``mode``: the file's permission bits (default: as the umask leaves them).
    """
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", encoding="ascii") as out:
        if mode is not None:  # before the content: never readable more widely than asked
            os.fchmod(out.fileno(), mode)
        out.write(text)
        out.flush()
        os.fsync(out.fileno())
    tmp.replace(path)
    fsync_dir(path.parent)


def fsync_dir(directory: Path) -> None:
    """Make a rename in ``directory`` durable (the rename itself lives in the directory)."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def time_floor() -> int:
    """A counter value above any count this agent can have reached: microseconds since 1970.

    Used when a stored counter cannot be read or saved: a counter that advances by one per
    reading (or per connection) stays far below the microsecond clock, so numbering from
    here still increases across restarts (as long as the clock is not set back).
    """
    return time.time_ns() // 1000
