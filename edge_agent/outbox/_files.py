"""The files around the outbox's database: its lock file, a damaged one moved aside, the boot id."""

from __future__ import annotations

import fcntl
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from edge_agent.outbox._errors import OutboxError, os_cause

BOOT_ID: Final = Path("/proc/sys/kernel/random/boot_id")
"""Linux names each boot with a random UUID: a monotonic clock is valid within one."""


def current_boot_id(source: Path = BOOT_ID) -> str:
    """The id of the current boot; a fresh random one if the kernel does not say.

    A random id makes readings stamped by another process look like another boot's: their
    monotonic clock is then not trusted (safe, if not always necessary).
    """
    try:
        boot_id = source.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        boot_id = ""
    return boot_id or f"unknown-{uuid.uuid4()}"


def lock_file(path: Path) -> int:
    """Hold a lock file so two agents never share one outbox (each would send it all).

    Returns the lock file's descriptor: closing it releases the lock.
    """
    lock_path = Path(f"{path}.lock")
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise OutboxError(
            path, f"cannot create the lock file {lock_path}: {os_cause(exc, lock_path)}"
        ) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise OutboxError(
            path,
            "another process is using this outbox (is a second agent running with the "
            "same state_dir?)",
        ) from None
    return fd


def quarantine_target(path: Path, wall_ns: int) -> Path:
    """A free name beside ``path`` for a damaged file: ``<name>.corrupt-<UTC time>``."""
    stamp = datetime.fromtimestamp(wall_ns / 1e9, UTC).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    suffix = 1
    while target.exists():
        suffix += 1
        target = path.with_name(f"{path.name}.corrupt-{stamp}-{suffix}")
    return target


def move_aside(path: Path, target: Path) -> None:
    """Move the database ``path`` and its WAL to ``target``; drop its shared memory file."""
    path.replace(target)
    wal = Path(f"{path}-wal")
    if wal.exists():
        wal.replace(Path(f"{target}-wal"))
    Path(f"{path}-shm").unlink(missing_ok=True)
