"""One round of ``take()``: which rows to read, and the batches planned from what was read.

Pure: :meth:`edge_agent.outbox.ledger.Ledger.start_take` snapshots the ledger into a
:class:`TakeRound`, the store reads the rows it names without holding its lock, and
:meth:`~edge_agent.outbox.ledger.Ledger.finish_take` hands the planned batches out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from edge_agent.outbox.policy import BatchPlan, plan_batches

if TYPE_CHECKING:
    from edge_agent.outbox.policy import Row, Slots
    from edge_agent.outbox.settings import OutboxSettings

NOTHING = BatchPlan(batches=(), cursor=None, complete=True)
"""The plan of a lane that was not read."""


@dataclass(frozen=True, slots=True)
class Scan:
    """Rows to read for a round: ``after < id < before`` (None: no bound), in id order."""

    after: int
    before: int | None
    limit: int


class TakeRound:
    """One call of ``take()``: which rows to read, and the batches planned from them.

    Made by :meth:`Ledger.start_take` from a snapshot of the ledger, so the rows can be
    read without holding the store's lock; :meth:`Ledger.finish_take` then hands the
    batches out. Ask :meth:`live_scan` first and :meth:`offer_live` what it found, then
    the same for the historical lane.
    """

    def __init__(  # noqa: PLR0913 - one snapshot of the ledger, named field by field
        self,
        *,
        now: float,
        limit: int,
        epoch: int,
        release_gen: int,
        boundary: int | None,
        allowance: int,
        free: Slots,
        cursors: tuple[int, int],
        in_use: frozenset[int],
        hold: frozenset[str],
        settings: OutboxSettings,
    ) -> None:
        """Snapshot the ledger for one round (see :meth:`Ledger.start_take`)."""
        self.now = now
        self.limit = limit
        self.epoch = epoch
        self.release_gen = release_gen
        self.boundary = boundary
        self.allowance = allowance
        self.free = free
        self.live_cursor, self.hist_cursor = cursors
        self._in_use = in_use
        self._hold = hold
        self._settings = settings
        self.live_rows: list[Row] = []
        self.live = NOTHING
        self.hist_rows: list[Row] = []
        self.hist = NOTHING

    def live_scan(self) -> Scan | None:
        """The live rows to read, or None when no row is live or no slot is free."""
        if self.boundary is None or self.free.live <= 0:
            return None
        return Scan(after=max(self.live_cursor, self.boundary - 1), before=None, limit=self.limit)

    def offer_live(self, rows: list[Row]) -> None:
        """The rows :meth:`live_scan` named."""
        self.live_rows = rows
        self.live = self._plan(rows, self.free.live)

    @property
    def hist_budget(self) -> int:
        """Historical batches this round may hand out (after the live ones)."""
        return min(self.free.historical, self.free.live - len(self.live.batches))

    @property
    def hist_wanted(self) -> int:
        """Historical rows this round would read if the pacer allowed."""
        return self.limit - len(self.live_rows)

    @property
    def hist_limit(self) -> int:
        """Historical rows this round reads: what is wanted, within the pacer's allowance."""
        return min(self.hist_wanted, self.allowance)

    def historical_scan(self) -> Scan | None:
        """The backlog rows to read, or None when the window or the pacer says wait."""
        if self.hist_budget <= 0 or self.hist_limit <= 0:
            return None
        return Scan(after=self.hist_cursor, before=self.boundary, limit=self.hist_limit)

    def offer_historical(self, rows: list[Row]) -> None:
        """The rows :meth:`historical_scan` named."""
        self.hist_rows = rows
        self.hist = self._plan(rows, self.hist_budget)

    def _plan(self, rows: list[Row], max_batches: int) -> BatchPlan:
        return plan_batches(
            rows,
            exclude=self._in_use,
            max_batches=max_batches,
            max_per_message=self._settings.max_per_message,
            max_message_bytes=self._settings.max_message_bytes,
            hold=self._hold,
        )
