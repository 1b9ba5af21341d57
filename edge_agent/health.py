"""The agent's own health: CPU, memory, disk and uptime, read from the OS (Linux /proc).

Read with the standard library only: the gateway is small and every dependency is one
more thing to install over a weak link. CPU is the share of one core this process used
since the previous sample.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pathlib import Path


@dataclass(frozen=True, slots=True)
class HealthSample:
    """One sample of the agent's health."""

    cpu_percent: float | None
    """Share of one core used since the previous sample (None on the first)."""
    rss_bytes: int | None
    disk_free_bytes: int | None
    """Free space where the agent keeps its state (the outbox lives there)."""
    uptime_s: float


class HealthSampler:
    """Takes health samples; keeps the previous CPU reading to compute a rate."""

    def __init__(self, state_dir: Path) -> None:
        """Sample disk space on the file system holding ``state_dir``."""
        self._state_dir = state_dir
        self._started = time.monotonic()
        self._last: tuple[float, float] | None = None  # (monotonic, cpu seconds)

    def sample(self) -> HealthSample:
        """Read the current figures; never raises (a figure it cannot read is None)."""
        now = time.monotonic()
        times = os.times()
        cpu_seconds = times.user + times.system
        cpu_percent = None
        if self._last is not None and now > self._last[0]:
            cpu_percent = 100.0 * (cpu_seconds - self._last[1]) / (now - self._last[0])
        self._last = (now, cpu_seconds)
        return HealthSample(
            cpu_percent=cpu_percent,
            rss_bytes=_rss_bytes(),
            disk_free_bytes=_disk_free(self._state_dir),
            uptime_s=now - self._started,
        )


def _rss_bytes() -> int | None:
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:  # noqa: PTH123 - hot, tiny read
            resident_pages = int(statm.read().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return resident_pages * os.sysconf("SC_PAGE_SIZE")


def _disk_free(path: Path) -> int | None:
    try:
        return shutil.disk_usage(path).free
    except OSError:
        return None
