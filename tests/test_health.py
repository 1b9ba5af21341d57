"""Agent health figures come from the real OS."""

from __future__ import annotations

import os
import resource
import time
from typing import TYPE_CHECKING

from edge_agent.health import HealthSampler

if TYPE_CHECKING:
    from pathlib import Path

BURN_S = 0.3


def _thread_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_THREAD)
    return usage.ru_utime + usage.ru_stime


def _burn(cpu_s: float, *, timeout: float) -> float:
    """Compute until this thread has used ``cpu_s`` of CPU; return how much it used."""
    start, deadline = _thread_cpu_s(), time.monotonic() + timeout
    while (used := _thread_cpu_s() - start) < cpu_s:
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {used:.2f} s of CPU in {timeout} s, expected {cpu_s} s")
        sum(range(20_000))
    return used


def test_health_sample_reads_real_figures(tmp_path: Path) -> None:
    sampler = HealthSampler(tmp_path)
    outer_start = time.monotonic()
    first = sampler.sample()
    assert first.cpu_percent is None
    assert first.rss_bytes is not None
    assert first.rss_bytes > 1_000_000
    assert first.disk_free_bytes is not None
    # Burn CPU on this thread until the kernel has charged it BURN_S: the process used at
    # least that much between the two samples, whatever else the machine was doing.
    burned = _burn(BURN_S, timeout=30)
    second = sampler.sample()
    outer_s = time.monotonic() - outer_start
    assert second.cpu_percent is not None
    # os.times() counts in clock ticks: allow two ticks of rounding either way.
    tick_s = 2 / os.sysconf("SC_CLK_TCK")
    at_least = 100 * (burned - tick_s) / outer_s
    cores = len(os.sched_getaffinity(0))
    at_most = 100 * cores * (1 + tick_s / BURN_S)
    assert at_least <= second.cpu_percent <= at_most, (
        f"expected {at_least:.0f}-{at_most:.0f} % after burning {burned:.2f} s of CPU "
        f"in {outer_s:.2f} s on {cores} cores, got {second.cpu_percent:.1f} %"
    )
    assert second.uptime_s > first.uptime_s


def test_health_sample_of_missing_dir_is_none(tmp_path: Path) -> None:
    assert HealthSampler(tmp_path / "absent").sample().disk_free_bytes is None
