"""What one run measured, and how a run waits for its consumer to finish."""

from __future__ import annotations

import gc
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from collections.abc import Callable

STALL_TIMEOUT_S: Final = 60.0
"""A run that makes no progress for this long has failed."""


@dataclass
class Run:
    """The figures of one consumer draining one backlog."""

    label: str
    messages: int | None
    readings: int
    elapsed_s: float | None = None
    stored: int | None = None
    """Points InfluxDB holds afterwards (None: this run stores nothing)."""
    received: int | None = None
    """Messages received (count-only subscriber)."""
    rss_peak_bytes: int | None = None
    cpu_s: float | None = None
    startup_s: float | None = None
    error: str | None = None
    available: bool = True
    samples: tuple[float, ...] = ()
    """Seconds of every repeat, when the run was repeated (``elapsed_s`` is the best)."""

    @property
    def msgs_per_s(self) -> float | None:
        """Messages per second (None if not measured or no messages)."""
        if self.messages is None or not self.elapsed_s:
            return None
        return self.messages / self.elapsed_s

    @property
    def readings_per_s(self) -> float | None:
        """Readings (points) per second."""
        if not self.elapsed_s:
            return None
        return self.readings / self.elapsed_s

    @property
    def lost(self) -> int | None:
        """Readings (or messages, for the count-only run) missing; None if not measured."""
        if not self.available:
            return None
        if self.stored is not None:
            return max(0, self.readings - self.stored)
        if self.received is not None and self.messages is not None:
            return max(0, self.messages - self.received)
        return None

    def failure(self) -> str | None:
        """Why this run counts as lost data or a crash, or None."""
        if not self.available:
            return None
        if self.error is not None:
            return f"{self.label}: {self.error}"
        if self.lost:
            return f"{self.label}: lost {self.lost:,} of {self.readings:,}"
        if self.lost is None:
            return f"{self.label}: completion was not verified"
        return None


@dataclass
class Shape:
    """All runs of one message shape, (a) or (b)."""

    key: str
    messages: int
    readings_per_message: int
    runs: dict[str, Run] = field(default_factory=dict)
    schema_note: str | None = None

    @property
    def readings(self) -> int:
        """Readings in the backlog."""
        return self.messages * self.readings_per_message


def quiet_heap() -> None:
    """Keep this process's own objects (backlog, lines) out of the GC's scans during a run.

    The in-process consumers share the interpreter with the benchmark; without this,
    collections that walk the benchmark's heap would be charged to them.
    """
    gc.collect()
    gc.freeze()


def wait_progress(progress: Callable[[], int], target: int, what: str, interval: float) -> None:
    """Wait until ``progress()`` reaches ``target``; fail if it stalls for STALL_TIMEOUT_S.

    Raises:
        TimeoutError: no progress for STALL_TIMEOUT_S; the message says how far it got.
    """
    last = progress()
    last_change = time.monotonic()
    while last < target:
        time.sleep(interval)
        now = progress()
        if now != last:
            last, last_change = now, time.monotonic()
        elif time.monotonic() - last_change > STALL_TIMEOUT_S:
            raise TimeoutError(f"{what}: stuck at {last:,} of {target:,} for {STALL_TIMEOUT_S:g} s")
