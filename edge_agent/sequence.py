"""The agent's sequence number: one counter over all its devices, increasing across restarts.

The collector uses ``seq`` to spot gaps and replays, so a restarted agent must never
reuse a number. Writing the counter to disk for every reading would cost an fsync per
tap; instead the agent *reserves* a block: it stores a high-water mark ``BLOCK`` above
the next number before handing numbers out, and on start continues from the stored mark.
A crash skips at most the unused rest of a block, which is harmless: numbers must
increase, not be dense.

The mark is replaced atomically (temporary file, fsync, rename, fsync of the directory),
so a power cut leaves either the old mark or the new one, never a torn file.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import TYPE_CHECKING, Final

from edge_agent.errors import AgentError
from pelangi.throttle import LogThrottle

if TYPE_CHECKING:
    from pathlib import Path

log = logging.getLogger(__name__)

BLOCK: Final = 1000
FILE_NAME: Final = "sequence"


class SequenceCounter:
    """Hands out increasing sequence numbers, persisted in ``state_dir`` by block."""

    def __init__(self, state_dir: Path, block: int = BLOCK) -> None:
        """Load the stored mark from ``state_dir`` (created if missing) and reserve a block.

        Raises:
            AgentError: the directory or the file cannot be read or written, or the file
                holds something other than a number.
        """
        if block < 1:
            msg = f"block must be at least 1, got {block}"
            raise ValueError(msg)
        self.path = state_dir / FILE_NAME
        self._block = block
        self._lock = threading.Lock()
        self._trouble = LogThrottle(burst=1, interval_s=300.0)
        try:
            state_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _cannot("create the state directory", state_dir, exc) from None
        self._next = self._load()
        self._mark = self._next  # nothing reserved yet: the first call to next() stores a mark
        self._reserve()  # now, so an unwritable directory stops the agent at start

    def next(self) -> int:
        """Return the next number (thread-safe; never raises once constructed).

        If the next block cannot be reserved (disk full, directory gone), numbering goes
        on in memory and an error is logged: a reading with a number that may repeat
        after a restart beats a lost card tap. Reserving is retried with every number.
        """
        with self._lock:
            if self._next >= self._mark:
                try:
                    self._reserve()
                except AgentError as exc:
                    self._complain(exc)
                else:
                    self._trouble.reset()
            value = self._next
            self._next += 1
            return value

    def _complain(self, exc: AgentError) -> None:
        now = time.monotonic()
        if self._trouble.allow(now):
            log.error(
                "%s; readings are still sent, but their sequence numbers may repeat "
                "after a restart",
                exc,
            )
        missed = self._trouble.due(now).total()
        if missed:
            log.error(
                "still cannot save the sequence number in %s (%d more readings numbered "
                "in memory only)",
                self.path,
                missed,
            )

    def _load(self) -> int:
        try:
            text = self.path.read_text(encoding="ascii")
        except FileNotFoundError:
            return 0
        except (OSError, UnicodeDecodeError) as exc:
            raise AgentError(f"cannot read the sequence file {self.path}: {exc}") from None
        try:
            value = int(text.strip())
        except ValueError:
            value = -1
        if value < 0:
            raise AgentError(
                f"the sequence file {self.path} is damaged: expected a whole number, got "
                f"{text[:40]!r}; move it aside and write a number larger than the last "
                "'seq' the collector stored"
            )
        return value

    def _reserve(self) -> None:
        mark = self._next + self._block
        tmp = self.path.with_name(f".{FILE_NAME}.tmp")
        try:
            with tmp.open("w", encoding="ascii") as out:
                out.write(f"{mark}\n")
                out.flush()
                os.fsync(out.fileno())
            tmp.replace(self.path)
            _fsync_dir(self.path.parent)
        except OSError as exc:
            raise _cannot("write the sequence file", self.path, exc) from None
        self._mark = mark


def _cannot(what: str, path: Path, exc: OSError) -> AgentError:
    return AgentError(
        f"cannot {what} {path}: {exc.strerror or exc}; check that state_dir exists and "
        "that the agent's user may write to it"
    )


def _fsync_dir(directory: Path) -> None:
    """Make a rename in ``directory`` durable (the rename itself lives in the directory)."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
