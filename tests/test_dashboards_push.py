"""Pushing dashboards to Grafana's HTTP API (collector/dashboards/push.py).

Grafana cannot be installed on these machines (not in Debian, PyPI or npm: see
/work/shared/ENV-NOTES.md), so these tests talk to :class:`sandbox.servers.grafana_api.
FakeGrafana`: a real HTTP server on loopback answering the four documented calls as
Grafana 11 does. A thin fake is acceptable here only because no Grafana can run; it
proves the requests we send and how we read the answers, not Grafana itself (for that,
see dashboards/PROOF.md). The last test proves that push.py's urllib3 and influxdb-client
work in one environment: real writes through both, to real servers.
"""

from __future__ import annotations

import base64
import json
import time
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import urllib3
from influxdb_client.client.influxdb_client import InfluxDBClient
from influxdb_client.client.write_api import SYNCHRONOUS
from typer.testing import CliRunner

from collector.cli import app
from collector.config import InfluxV1Settings
from collector.dashboards import push
from collector.dashboards.push import (
    GrafanaAuthError,
    GrafanaError,
    GrafanaUnreachable,
    describe,
    push_dashboards,
)
from collector.storage.influx_v1 import InfluxV1Writer
from sandbox.servers import VictoriaMetrics, free_port
from sandbox.servers.grafana_api import FakeGrafana
from sandbox.waiting import wait_until

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sandbox.servers import InfluxDB

REPO = Path(__file__).resolve().parents[1]
EXAMPLE_CONFIG = REPO / "config" / "collector.example.yaml"
CHECKED_IN = REPO / "dashboards"
TOKEN = "glsa_pelangi_test"  # noqa: S105 - a test token
DATASOURCE = {
    "name": "Pelangi InfluxDB",
    "uid": "pelangi-influxdb",
    "type": "influxdb",
    "url": "http://127.0.0.1:8086",
    "jsonData": {"dbName": "pelangi", "httpMode": "POST"},
    "secureJsonData": {"password": "rahasia"},
}


@pytest.fixture
def grafana() -> Iterator[FakeGrafana]:
    with FakeGrafana(token=TOKEN) as server:
        yield server


@pytest.fixture
def exported(tmp_path: Path) -> Path:
    folder = tmp_path / "export"
    folder.mkdir()
    for uid, title in (("pelangi-doors", "Pintu"), ("pelangi-network", "Jaringan")):
        dashboard = {"uid": uid, "title": title, "id": 7, "panels": [], "schemaVersion": 39}
        (folder / f"{uid}.json").write_text(json.dumps(dashboard), encoding="utf-8")
    # A provisioning-style file holding {"dashboard": ...} is accepted too.
    wrapped = {"dashboard": {"uid": "pelangi-office", "title": "Kantor", "panels": []}}
    (folder / "pelangi-office.json").write_text(json.dumps(wrapped), encoding="utf-8")
    return folder


def test_pushes_every_dashboard_into_a_folder_with_the_datasource(
    grafana: FakeGrafana, exported: Path
) -> None:
    results = push_dashboards(
        grafana.url, exported, token=TOKEN, folder="Pelangi", datasource=DATASOURCE
    )
    assert [(r.file, r.ok, r.version) for r in results] == [
        ("pelangi-doors.json", True, 1),
        ("pelangi-network.json", True, 1),
        ("pelangi-office.json", True, 1),
    ]
    assert results[0].url == "/d/pelangi-doors/pelangi-doors"
    stored = grafana.dashboards
    assert set(stored) == {"pelangi-doors", "pelangi-network", "pelangi-office"}
    assert {d["folderUid"] for d in stored.values()} == {"pelangi"}
    assert stored["pelangi-doors"]["id"] is None  # ids are per Grafana instance
    calls = [(r.method, r.path) for r in grafana.requests]
    assert calls[:3] == [
        ("GET", "/api/health"),
        ("POST", "/api/datasources"),
        ("POST", "/api/folders"),
    ]
    saves = [r.body for r in grafana.requests if r.path == "/api/dashboards/db"]
    assert all(body["overwrite"] is True for body in saves)
    assert all(r.headers["Authorization"] == f"Bearer {TOKEN}" for r in grafana.requests[1:])
    assert all(line.startswith("pelangi-") for line in describe(results))


def test_pushing_again_overwrites_and_updates_the_datasource(
    grafana: FakeGrafana, exported: Path
) -> None:
    push_dashboards(grafana.url, exported, token=TOKEN, folder="Pelangi", datasource=DATASOURCE)
    again = push_dashboards(
        grafana.url, exported, token=TOKEN, folder="Pelangi", datasource=DATASOURCE
    )
    assert [r.version for r in again] == [2, 2, 2]
    assert ("PUT", "/api/datasources/uid/pelangi-influxdb") in [
        (r.method, r.path) for r in grafana.requests
    ]


def test_basic_auth_is_sent_when_there_is_no_token(grafana: FakeGrafana, exported: Path) -> None:
    grafana.state.token = "unused"  # noqa: S105 - a test token
    with pytest.raises(GrafanaAuthError):
        push_dashboards(grafana.url, exported, user="admin", password="admin")  # noqa: S106
    sent = grafana.requests[-1].headers["Authorization"]
    assert sent == "Basic " + base64.b64encode(b"admin:admin").decode()


def test_a_refused_token_stops_the_push_and_says_so(grafana: FakeGrafana, exported: Path) -> None:
    with pytest.raises(GrafanaAuthError, match="refused the token") as caught:
        push_dashboards(grafana.url, exported, token="glsa_wrong")  # noqa: S106
    assert "Invalid API key" in str(caught.value)
    assert not grafana.dashboards


@pytest.mark.parametrize(
    ("status", "message", "meaning"),
    [
        (412, "The dashboard has been changed by someone else", "version conflict"),
        (404, "Folder not found", "not found"),
        (403, "Access denied", "may not write"),
        (400, "Dashboard title cannot be empty", "invalid"),
    ],
)
def test_a_refused_dashboard_is_reported_with_graphanas_reply(
    grafana: FakeGrafana, exported: Path, status: int, message: str, meaning: str
) -> None:
    grafana.answers["POST", "/api/dashboards/db"] = (status, {"message": message})
    results = push_dashboards(grafana.url, exported, token=TOKEN)
    assert len(results) == 3
    for result in results:
        assert not result.ok
        assert result.status == status
        assert meaning in result.detail
        assert message in result.detail
    assert "NOT pushed 'Pintu' (uid pelangi-doors)" in describe(results)[0]


def test_nothing_listening_names_the_url(exported: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(GrafanaUnreachable, match=rf"{url}: connection refused"):
        push_dashboards(url, exported, token=TOKEN, timeout_s=2)


def test_something_else_than_grafana_is_named(grafana: FakeGrafana, exported: Path) -> None:
    grafana.answers["GET", "/api/health"] = (404, {"message": "Not found"})
    with pytest.raises(GrafanaUnreachable, match="is this Grafana's root URL"):
        push_dashboards(grafana.url + "/grafana", exported, token=TOKEN)


def test_a_file_that_is_not_json_is_named_before_anything_is_sent(
    grafana: FakeGrafana, exported: Path
) -> None:
    (exported / "broken.json").write_text("{", encoding="utf-8")
    with pytest.raises(GrafanaError, match=r"broken\.json: not JSON"):
        push_dashboards(grafana.url, exported, token=TOKEN)
    assert not grafana.requests


def _installed(name: str) -> bool:
    try:
        version(name)
    except PackageNotFoundError:
        return False
    return True


@pytest.mark.servers
def test_push_and_influxdb_client_work_in_one_environment(
    grafana: FakeGrafana,
    exported: Path,
    tmp_path: Path,
    influxdb: InfluxDB,
    influx_db: str,
) -> None:
    # The environment keeps the real urllib3 (no urllib3-future hook replacing it).
    assert vars(push)["urllib3"] is urllib3
    assert "urllib3_future" not in str(urllib3.__file__)
    assert version("urllib3").startswith("2.")
    assert not _installed("urllib3-future")
    assert not _installed("niquests")
    now = time.time_ns()
    # influxdb-client itself, through the v2 write API (VictoriaMetrics speaks it here).
    with (
        VictoriaMetrics(tmp_path / "victoria") as victoria,
        InfluxDBClient(url=victoria.url, token="unused", org="pelangi") as client,  # noqa: S106
    ):
        lines = [f"probe,site=s value=1i {now}", f"probe,site=s value=2i {now + 1}"]
        client.write_api(write_options=SYNCHRONOUS).write(bucket="pelangi", record=lines)
        wait_until(lambda: victoria.count("probe_value") == 2, timeout=30, what="2 samples")
    # The collector's own v1 writer (urllib3) to a real InfluxDB 1.6.
    writer = InfluxV1Writer(InfluxV1Settings(url=influxdb.url, database=influx_db))
    try:
        writer.write([f"probe,site=s value=3i {now}"])
    finally:
        writer.close()
    rows: list[dict[str, Any]] = influxdb.query('SELECT "value" FROM "probe"', influx_db)
    assert [row["value"] for row in rows] == [3]
    # And the push, in the same process.
    assert all(r.ok for r in push_dashboards(grafana.url, exported, token=TOKEN))


def test_the_push_command_generates_and_uploads_every_dashboard_with_the_datasource(
    grafana: FakeGrafana, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GRAFANA_TOKEN", TOKEN)
    args = ["dashboards", "push", "--url", grafana.url, "--config", str(EXAMPLE_CONFIG)]
    result = CliRunner().invoke(app, [*args, "--datasource"])
    assert result.exit_code == 0, result.output
    assert len(grafana.dashboards) == len(list(CHECKED_IN.glob("*.json")))
    assert result.stdout.count(": pushed ") == len(grafana.dashboards)
    sources = [r.body for r in grafana.requests if r.path == "/api/datasources"]
    assert [s["uid"] for s in sources] == ["pelangi-influxdb"]
    monkeypatch.delenv("GRAFANA_TOKEN")
    refused = CliRunner().invoke(app, args)
    assert refused.exit_code == 2
    assert "set GRAFANA_TOKEN to a Grafana service account token" in refused.stderr
