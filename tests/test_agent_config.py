"""``pelangi-agent validate`` and the CLI's help: what a field technician sees."""

from __future__ import annotations

import subprocess
from typing import TYPE_CHECKING

import pytest
import yaml
from typer.testing import CliRunner

from edge_agent.cli import app
from pelangi.cli import EXIT_CONFIG
from sandbox.processes import venv_program

if TYPE_CHECKING:
    from pathlib import Path

runner = CliRunner()

GOOD = {
    "site": "bukit-pelangi",
    "gateway": "gw-bupati",
    "mqtt": {"host": "broker.local", "port": 1883},
    "readers": [
        {"id": "rfid-lobby", "port": "/dev/ttyUSB0"},
        {"id": "rfid-hall", "port": "/dev/ttyUSB1", "hold_gap_ms": 300},
    ],
}


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "agent.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_good_file_is_summarised(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", "--config", str(_write(tmp_path, yaml.dump(GOOD)))])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == (
        "configuration OK: site bukit-pelangi, gateway gw-bupati, 2 readers ("
        "rfid-lobby on /dev/ttyUSB0, rfid-hall on /dev/ttyUSB1); mqtt broker.local:1883; "
        "outbox /var/lib/pelangi-agent/outbox.db (at most 1,000 MB); waits for collectors: any"
    )


def test_missing_port_is_a_note_not_an_error(tmp_path: Path) -> None:
    present = tmp_path / "ttyPRESENT"
    present.touch()
    absent = tmp_path / "ttyABSENT"
    readers = [{"id": "rfid-a", "port": str(present)}, {"id": "rfid-b", "port": str(absent)}]
    config = _write(tmp_path, yaml.dump({**GOOD, "readers": readers}))
    result = runner.invoke(app, ["validate", "-c", str(config)])
    assert result.exit_code == 0
    note = (
        f"note: reader rfid-b: {absent} does not exist right now (unplugged or renamed?); "
        "the agent will keep trying to open it"
    )
    assert result.stderr.splitlines() == [note]


def test_every_problem_gets_one_line_naming_its_key(tmp_path: Path) -> None:
    config = _write(
        tmp_path,
        """\
site: "bad site!"
gateway: gw-1
mqtt:
  port: 70000
readers:
  - id: rfid-lobby
    port: /dev/ttyUSB0
    baud: 9600
    hold_gap_ms: -5
""",
    )
    result = runner.invoke(app, ["validate", "-c", str(config)])
    assert result.exit_code == EXIT_CONFIG
    lines = result.stderr.splitlines()
    assert lines[0] == f"{config}: configuration is not valid:"
    problems = sorted(line.strip().split(":")[0] for line in lines[1:])
    assert problems == ["mqtt.port", "readers[0].baud", "readers[0].hold_gap_ms", "site"]
    assert "got 70000" in result.stderr
    assert "unknown key" in result.stderr


def test_duplicate_reader_ids_are_refused(tmp_path: Path) -> None:
    config = dict(GOOD, readers=[GOOD["readers"][0]] * 2)  # type: ignore[index]
    result = runner.invoke(app, ["validate", "-c", str(_write(tmp_path, yaml.dump(config)))])
    assert result.exit_code == EXIT_CONFIG
    assert "device id 'rfid-lobby' is used twice" in result.stderr


def test_missing_file(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", "-c", str(tmp_path / "nope.yaml")])
    assert result.exit_code == EXIT_CONFIG
    assert "cannot read the file: No such file or directory" in result.stderr


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("site: [unclosed\n", "line 2, column 1: not valid YAML"),
        ("- just\n- a list\n", "the top level must be a mapping"),
    ],
)
def test_not_yaml_or_not_a_mapping(tmp_path: Path, text: str, expected: str) -> None:
    result = runner.invoke(app, ["validate", "-c", str(_write(tmp_path, text))])
    assert result.exit_code == EXIT_CONFIG
    assert expected in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize("command", [[], ["run"], ["validate"]])
def test_every_command_explains_itself(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    assert any(
        sentence in text
        for sentence in (
            "reads the card readers, door sensors and network switches of this gateway",
            "Start the agent: read every configured device and send the readings on",
            "Check the configuration file without starting anything",
        )
    )


def test_run_with_unusable_state_dir_exits_with_one_clear_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    config = _write(tmp_path, yaml.dump({**GOOD, "state_dir": str(blocker / "state")}))
    result = subprocess.run(
        [venv_program("pelangi-agent"), "run", "--config", config],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert f"pelangi-agent cannot start: cannot create the state directory {blocker}/state" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr
