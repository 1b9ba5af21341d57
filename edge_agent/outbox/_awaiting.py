"""Batches the broker accepted that wait for a collector's receipt: their deadlines.

Pure (``now`` is passed in): part of :class:`~edge_agent.outbox.ledger.Ledger`. A batch
published at ``since`` is given the confirm timeout current then; when that passes
without a receipt it is *overdue* and goes out again, and the timeout grows
(:class:`~edge_agent.outbox.policy.ConfirmTimer`); a receipt resets it.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from edge_agent.outbox.policy import ConfirmTimer

if TYPE_CHECKING:
    from collections.abc import Iterator

STALE_FACTOR: Final = 4
"""The deadline heap is rebuilt once it holds this many times more entries than waits."""


@dataclass(frozen=True, slots=True)
class Wait:
    """A published batch waiting for its receipt."""

    since: float
    timeout_s: float

    @property
    def deadline(self) -> float:
        """When it goes back to waiting if no receipt came."""
        return self.since + self.timeout_s


class Awaiting:
    """Which batches await a receipt, since when, and until when (see the module)."""

    def __init__(self, timeout_s: float, max_timeout_s: float) -> None:
        """Nothing awaits; the timeout starts at ``timeout_s``."""
        self.timer = ConfirmTimer(timeout_s, max_timeout_s)
        self._waits: dict[int, Wait] = {}
        self._deadlines: list[tuple[float, int]] = []  # heap; stale entries are skipped

    def __len__(self) -> int:
        """How many batches await a receipt."""
        return len(self._waits)

    def __contains__(self, batch_id: object) -> bool:
        """Whether the batch awaits a receipt."""
        return batch_id in self._waits

    def __iter__(self) -> Iterator[int]:
        """The ids of the batches awaiting a receipt."""
        return iter(self._waits)

    def add(self, batch_id: int, now: float) -> None:
        """The batch was published at ``now``: it has the current timeout to be confirmed."""
        wait = Wait(since=now, timeout_s=self.timer.current_s)
        self._waits[batch_id] = wait
        heapq.heappush(self._deadlines, (wait.deadline, batch_id))
        if len(self._deadlines) > STALE_FACTOR * len(self._waits) + 64:
            self._deadlines = [(w.deadline, i) for i, w in self._waits.items()]
            heapq.heapify(self._deadlines)

    def remove(self, batch_id: int) -> bool:
        """The batch is answered or given up; whether it was awaiting a receipt."""
        return self._waits.pop(batch_id, None) is not None

    def overdue(self, now: float) -> list[int]:
        """Remove and return the batches whose deadline has come; the timeout grows."""
        due = []
        while self._deadlines and self._deadlines[0][0] <= now:
            deadline, batch_id = heapq.heappop(self._deadlines)
            wait = self._waits.get(batch_id)
            if wait is None or wait.deadline != deadline:
                continue  # answered meanwhile
            del self._waits[batch_id]
            self.timer.timed_out(wait.timeout_s)
            due.append(batch_id)
        return due

    def next_deadline(self) -> float | None:
        """The earliest deadline (perhaps of a batch answered since: waking early is fine)."""
        return self._deadlines[0][0] if self._deadlines else None

    def oldest_wait_s(self, now: float) -> float | None:
        """How long the batch waiting longest has waited at ``now`` (None: none waits)."""
        return max((now - w.since for w in self._waits.values()), default=None)

    def clear(self) -> None:
        """Forget every batch (the file was replaced); the timeout stays."""
        self._waits.clear()
        self._deadlines.clear()
