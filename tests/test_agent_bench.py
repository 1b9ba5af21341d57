"""The agent benchmark's measuring parts work (small sizes; ``make bench`` runs them fully)."""

from __future__ import annotations

import contextlib
import sqlite3
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


def test_replay_with_receipts_ends_when_every_reading_is_confirmed(tmp_path: Path) -> None:
    run = agent.run_replay(tmp_path, "1-hour-receipts", 60, taps=True, receipts=True)
    assert run.lost == []
    assert run.rate > 0
    assert run.latencies_ms
    assert _rows_left(tmp_path / "state-1-hour-receipts" / "outbox.db") == 0


def _rows_left(path: Path) -> int:
    """Readings still in the outbox file (every one confirmed: none)."""
    with contextlib.closing(sqlite3.connect(path)) as db:
        return int(db.execute("SELECT count(*) FROM reading").fetchone()[0])


def test_footprint_of_the_agent_at_pilot_load_is_measured(tmp_path: Path) -> None:
    footprint = agent.measure_footprint(tmp_path, window_s=3.0, switch_interval_s=10.0)
    assert footprint.lost == []
    assert footprint.rss_max > 10_000_000
    assert footprint.cpu_percent >= 0
