"""Agent health figures come from the real OS."""

from __future__ import annotations

from typing import TYPE_CHECKING

from edge_agent.health import HealthSampler

if TYPE_CHECKING:
    from pathlib import Path


def test_health_sample_reads_real_figures(tmp_path: Path) -> None:
    sampler = HealthSampler(tmp_path)
    first = sampler.sample()
    assert first.cpu_percent is None
    assert first.rss_bytes is not None
    assert first.rss_bytes > 1_000_000
    assert first.disk_free_bytes is not None
    sum(range(200_000))  # some work, so the next sample has CPU time to show
    second = sampler.sample()
    assert second.cpu_percent is not None
    assert second.cpu_percent >= 0
    assert second.uptime_s >= first.uptime_s


def test_health_sample_of_missing_dir_is_none(tmp_path: Path) -> None:
    assert HealthSampler(tmp_path / "absent").sample().disk_free_bytes is None
