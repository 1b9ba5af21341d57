"""``pelangi-collector validate`` and the CLI's help: what a technician sees."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
import yaml
from typer.testing import CliRunner

from collector.cli import app
from pelangi.cli import EXIT_CONFIG

if TYPE_CHECKING:
    from pathlib import Path

runner = CliRunner()

GOOD = {
    "collector_id": "collector-a",
    "mqtt": {"host": "broker.local", "port": 1883},
    "influxdb": {"url": "http://influx.local:8086", "database": "pelangi"},
    "batch": {"max_points": 2000, "max_delay_ms": 100, "max_unacked": 5000},
}


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "collector.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_good_file_is_summarised(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", "--config", str(_write(tmp_path, yaml.dump(GOOD)))])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == (
        "configuration OK: collector collector-a, mqtt broker.local:1883 subscribing to "
        "pelangi/+/+/reading/+, InfluxDB http://influx.local:8086 database pelangi, "
        "batches of up to 2000 readings or 100 ms"
    )


def test_empty_file_means_all_defaults(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", "-c", str(_write(tmp_path, ""))])
    assert result.exit_code == 0, result.output
    assert "mqtt 127.0.0.1:1883" in result.stdout


def test_every_problem_gets_one_line_naming_its_key(tmp_path: Path) -> None:
    config = _write(
        tmp_path,
        """\
collector_id: "two words"
mqtt:
  port: 0
influxdb:
  url: influx.local:8086
  password: hunter2
  timeout: 5
batch:
  max_unacked: 100000
""",
    )
    result = runner.invoke(app, ["validate", "-c", str(config)])
    assert result.exit_code == EXIT_CONFIG
    lines = result.stderr.splitlines()
    assert lines[0] == f"{config}: configuration is not valid:"
    problems = sorted(line.strip().split(":")[0] for line in lines[1:])
    assert problems == [
        "batch.max_unacked",
        "collector_id",
        "influxdb.timeout",
        "influxdb.url",
        "mqtt.port",
    ]
    assert "unknown key" in result.stderr
    assert "hunter2" not in result.output


def test_missing_file(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", "-c", str(tmp_path / "nope.yaml")])
    assert result.exit_code == EXIT_CONFIG
    assert "cannot read the file: No such file or directory" in result.stderr
    assert "Traceback" not in result.output


def test_not_yaml(tmp_path: Path) -> None:
    result = runner.invoke(app, ["validate", "-c", str(_write(tmp_path, "mqtt: [unclosed\n"))])
    assert result.exit_code == EXIT_CONFIG
    assert "not valid YAML" in result.stderr


@pytest.mark.parametrize(
    ("command", "sentence"),
    [
        ([], "receives the readings the gateways send to the MQTT broker and stores them"),
        (["run"], "Start the collector: store every reading from the broker in InfluxDB"),
        (["validate"], "Check the configuration file without connecting"),
        (["setup-db"], "Create the database, retention policies and downsampling"),
    ],
)
def test_every_command_explains_itself(command: list[str], sentence: str) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert sentence in " ".join(result.stdout.split())
