"""The dashboards benchmark at a tiny size, so its code cannot rot (no speed asserted)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from sandbox.bench import __main__ as bench_main
from sandbox.bench import dashboards
from sandbox.bench.report import format_result

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.servers

TINY = dashboards.Office(
    switches=1,
    ports=2,
    doors=2,
    employees=20,
    gateways=1,
    raw_days=2,
    rollup_days=3,
    attendance_days=3,
)


def test_dashboards_benchmark_runs_every_query_and_names_the_slowest(tmp_path: Path) -> None:
    assert bench_main.BENCHMARKS[dashboards.NAME] is dashboards.run
    result = dashboards.run(tmp_path / "work", office=TINY)
    assert result.ok
    assert result.parameters["queries"] > 0
    rows_check = result.checks[1]
    assert rows_check.passed, result.notes
    assert "slowest" in result.checks[0].measured
    assert result.checks[0].passed is None  # not judged below pilot size
    assert "SCALED DOWN" in result.notes[0]
    assert "Slowest" in format_result(result)
