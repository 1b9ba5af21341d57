"""The checked-in Grafana dashboards: regenerated without a diff, loadable, on contract.

Regenerate them with ``make dashboards`` (``pelangi-collector dashboards export dashboards
--config config/collector.example.yaml``).
"""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path
from typing import Any, Final

import pytest
import yaml
from grafana_foundation_sdk.cog import plugins
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import Dashboard
from pydantic import SecretStr
from typer.testing import CliRunner

from collector.alerts.annotations import MEASUREMENT as ALERT
from collector.attendance.taps import ATTENDANCE_DAY
from collector.cli import app
from collector.config import CollectorSettings, InfluxV1Settings, InfluxV2Settings
from collector.dashboards import influxql
from collector.dashboards.export import DATASOURCE_FILE, PROVIDER_FILE, export
from collector.dashboards.provisioning import datasource
from collector.storage import points
from collector.storage.setup_v1 import ROLLUPS
from pelangi.cli import EXIT_CONFIG
from pelangi.configfile import load

ROOT: Final = Path(__file__).resolve().parent.parent
CHECKED_IN: Final = ROOT / "dashboards"
EXAMPLE: Final = ROOT / "config" / "collector.example.yaml"
REGENERATE: Final = "regenerate with `make dashboards` and commit the result"
NAMES: Final = (
    "pelangi-ringkasan",
    "pelangi-pintu",
    "pelangi-kehadiran",
    "pelangi-jaringan",
    "pelangi-gateway",
)
DATASOURCE: Final = {"type": "influxdb", "uid": "pelangi-influxdb"}
TARGET_KEYS: Final = {"refId", "datasource", "query", "rawQuery", "resultFormat"}
MEASUREMENTS: Final = {
    points.CARD_READ,
    points.DOOR,
    points.INTERFACE,
    points.PORT_CHANGE,
    points.REACHABILITY,
    points.AGENT_HEALTH,
    points.DEAD_LETTER,
    points.COLLECTOR_STATS,
    ATTENDANCE_DAY,
    ALERT,
}
MACROS: Final = {"timeFilter", "__interval"}
SOURCE: Final = re.compile(r'FROM "(\$rp|raw|rollup)"\."([a-z_]+)"')
FIELD_IN_CALL: Final = re.compile(r'\w+\("([^"]+)"\)')
VARIABLE: Final = re.compile(r"\$(\w+)")
runner = CliRunner()


def _boards() -> dict[str, dict[str, Any]]:
    return {
        name: json.loads((CHECKED_IN / f"{name}.json").read_text(encoding="utf-8"))
        for name in NAMES
    }


def _panels(board: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for panel in board["panels"]:
        found.append(panel)
        found.extend(panel.get("panels", []))  # a collapsed row holds its panels
    return [panel for panel in found if panel["type"] != "row"]


def _targets(board: dict[str, Any]) -> list[dict[str, Any]]:
    return [target for panel in _panels(board) for target in panel.get("targets", [])]


def _rollup_fields(measurement: str) -> set[str]:
    # "mean(in_bps) AS in_bps" -> in_bps: what the continuous query writes into rollup.
    return {aggregate.rsplit(" AS ", 1)[1] for aggregate in ROLLUPS.get(measurement, ())}


def test_export_matches_the_checked_in_files(tmp_path: Path) -> None:
    written = export(tmp_path, load(EXAMPLE, CollectorSettings))
    assert [p.relative_to(tmp_path).as_posix() for p in written] == [
        *(f"{name}.json" for name in NAMES),
        DATASOURCE_FILE,
        PROVIDER_FILE,
    ]
    for path in written:
        relative = path.relative_to(tmp_path)
        checked_in = CHECKED_IN / relative
        assert checked_in.exists(), f"{relative} is not checked in: {REGENERATE}"
        assert path.read_text(encoding="utf-8") == checked_in.read_text(encoding="utf-8"), (
            f"dashboards/{relative} differs from what the code generates: {REGENERATE}"
        )
    generated = {p.relative_to(tmp_path) for p in written}
    stale = {
        p.relative_to(CHECKED_IN)
        for p in CHECKED_IN.rglob("*")
        if p.suffix in {".json", ".yaml"} and p.relative_to(CHECKED_IN) not in generated
    }
    assert not stale, f"checked in but no longer generated: {sorted(map(str, stale))}"


def test_every_dashboard_loads_back_through_the_sdk() -> None:
    plugins.register_default_plugins()
    influxql.register()
    for name, data in _boards().items():
        board = Dashboard.from_json(data)
        assert board.uid == name
        targets = [t for p in board.panels or [] for t in getattr(p, "targets", None) or []]
        assert targets, name
        assert all(isinstance(t, influxql.InfluxQLQuery) for t in targets), name
        again = json.loads(JSONEncoder(sort_keys=True).encode(board))
        # The SDK's annotation target knows only the built-in source's keys: the one part
        # that does not survive the round trip (Grafana itself reads the JSON, not the SDK).
        for document in (data, again):
            for annotation in document["annotations"]["list"]:
                annotation.pop("target")
        assert again == data, name


def test_no_import_placeholders() -> None:
    generated = [p for p in CHECKED_IN.rglob("*") if p.suffix in {".json", ".yaml"}]
    assert len(generated) == len(NAMES) + 2
    for path in generated:
        assert "${DS_" not in path.read_text(encoding="utf-8"), path


def test_every_target_follows_the_contract() -> None:
    for name, board in _boards().items():
        assert board["timezone"] == "Asia/Makassar", name
        defined = {v["name"] for v in board["templating"]["list"]}
        for target in _targets(board):
            query = target["query"]
            assert TARGET_KEYS <= set(target) <= TARGET_KEYS | {"alias"}, query
            assert target["refId"] == "A"
            assert target["datasource"] == DATASOURCE
            assert target["rawQuery"] is True
            assert target["resultFormat"] in {"time_series", "table"}
            assert "WHERE $timeFilter" in query, query
            if "GROUP BY time(" in query:
                assert "GROUP BY time($__interval" in query, query
            sources = SOURCE.findall(query)
            assert sources, f"{name}: no retention policy in {query}"
            for variable in set(VARIABLE.findall(query)) - MACROS - {"rp"}:
                assert variable in defined, f"{name}: ${variable} is not a variable: {query}"
                assert re.search(rf"=~ /\^\${variable}\$/", query), query
            for policy, measurement in sources:
                assert measurement in MEASUREMENTS, query
                if policy == "$rp":
                    assert "rp" in defined, name
                if policy != "raw":
                    fields = set(FIELD_IN_CALL.findall(query))
                    missing = fields - _rollup_fields(measurement)
                    assert not missing, f"{name}: rollup has no {missing}: {query}"


def test_every_variable_reads_influxdb_or_is_custom() -> None:
    for name, board in _boards().items():
        for variable in board["templating"]["list"]:
            if variable["type"] == "query":
                assert variable["datasource"] == DATASOURCE, name
                assert variable["query"].startswith("SHOW TAG VALUES"), variable
            else:
                assert variable["type"] == "custom", variable
        for annotation in board["annotations"]["list"]:
            assert annotation["datasource"] == DATASOURCE
            assert "WHERE $timeFilter" in annotation["target"]["query"]


def test_influxdb1_datasource_carries_database_user_and_password() -> None:
    settings = InfluxV1Settings(
        url="http://influx.local:8086",
        database="kantor",
        username="grafana",
        password=SecretStr("rahasia"),
    )
    document = datasource(settings)
    assert document["apiVersion"] == 1
    (source,) = document["datasources"]
    assert source["uid"] == "pelangi-influxdb"
    assert source["type"] == "influxdb"
    assert source["url"] == "http://influx.local:8086"
    assert source["user"] == "grafana"
    assert source["jsonData"]["dbName"] == "kantor"
    assert source["secureJsonData"] == {"password": "rahasia"}
    assert "httpHeaderName1" not in source["jsonData"]


def test_influxdb2_datasource_uses_the_v1_api_with_a_token_header() -> None:
    settings = InfluxV2Settings(
        backend="influxdb2", url="https://influx.local", bucket="pelangi", token=SecretStr("t0k")
    )
    (source,) = datasource(settings)["datasources"]
    assert source["jsonData"]["dbName"] == "pelangi"
    assert source["jsonData"]["httpHeaderName1"] == "Authorization"
    assert source["secureJsonData"] == {"httpHeaderValue1": "Token t0k"}
    assert "user" not in source


def test_checked_in_provisioning_has_the_right_shape() -> None:
    datasources = yaml.safe_load((CHECKED_IN / DATASOURCE_FILE).read_text(encoding="utf-8"))
    assert datasources["apiVersion"] == 1
    assert [s["uid"] for s in datasources["datasources"]] == ["pelangi-influxdb"]
    assert "secureJsonData" not in datasources["datasources"][0]  # the example has no secrets
    providers = yaml.safe_load((CHECKED_IN / PROVIDER_FILE).read_text(encoding="utf-8"))
    assert providers["apiVersion"] == 1
    (provider,) = providers["providers"]
    assert provider["type"] == "file"
    assert provider["options"]["path"] == "/var/lib/grafana/dashboards/pelangi"


@pytest.mark.parametrize(
    ("influxdb", "secret"),
    [
        ({"url": "http://i:8086", "username": "g", "password": "pw-rahasia"}, "pw-rahasia"),
        ({"backend": "influxdb2", "url": "http://i:8086", "token": "tok-rahasia"}, "tok-rahasia"),
    ],
)
def test_cli_writes_secrets_only_to_an_owner_only_file(
    tmp_path: Path, influxdb: dict[str, str], secret: str
) -> None:
    config = tmp_path / "collector.yaml"
    config.write_text(yaml.safe_dump({"influxdb": influxdb}), encoding="utf-8")
    out = tmp_path / "out"
    result = runner.invoke(app, ["dashboards", "export", str(out), "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert f"wrote {out / DATASOURCE_FILE}" in result.stdout
    assert secret not in result.output
    written = out / DATASOURCE_FILE
    assert secret in written.read_text(encoding="utf-8")
    assert stat.S_IMODE(written.stat().st_mode) == 0o600


def test_cli_names_the_bad_key_and_exits_2(tmp_path: Path) -> None:
    config = tmp_path / "collector.yaml"
    config.write_text(yaml.safe_dump({"influxdb": {"url": "not a url"}}), encoding="utf-8")
    result = runner.invoke(app, ["dashboards", "export", str(tmp_path), "--config", str(config)])
    assert result.exit_code == EXIT_CONFIG
    assert "influxdb.url" in result.output
