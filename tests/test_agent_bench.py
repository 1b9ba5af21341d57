"""The agent benchmark's measuring parts work (small sizes; ``make bench`` runs them fully)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from sandbox.bench import agent

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.servers


def test_replay_through_the_broker_is_measured_with_live_taps(tmp_path: Path) -> None:
    run = agent.run_replay(tmp_path, "1-hour", 60, taps=True)
    assert run.lost == []
    assert run.backlog > 6000  # an hour of the pilot's readings
    assert run.rate > 0
    assert run.latencies_ms  # taps were acknowledged during the replay
    assert all(latency > 0 for latency in run.latencies_ms)


def test_footprint_of_the_agent_at_pilot_load_is_measured(tmp_path: Path) -> None:
    footprint = agent.measure_footprint(tmp_path, window_s=3.0, switch_interval_s=10.0)
    assert footprint.lost == []
    assert footprint.rss_max > 10_000_000
    assert footprint.cpu_percent >= 0
