"""The batching policy: messages into batches, never splitting one. Pure, single-threaded.

:class:`Batcher` gathers the lines of received messages (:class:`Delivery`) into batches
of at most ``max_points`` lines (a message is never split across batches, so a stored
batch completes each of its messages: their tokens can be acked and their readings
confirmed) and says when the open batch is due (full, or its oldest line waited
``max_delay``). Time is passed in. :mod:`collector.writer_pool` runs it with threads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from collector.confirmations import Confirm

Token = int
"""What acknowledging one message takes; opaque here (the subscriber defines it)."""


@dataclass(frozen=True, slots=True)
class Delivery:
    """One message's share of the work."""

    lines: Sequence[str]
    """What to store: its readings, or the dead letters of what was refused."""
    token: Token | None = None
    """What acknowledging it takes (None: nothing, QoS 0)."""
    confirm: Confirm | None = None
    """What to confirm to its gateway once stored (None: nothing)."""


@dataclass(slots=True)
class Batch:
    """Lines to write together, and the tokens and confirmations of the messages they complete."""

    lines: list[str] = field(default_factory=list)
    tokens: list[Token] = field(default_factory=list)
    confirms: list[Confirm] = field(default_factory=list)
    messages: int = 0
    """Messages (with or without a token) whose lines are all in this batch."""
    since: float = 0.0
    """When its first line arrived (monotonic seconds)."""
    todo: list[list[str]] | None = None
    """Pieces still to write, the next last (None: not begun). A write that fails part
    way keeps the rest here, so a retry resumes instead of writing (and dead-lettering)
    again what is already done."""


class Batcher:
    """Gathers lines into batches (pure; see the module docstring)."""

    def __init__(self, max_points: int, max_delay_s: float) -> None:
        """Seal a batch at ``max_points`` lines or ``max_delay_s`` after its first line."""
        self.max_points = max_points
        self.max_delay_s = max_delay_s
        self._open = Batch()

    @property
    def open_points(self) -> int:
        """Lines in the open (not yet sealed) batch."""
        return len(self._open.lines)

    def add(self, delivery: Delivery, now: float) -> list[Batch]:
        """Add one message; return the batches this sealed (oldest first)."""
        lines = delivery.lines
        sealed: list[Batch] = []
        batch = self._open
        if batch.lines and len(batch.lines) + len(lines) > self.max_points:
            sealed.append(batch)
            batch = self._open = Batch()
        if not batch.lines and not batch.messages:
            batch.since = now
        batch.lines.extend(lines)
        batch.messages += 1
        if delivery.token is not None:
            batch.tokens.append(delivery.token)
        if delivery.confirm is not None:
            batch.confirms.append(delivery.confirm)
        if len(batch.lines) >= self.max_points:
            sealed.append(batch)
            self._open = Batch()
        return sealed

    def next_due(self) -> float | None:
        """When the open batch must be sealed (None while it is empty)."""
        if not self._open.messages:
            return None
        return self._open.since + self.max_delay_s

    def seal(self) -> Batch | None:
        """Seal and return the open batch whatever its age (None if empty)."""
        if not self._open.messages:
            return None
        batch, self._open = self._open, Batch()
        return batch


__all__ = ["Batch", "Batcher", "Delivery", "Token"]
