"""``pelangi-agent status`` and ``outbox export | purge`` against a real agent process.

The agent runs as ``pelangi-agent run`` (sandbox.probes.AgentProcess) on a real Mosquitto
with a card reader on a pty; the commands run through typer's CliRunner, as a technician
would run them beside the service.
"""

from __future__ import annotations

import json
import logging
import time
from typing import TYPE_CHECKING, Any, Final

import yaml
from typer.testing import CliRunner, Result

from edge_agent.cli import app
from edge_agent.toolkit.statusfile import StatusWriter, build_status, read_status, status_path
from sandbox.card_frames import rdm6300_frame
from sandbox.probes import AgentProcess, announce_collector
from sandbox.waiting import wait_until

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    import pytest

    from sandbox.servers import Mosquitto, SerialPty

CARD: Final = "62E3086CED"
COLLECTOR: Final = "collector-1"


def _agent(tmp_path: Path, mosquitto: Mosquitto, pty: SerialPty, **extra: Any) -> AgentProcess:
    return AgentProcess(
        tmp_path / "agent",
        {
            "site": "test-site",
            "gateway": "gw-status",
            "mqtt": {"host": mosquitto.host, "port": mosquitto.port, "reconnect_max_s": 0.5},
            "readers": [{"id": "r1", "port": str(pty.device), "hold_gap_ms": 50}],
            "state_dir": str(tmp_path / "state"),
            **extra,
        },
    )


def _status(agent: AgentProcess) -> dict[str, Any]:
    return read_status(status_path(agent.settings.state_dir))


def _run(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(app, list(args), input=stdin)


def test_status_reports_the_running_agent_then_its_stop(
    tmp_path: Path, mosquitto: Mosquitto, make_pty: Callable[[str], SerialPty]
) -> None:
    pty = make_pty("ttySTATUS")
    agent = _agent(tmp_path, mosquitto, pty, primary_collectors="none")
    config = str(agent.config_path)
    agent.start(mosquitto)
    try:
        wait_until(
            lambda: _status(agent)["connected"],
            timeout=30,
            what="the status file says connected",
            ignore=(FileNotFoundError, ValueError),
        )
        pty.write(rdm6300_frame(CARD))
        wait_until(
            lambda: (
                _status(agent)["drivers"].get("reader.r1.taps") == 1
                and _status(agent)["last_delivery_at"]
            ),
            timeout=30,
            what="the status counts the tap and a delivery",
            ignore=(ValueError,),  # never a torn file; a rename in between at most
        )
        result = _run("status", "--config", config, "--json")
        assert result.exit_code == 0, result.output
        document = json.loads(result.stdout)
        assert document["connected"] is True
        assert document["running"] is True
        assert document["stale"] is False
        assert isinstance(document["bdseq"], int)
        assert document["pid"] == agent.process.pid
        assert document["outbox"]["readings"] >= 0
        result = _run("status", "--config", config)
        assert result.exit_code == 0, result.output
        assert f"mqtt {mosquitto.host}:{mosquitto.port}: connected (bdseq" in result.stdout
        assert "reader.r1.taps" in result.stdout
        assert status_path(agent.settings.state_dir).stat().st_mode & 0o777 == 0o640
    finally:
        assert agent.stop() == 0
    result = _run("status", "--config", config)
    assert result.exit_code == 1
    assert "the agent stopped" in result.output
    assert "fix: start it: systemctl start pelangi-agent" in result.output


def test_export_while_running_purge_only_once_stopped(
    tmp_path: Path, mosquitto: Mosquitto, make_pty: Callable[[str], SerialPty]
) -> None:
    announce_collector(mosquitto, COLLECTOR, online=False)  # everything stays in the outbox
    pty = make_pty("ttyOUTBOX")
    agent = _agent(tmp_path, mosquitto, pty, primary_collectors=[COLLECTOR])
    config = str(agent.config_path)
    exported = tmp_path / "outbox.jsonl"
    agent.start(mosquitto)
    try:
        pty.write(rdm6300_frame(CARD))
        wait_until(
            lambda: "r1" in {line["device"] for line in _export(config, exported)},
            timeout=30,
            what="the tap is in the exported outbox",
        )
        lines = _export(config, exported)
        card = next(line for line in lines if line["device"] == "r1")
        assert card["kind"] == "card_read"
        assert card["event"] is True
        assert card["payload"]["card"]["uid"]
        assert card["seq"] == card["payload"]["seq"]
        assert card["ts"] == card["payload"]["ts"]
        result = _run("outbox", "purge", "--config", config, "--yes")
        assert result.exit_code == 1
        assert "fix: stop it first: systemctl stop pelangi-agent" in result.output
    finally:
        assert agent.stop() == 0
    held = len(_export(config, exported))
    result = _run("outbox", "purge", "--config", config, stdin="n\n")
    assert result.exit_code == 1
    assert f"delete {held} undelivered reading(s), the oldest from" in result.output
    assert len(_export(config, exported)) == held
    result = _run("outbox", "purge", "--config", config, stdin="y\n")
    assert result.exit_code == 0, result.output
    assert f"deleted {held} reading(s)" in result.output
    assert _export(config, exported) == []
    assert "nothing to purge" in _run("outbox", "purge", "--config", config, "--yes").output


def _export(config: str, file: Path) -> list[dict[str, Any]]:
    result = _run("outbox", "export", str(file), "--config", config)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in file.read_text(encoding="utf-8").splitlines()]


def _config(tmp_path: Path) -> str:
    path = tmp_path / "agent.yaml"
    config = {"site": "s", "gateway": "g", "state_dir": str(tmp_path / "state")}
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    (tmp_path / "state").mkdir()
    return str(path)


def test_an_old_status_says_the_agent_is_not_running(tmp_path: Path) -> None:
    config = _config(tmp_path)
    counters = {"mqtt.connected": 1, "mqtt.bdseq": 7, "outbox.telemetry": 3}
    document = build_status(
        identity={"site": "s", "gateway": "g"},
        counters=counters,
        problems=["[bold]not markup[/]"],
        wall_s=time.time() - 60,
        uptime_s=5,
        last_delivery_s=None,
    )
    StatusWriter(tmp_path / "state" / "status.json").write(document, 0.0)
    result = _run("status", "--config", config)
    assert result.exit_code == 1
    assert "[bold]not markup[/]" in result.stdout
    assert "outbox: 3 reading(s)" in result.stdout
    assert "fix: the agent is not running or is stuck: systemctl status pelangi-agent" in (
        result.output
    )
    result = _run("status", "--config", config, "--json")
    assert json.loads(result.stdout)["stale"] is True


def test_no_status_file_says_to_start_the_agent(tmp_path: Path) -> None:
    result = _run("status", "--config", _config(tmp_path))
    assert result.exit_code == 1
    assert "no status file at" in result.output
    assert "systemctl start pelangi-agent" in result.output


def test_a_failed_status_write_is_logged_once_and_never_raised(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    writer = StatusWriter(tmp_path / "missing" / "status.json")
    with caplog.at_level(logging.WARNING):
        for now in (0.0, 5.0, 10.0):
            writer.write({"written_at": "x"}, now)
    logged = [r.getMessage() for r in caplog.records if "status file" in r.getMessage()]
    assert logged == [
        (
            f"cannot write the status file {writer.path}: No such file or directory "
            "(pelangi-agent status cannot tell how the agent is doing; the readings are "
            "not affected)"
        )
    ]
