"""``pelangi-collector doctor`` against a real Mosquitto (logins as ``gateway add`` writes
them), InfluxDB, an SMTP server and an SQLite state database: all green, then each
failure with its fix."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from typer.testing import CliRunner

from collector.cli import app
from sandbox.doctor import (
    COLLECTOR_PASSWORD,
    COLLECTOR_USER,
    GATEWAY,
    PASSWORD,
    broker_with_logins,
)
from sandbox.logbook import served
from sandbox.servers.base import free_port

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from sandbox.logbook import LogBook
    from sandbox.servers import Mosquitto
    from sandbox.servers.influxdb import InfluxDB
    from sandbox.servers.smtp import Certificate, Smtp

runner = CliRunner()


@pytest.fixture
def broker(tmp_path: Path, log_book: LogBook) -> Iterator[Mosquitto]:
    yield from served(broker_with_logins(tmp_path / "broker"), "mosquitto (logins)", log_book)


SMTP_USER = "pelangi"
SMTP_PASSWORD = "surat-rahasia"  # noqa: S105 - a throwaway test login
WRONG = "salah"


def write_config(
    tmp_path: Path,
    broker: Mosquitto,
    influxdb: InfluxDB,
    database: str,
    *,
    smtp: Smtp,
    certificate: Certificate,
    user: str = COLLECTOR_USER,
    password: str = COLLECTOR_PASSWORD,
    smtp_password: str = SMTP_PASSWORD,
) -> Path:
    doc: dict[str, Any] = {
        "collector_id": "pusat",
        "mqtt": {"host": broker.host, "port": broker.port, "username": user, "password": password},
        "influxdb": {"url": influxdb.url, "database": database},
        "state": {"url": f"sqlite:///{tmp_path / 'state.db'}"},
        "alerts": {
            "notify": {
                "smtp": {
                    "host": smtp.host,
                    "port": smtp.port,
                    "security": "starttls",
                    "username": SMTP_USER,
                    "password": smtp_password,
                    "from": "Pelangi <pelangi@example.org>",
                    "ca_file": str(certificate.cert_path),
                    "timeout_s": 5,
                }
            }
        },
    }
    path = tmp_path / "collector.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def doctor(config: Path) -> tuple[int, dict[str, dict[str, Any]]]:
    result = runner.invoke(app, ["doctor", "--config", str(config), "--json"])
    document = json.loads(result.stdout)
    assert document["exit_status"] == result.exit_code
    return result.exit_code, {check["name"]: check for check in document["checks"]}


@pytest.fixture
def servers(  # noqa: PLR0917 - pytest hands fixtures in by name
    tmp_path: Path,
    broker: Mosquitto,
    influxdb: InfluxDB,
    influx_db: str,
    smtp_server: Callable[..., Smtp],
    smtp_certificate: Certificate,
) -> Callable[..., Path]:
    """Write a collector config on all the servers (keyword changes: see write_config)."""
    smtp = smtp_server(security="starttls", user=SMTP_USER, password=SMTP_PASSWORD)

    def config(**changes: str) -> Path:
        return write_config(
            tmp_path,
            broker,
            influxdb,
            influx_db,
            smtp=smtp,
            certificate=smtp_certificate,
            **changes,
        )

    return config


def test_all_green_after_setup_db_and_state_upgrade(servers: Callable[..., Path]) -> None:
    config = servers()
    for command in (["setup-db"], ["state", "upgrade"]):
        done = runner.invoke(app, [*command, "--config", str(config)])
        assert done.exit_code == 0, done.output
    code, checks = doctor(config)
    assert code == 0, checks
    assert {c["status"] for c in checks.values()} == {"ok", "skip"}
    assert checks["broker TLS"]["status"] == "skip"
    assert "retention policies raw, rollup" in checks["InfluxDB database"]["found"]
    assert "EHLO, STARTTLS, AUTH, QUIT (no mail sent)" in checks["SMTP"]["found"]
    printed = runner.invoke(app, ["doctor", "--config", str(config)])
    assert printed.exit_code == 0
    assert "✓ InfluxDB write: wrote, read back and dropped a test point" in printed.stdout


def test_each_failure_says_its_fix(servers: Callable[..., Path]) -> None:
    code, checks = doctor(servers(password=WRONG, smtp_password=WRONG))
    assert code == 2
    assert "not authorized" in checks["broker login"]["found"]
    assert checks["publish receipts"]["status"] == "skip"
    # The database exists but setup-db never ran: no raw or rollup policy.
    assert "lacks retention policy raw, rollup" in checks["InfluxDB database"]["found"]
    assert (
        checks["InfluxDB database"]["fix"] == "run pelangi-collector setup-db (safe to run again)"
    )
    assert "head is" in checks["state database"]["found"]
    assert "pelangi-collector state upgrade" in checks["state database"]["fix"]
    smtp = checks["SMTP"]
    assert smtp["status"] == "fail"
    assert "AUTH" in smtp["found"]
    assert "alerts.notify.smtp" in smtp["fix"]


def test_a_login_without_the_collectors_acl_cannot_publish_receipts(
    servers: Callable[..., Path],
) -> None:
    _, checks = doctor(servers(user=GATEWAY, password=PASSWORD))
    assert checks["broker login"]["status"] == "ok"
    receipts = checks["publish receipts"]
    assert receipts["status"] == "fail"
    assert "refused" in receipts["found"]
    assert "write on pelangi/+/+/stored" in receipts["fix"]


def test_nothing_reachable_fails_fast_and_skips_what_depends_on_it(tmp_path: Path) -> None:
    nowhere = f"127.0.0.1:{free_port()}"
    config = tmp_path / "collector.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "mqtt": {"host": "127.0.0.1", "port": free_port()},
                "influxdb": {"url": f"http://{nowhere}"},
                "state": {"url": f"sqlite:///{tmp_path / 'state.db'}"},
            }
        )
    )
    code, checks = doctor(config)
    assert code == 2
    assert "connection refused" in checks["broker reachable"]["found"]
    assert "cannot connect" in checks["InfluxDB reachable"]["found"]
    assert "sudo systemctl status influxdb" in checks["InfluxDB reachable"]["fix"]
    assert checks["InfluxDB write"]["found"] == "skipped: needs 'InfluxDB reachable', which failed"
    assert checks["SMTP"]["found"] == "no alerts.notify.smtp configured"
    assert not (tmp_path / "state.db").exists()  # looking created nothing
