"""The agent's sequence number: one counter over all its devices, increasing across restarts.

The collector uses ``seq`` to spot gaps and replays, so a restarted agent must never
reuse a number. Writing the counter to disk for every reading would cost an fsync per
tap; instead the agent *reserves* a block: it stores a high-water mark ``BLOCK`` above
the next number before handing numbers out, and on start continues from the stored mark.
A crash skips at most the unused rest of a block, which is harmless: numbers must
increase, not be dense.

The mark is replaced atomically (temporary file, fsync, rename, fsync of the directory),
so a power cut leaves either the old mark or the new one, never a torn file.

A mark that cannot be saved (disk full, read-only folder) never stops the agent, not even
at start (a gateway with a full disk must not restart in a loop): numbering goes on in
memory, from the microsecond clock if the stored mark could not be advanced at start, so
numbers still increase across such restarts; saving is retried with every number.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Final

from edge_agent.errors import AgentError
from edge_agent.statefile import replace_atomically, time_floor
from pelangi.throttle import ThrottledLog

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
            AgentError: the directory cannot be created, or the file cannot be read or holds
                something other than a number. A file that cannot be *written* is logged
                and numbering starts from :func:`edge_agent.statefile.time_floor`.
        """
        if block < 1:
            msg = f"block must be at least 1, got {block}"
            raise ValueError(msg)
        self.path = state_dir / FILE_NAME
        self._block = block
        self._lock = threading.Lock()
        self._trouble = ThrottledLog(log, burst=1, interval_s=300.0)
        try:
            state_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _cannot("create the state directory", state_dir, exc) from None
        self._next = self._load()
        self._mark = self._next  # nothing reserved yet: the first call to next() stores a mark
        try:
            self._reserve()  # now, so trouble is logged at start
        except AgentError as exc:
            # The stored mark may be handed out again by the next start if it cannot be
            # advanced either: the clock is above every number used so far.
            self._next = self._mark = max(self._next, time_floor())
            self._complain(exc)

    def next(self) -> int:
        """Return the next number (thread-safe; never raises once constructed).

        If the next block cannot be reserved (disk full, directory gone), numbering goes
        on in memory from :func:`edge_agent.statefile.time_floor` (so no number repeats
        after a restart) and an error is logged. Reserving is retried with every number.
        """
        with self._lock:
            if self._next >= self._mark:
                try:
                    self._reserve()
                except AgentError as exc:
                    # Numbers above the stored mark might be handed out again after a
                    # restart (from that mark), and a late receipt for the old reading
                    # would then confirm the new one: continue from the clock instead,
                    # above anything a later start can reach from the stored mark.
                    self._next = max(self._next, time_floor())
                    self._complain(exc)
                else:
                    self._trouble.reset()
            value = self._next
            self._next += 1
            return value

    def _complain(self, exc: AgentError) -> None:
        self._trouble.log(
            logging.ERROR,
            "%s; readings are still sent, numbered from the clock until it can be saved",
            exc,
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
        try:
            replace_atomically(self.path, f"{mark}\n")
        except OSError as exc:
            raise _cannot("write the sequence file", self.path, exc) from None
        self._mark = mark


def _cannot(what: str, path: Path, exc: OSError) -> AgentError:
    return AgentError(
        f"cannot {what} {path}: {exc.strerror or exc}; check that state_dir exists and "
        "that the agent's user may write to it"
    )
