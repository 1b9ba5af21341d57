"""The benchmarks at a tiny size, so their code cannot rot: they complete, lose nothing, report.

No speed is asserted: targets live in ``make bench``, not in timed tests.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import replace
from typing import TYPE_CHECKING

import pytest

from sandbox.bench import __main__ as bench_main
from sandbox.bench import alerts, attendance, collector, snmp
from sandbox.bench.alerts.alarms import Alarm, match
from sandbox.bench.alerts.mail import Mail
from sandbox.bench.machine import Machine, describe_machine
from sandbox.bench.report import (
    BenchResult,
    Check,
    Table,
    format_result,
    format_table,
    write_results,
)

if TYPE_CHECKING:
    from pathlib import Path

MACHINE = Machine(
    hostname="test",
    nproc=2,
    cpu_model="test cpu",
    memory_gib=1.0,
    python="CPython 3.11",
    platform="Linux",
    versions={"mosquitto": "mosquitto version 2.0.11"},
    commit="0123456789abcdef0123456789abcdef01234567",
    clean=True,
)
DIRTY = replace(MACHINE, clean=False, changes=(" M edge_agent/snmp/rates.py", "?? notes.txt"))


def _assert_reported(result: BenchResult, tmp_path: Path) -> None:
    assert result.ok, result.lost
    text = format_result(result)
    for table in result.tables:
        assert table.title in text
    json_path, md_path = write_results(result, MACHINE, tmp_path / "results")
    document = json.loads(json_path.read_text(encoding="utf-8"))
    assert document["benchmark"] == result.name
    assert document["machine"]["nproc"] == 2
    assert document["lost"] == []
    assert result.title in md_path.read_text(encoding="utf-8")


def test_format_table_aligns_numbers_right_and_text_left() -> None:
    table = Table("T", ("run", "msgs/s"), (("a", "1,000"), ("longer", "25")))
    assert format_table(table).splitlines() == [
        "T",
        "run     msgs/s",
        "------  ------",
        "a        1,000",
        "longer      25",
    ]


def test_check_verdicts() -> None:
    assert Check("t", ">= 1", "2", passed=True).verdict == "pass"
    assert Check("t", ">= 1", "0", passed=False).verdict == "FAIL"
    assert Check("t", ">= 1", "—", passed=None).verdict == "not measured"


def test_make_envelope_numbers_readings_across_the_backlog() -> None:
    first, second = collector.make_envelope(0, 48), collector.make_envelope(1, 48)
    assert len(first.readings) == 48
    assert second.readings[0].seq == first.readings[-1].seq + 1
    assert second.readings[0].ts > first.readings[-1].ts
    assert first.device != second.device


def _fake_result(*, lost: tuple[str, ...] = (), passed: bool = True) -> BenchResult:
    return BenchResult(
        name="fake",
        title="a fake benchmark",
        parameters={"n": 1},
        tables=(Table("t", ("run", "msgs/s"), (("x", "1"),)),),
        checks=(Check("speed", ">= 2", "1", passed=passed),),
        figures={"x": 1},
        lost=lost,
    )


@pytest.mark.parametrize(
    ("outcome", "status"),
    [("missed target", 0), ("lost data", 1), ("crashed", 1)],
)
def test_main_exits_non_zero_only_for_lost_data_or_a_crash(
    outcome: str, status: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fake(workdir: Path, *, quick: bool = False) -> BenchResult:
        del workdir, quick
        if outcome == "crashed":
            raise RuntimeError("boom")
        return _fake_result(lost=("run x: lost 3 of 10",) if outcome == "lost data" else ())

    monkeypatch.setattr(bench_main, "BENCHMARKS", {"fake": fake})
    assert bench_main.main(["--results", str(tmp_path)]) == status
    written = sorted(path.name for path in tmp_path.iterdir())
    assert written == ([] if outcome == "crashed" else ["fake.json", "fake.md"])


def test_results_name_the_full_commit_and_a_clean_tree(tmp_path: Path) -> None:
    json_path, md_path = write_results(_fake_result(), MACHINE, tmp_path)
    document = json.loads(json_path.read_text(encoding="utf-8"))
    assert (document["commit"], document["clean"]) == (MACHINE.commit, True)
    markdown = md_path.read_text(encoding="utf-8")
    assert markdown.startswith("# Benchmark `fake`")
    assert f"- commit: {MACHINE.commit} (clean tree)" in markdown


def test_results_of_a_dirty_tree_say_so_loudly(tmp_path: Path) -> None:
    json_path, md_path = write_results(_fake_result(), DIRTY, tmp_path)
    document = json.loads(json_path.read_text(encoding="utf-8"))
    assert (document["commit"], document["clean"]) == (MACHINE.commit, False)
    assert document["machine"]["changes"] == list(DIRTY.changes)
    first_line = md_path.read_text(encoding="utf-8").splitlines()[0]
    assert first_line.startswith("> **DIRTY TREE: measured on 0123456789abcdef")
    assert "edge_agent/snmp/rates.py, notes.txt" in first_line


def test_a_dirty_run_warns_on_stderr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def fake(workdir: Path, *, quick: bool = False) -> BenchResult:
        del workdir, quick
        return _fake_result()

    monkeypatch.setattr(bench_main, "BENCHMARKS", {"fake": fake})
    monkeypatch.setattr(bench_main, "describe_machine", lambda *_args: DIRTY)
    assert bench_main.main(["--results", str(tmp_path)]) == 0
    assert "WARNING: DIRTY TREE" in capsys.readouterr().err


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def test_describe_machine_reads_the_commit_and_the_tree_state(tmp_path: Path) -> None:
    repo = tmp_path / "checkout"
    (repo / "bench" / "results").mkdir(parents=True)
    (repo / "code.py").write_text("x = 1\n", encoding="utf-8")
    (repo / "bench" / "results" / "snmp.md").write_text("old\n", encoding="utf-8")
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-qm", "c")
    head = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "HEAD"], check=True, capture_output=True, text=True
    ).stdout.strip()
    clean = describe_machine(repo)
    assert (clean.commit, clean.clean, clean.changes) == (head, True, ())
    # New results are the benchmark's output: the tree still counts as clean.
    (repo / "bench" / "results" / "snmp.md").write_text("new\n", encoding="utf-8")
    assert describe_machine(repo).clean is True
    (repo / "code.py").write_text("x = 2\n", encoding="utf-8")
    (repo / "untracked.py").write_text("y = 1\n", encoding="utf-8")
    dirty = describe_machine(repo)
    assert (dirty.commit, dirty.clean) == (head, False)
    assert dirty.changes == (" M code.py", "?? untracked.py")
    assert describe_machine(tmp_path / "not-a-checkout").commit == "unknown"


@pytest.mark.servers
def test_collector_benchmark_completes_without_loss(tmp_path: Path) -> None:
    sizes = collector.Sizes(single_messages=2000, batch_messages=50, readings_per_batch_message=48)
    result = collector.run(tmp_path / "work", sizes=sizes)
    _assert_reported(result, tmp_path)
    assert result.figures["collector_unavailable"] is None
    for key, readings in (("a", 2000), ("b", 50 * 48)):
        shape = result.figures[key]
        # The naive bridge must make InfluxDB do the collector's work: same fields.
        assert shape["schema_mismatch"] is None
        for name, figures in shape["runs"].items():
            assert figures["error"] is None, (key, name, figures["error"])
            assert figures["lost"] == 0, (key, name)
            assert figures["readings_per_s"] > 0, (key, name)
        assert shape["runs"]["collector"]["stored"] == readings
        assert shape["runs"]["collector"]["rss_peak_bytes"] > 0


@pytest.mark.servers
def test_snmp_benchmark_completes_and_sees_every_interface(tmp_path: Path) -> None:
    result = snmp.run(tmp_path / "work", repeats=3)
    _assert_reported(result, tmp_path)
    switch = result.figures["switch48"]
    assert switch["poll_v2c"]["interfaces"] == switch["walk_v2c"]["interfaces"]
    assert switch["poll_v2c"]["interfaces"] >= snmp.SIMULATED_PORTS
    for key in ("walk", "poll", "walk_startup", "fresh_poll"):
        for auth in ("v2c", "v3"):
            assert switch[f"{key}_{auth}"]["median_s"] > 0, (key, auth)
    assert switch["fresh_poll_v2c"]["interfaces"] == switch["walk_v2c"]["interfaces"]
    # Both bases are reported: start-up included on both sides, and excluded on both.
    assert switch["ratio_median_startup_included_v2c"] > 0
    bases = [check.target.rsplit("start-up ", 1)[-1] for check in result.checks]
    assert bases == ["included)", "excluded)"] * 2
    assert result.checks[0].passed is not None


@pytest.mark.servers
def test_attendance_benchmark_computes_stores_and_exports_every_day(tmp_path: Path) -> None:
    result = attendance.run(tmp_path / "work", sizes=attendance.Sizes(staff=30, repeats=1))
    _assert_reported(result, tmp_path)
    expected = result.parameters["employees"] * result.parameters["days"]
    assert result.figures["stored"] == {
        "card_read": result.parameters["taps"],
        "attendance_day": expected,
        "state_results": expected,
    }
    done = result.figures["rounds"][0]
    assert done["taps_read"] == done["influx"]["rows"] > 0
    assert done["daily_rows"] == expected
    assert result.figures["medians"]["job_s"] > 0
    assert set(done["job_phases"]) == {key for _, key in attendance.JOB_PHASES}
    # The 10 s target is about 3,000 employees: not judged at this size.
    assert [check.passed is None for check in result.checks] == [False, False, True, True]


def test_alerts_benchmark_matches_emails_to_alarms_and_reports_the_missing() -> None:
    threshold = Alarm("threshold", "alarm-000", 10**9, 10**9)
    held = Alarm("held", "held-000", 10**9, 4 * 10**9)
    lost = Alarm("held", "held-001", 10**9, 4 * 10**9)
    mails = [
        Mail(int(1.5e9), "firing", frozenset({"alarm-000"})),
        Mail(int(4.25e9), "firing", frozenset({"held-000"})),
        Mail(int(5e9), "firing", frozenset({"held-000"})),  # mailed twice
        Mail(int(6e9), "resolved", frozenset({"held-001"})),  # no firing: still lost
        Mail(int(7e9), "firing", frozenset()),
    ]
    outcome = match([threshold, held, lost], mails)
    assert outcome.latencies_s == {"threshold": [0.5], "held": [0.25]}
    assert outcome.missing == [lost]
    assert outcome.duplicates == ["held-000"]
    assert outcome.others == 1


@pytest.mark.servers
def test_alerts_benchmark_mails_every_alert_once_and_measures_the_engine(tmp_path: Path) -> None:
    sizes = alerts.Sizes(load_s=3.0, speedup=10.0, threshold=4, held=2, idle_s=1.0)
    result = alerts.run(tmp_path / "work", sizes=sizes)
    _assert_reported(result, tmp_path)
    latency = result.figures["latency_s"]
    assert [len(latency[kind]["values"]) for kind in ("threshold", "held")] == [4, 2]
    assert all(value > 0 for kind in latency for value in latency[kind]["values"])
    assert result.figures["missing"] == []
    assert result.figures["duplicates"] == []
    assert result.figures["other_emails"] == 0
    assert result.figures["load"]["cpu_window"]["messages"] > 0
    assert result.figures["pilot"]["rss_peak_bytes"] > 0
    assert [check.passed is not None for check in result.checks] == [True, True, True]
