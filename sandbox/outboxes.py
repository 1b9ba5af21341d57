"""Outboxes for tests: a clock the test moves, and opening outboxes on it.

:class:`FakeClock` gives the outbox both its clocks (monotonic seconds for windows,
pacing and timeouts; wall-clock ns for ages); :class:`Outboxes` opens outboxes on it in
one folder and closes them all, checking that no outbox thread is left running.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Final

from edge_agent.outbox import Outbox, OutboxSettings

if TYPE_CHECKING:
    from pathlib import Path

BASE_NS: Final = 1_764_300_000_000_000_000
"""The wall clock (ns since the epoch) when a :class:`FakeClock` reads 0."""


class FakeClock:
    """Monotonic seconds and wall-clock ns, moved by the test (``clock.now += 60``)."""

    def __init__(self) -> None:
        """Start at 1,000 s."""
        self.now = 1_000.0

    def monotonic(self) -> float:
        """The monotonic clock, in seconds."""
        return self.now

    def wall_ns(self) -> int:
        """The wall clock, in ns since the epoch."""
        return BASE_NS + round(self.now * 1e9)


class Outboxes:
    """Opens outboxes in ``folder`` on ``clock``; :meth:`close_all` closes every one."""

    def __init__(self, folder: Path, clock: FakeClock) -> None:
        """Outboxes go to ``folder/outbox.db`` unless a path is given."""
        self.folder = folder
        self.clock = clock
        self._opened: list[Outbox] = []

    def __call__(
        self, path: Path | None = None, *, boot_id: str = "boot-a", **overrides: object
    ) -> Outbox:
        """Open an outbox with the test's settings (``overrides`` of the defaults below)."""
        # fsync per commit is the crash tests' job; the frozen clock would stall the pacer.
        config = {"sync": "normal", "replay_max_readings_per_s": None, **overrides}
        outbox = Outbox.open(
            path or self.folder / "outbox.db",
            OutboxSettings.model_validate(config),
            wall_ns=self.clock.wall_ns,
            monotonic=self.clock.monotonic,
            boot_id=boot_id,
        )
        self._opened.append(outbox)
        return outbox

    def close_all(self) -> None:
        """Close every outbox opened; fail if an outbox thread is left running."""
        for outbox in self._opened:
            outbox.close()
        leaked = [t.name for t in threading.enumerate() if t.name.startswith("outbox-")]
        if leaked:
            msg = f"outbox threads left running after close: {leaked}"
            raise AssertionError(msg)
