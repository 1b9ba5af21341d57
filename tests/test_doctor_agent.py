"""``pelangi-agent doctor`` against a real Mosquitto (logins and ACL as ``gateway add`` writes
them), snmpd and ptys: one all-green run, and each failure with the fix it prints."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from typer.testing import CliRunner

from edge_agent.cli import app
from edge_agent.readers.settings import ReaderSettings
from edge_agent.toolkit.doctor.devices import read_card
from sandbox.doctor import (
    GATEWAY,
    NO_ACL,
    PASSWORD,
    SITE,
    announce_collector,
    broker_with_logins,
    fake_timedatectl,
)
from sandbox.logbook import served
from sandbox.servers import Mosquitto
from sandbox.servers.smtp import make_certificate
from sandbox.servers.snmpd import COMMUNITY
from sandbox.waiting import wait_until

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from sandbox.logbook import LogBook
    from sandbox.servers.pty import SerialPty
    from sandbox.servers.snmpd import Snmpd

runner = CliRunner()
AS_ROOT = os.geteuid() == 0
ROOT_REASON = "runs as root, where os.access is always true"


@pytest.fixture
def broker(tmp_path: Path, log_book: LogBook) -> Iterator[Mosquitto]:
    """Mosquitto admitting gw-1 (own subtree), gw-noacl (no ACL lines) and the collector."""
    yield from served(broker_with_logins(tmp_path / "broker"), "mosquitto (logins)", log_book)


@pytest.fixture
def ntp_synced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A ``timedatectl`` saying the clock is synchronised (this sandbox has no NTP)."""
    monkeypatch.setenv("PATH", fake_timedatectl(tmp_path / "bin", "yes"))


def write_config(tmp_path: Path, broker: Mosquitto, **changes: Any) -> Path:
    """An agent configuration for gw-1 on ``broker``, with ``changes`` on top."""
    doc: dict[str, Any] = {
        "site": SITE,
        "gateway": GATEWAY,
        "mqtt": {
            "host": broker.host,
            "port": broker.port,
            "username": GATEWAY,
            "password": PASSWORD,
        },
        "state_dir": str(tmp_path / "state"),
    }
    doc.update(changes)
    path = tmp_path / "agent.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def doctor(config: Path, *extra: str) -> tuple[int, dict[str, dict[str, Any]]]:
    """Run doctor with --json; the exit status and each check's result by name."""
    result = runner.invoke(app, ["doctor", "--config", str(config), "--json", *extra])
    document = json.loads(result.stdout)
    assert document["exit_status"] == result.exit_code
    return result.exit_code, {check["name"]: check for check in document["checks"]}


def switch(snmpd_port: int, community: str = COMMUNITY) -> dict[str, Any]:
    return {
        "id": "sw-lobi",
        "host": "127.0.0.1",
        "port": snmpd_port,
        "community": community,
        "timeout_s": 0.5,
        "retries": 0,
    }


@pytest.mark.usefixtures("ntp_synced")
def test_all_green(tmp_path: Path, broker: Mosquitto, snmpd: Snmpd, serial_pty: SerialPty) -> None:
    announce_collector(broker, "pusat")
    config = write_config(
        tmp_path,
        broker,
        readers=[{"id": "rfid-lobi", "port": str(serial_pty.device)}],
        switches=[switch(snmpd.port)],
    )
    code, checks = doctor(config)
    assert code == 0, checks
    assert {c["status"] for c in checks.values()} == {"ok", "skip"}
    assert checks["broker TLS"]["status"] == "skip"  # none configured
    assert checks["collector online"]["found"] == "online: pusat"
    assert "sysName 'sw-test'" in checks["switch sw-lobi SNMP"]["found"]
    printed = runner.invoke(app, ["doctor", "--config", str(config)])
    assert printed.exit_code == 0
    assert printed.stdout.splitlines()[0] == f"✓ config valid: {config} is valid"
    assert (
        f"✓ publish allowed (ACL): published on pelangi/{SITE}/{GATEWAY}/doctor" in printed.stdout
    )
    assert "fix:" not in printed.stdout


def test_wrong_password_is_said_and_what_needs_the_login_is_skipped(
    tmp_path: Path, broker: Mosquitto
) -> None:
    mqtt = {"host": broker.host, "port": broker.port, "username": GATEWAY, "password": "salah"}
    code, checks = doctor(write_config(tmp_path, broker, mqtt=mqtt))
    assert code == 2
    login = checks["broker login"]
    assert login["status"] == "fail"
    # Mosquitto 2.0.11 answers "not authorized" (0x87), not "bad user name or password".
    assert "not authorized (a wrong user name or password" in login["found"]
    assert "pelangi-collector gateway add" in login["fix"]
    assert checks["publish allowed (ACL)"]["found"] == "skipped: needs 'broker login', which failed"
    assert checks["collector online"]["status"] == "skip"


def test_acl_denial_names_the_subtree_to_grant(tmp_path: Path, broker: Mosquitto) -> None:
    mqtt = {"host": broker.host, "port": broker.port, "username": NO_ACL, "password": PASSWORD}
    code, checks = doctor(write_config(tmp_path, broker, gateway=NO_ACL, mqtt=mqtt))
    assert code == 2
    assert checks["broker login"]["status"] == "ok"
    acl = checks["publish allowed (ACL)"]
    assert acl["status"] == "fail", acl
    # Mosquitto 2.0.11 on the reference settings (max_queued_messages 0 among them)
    # answers the refused QoS 1 publish with PUBACK 0x87; were it to close the connection
    # instead, the probe reports that as refused too.
    topic = f"pelangi/{SITE}/{NO_ACL}/doctor"
    assert acl["found"] == f"the broker refused the publish on {topic}: Not authorized"
    assert f"read and write pelangi/{SITE}/{NO_ACL}/#" in acl["fix"]


def test_no_collector_online_warns_and_an_hour_off_clock_fails(
    tmp_path: Path, broker: Mosquitto
) -> None:
    config = write_config(tmp_path, broker)
    code, checks = doctor(config)
    assert checks["collector online"]["status"] == "warn"
    announce_collector(broker, "pusat", ts_ns=time.time_ns() + 3600 * 10**9)
    code, checks = doctor(config)
    assert code == 2
    clock = checks["gateway clock"]
    assert clock["status"] == "fail"
    assert clock["found"] == "the gateway's clock is 1 h 0 min behind collector pusat"
    assert "timedatectl set-ntp true" in clock["fix"]


def test_tls_with_a_wrong_ca_fails_and_the_right_one_passes(
    tmp_path: Path, log_book: LogBook
) -> None:
    broker_cert = make_certificate(tmp_path / "broker-ca")
    other_ca = make_certificate(tmp_path / "other-ca")
    plain = Mosquitto(tmp_path / "tls-broker")
    tls_port = plain.port + 1 if plain.port < 65535 else plain.port - 1
    plain.extra_conf = (
        f"listener {tls_port} 127.0.0.1\n"
        f"certfile {broker_cert.cert_path}\nkeyfile {broker_cert.key_path}"
    )
    for running in served(plain, "mosquitto (tls)", log_book):
        mqtt = {"host": "127.0.0.1", "port": tls_port, "tls": {"ca_file": str(other_ca.cert_path)}}
        code, checks = doctor(write_config(tmp_path, running, mqtt=mqtt))
        assert code == 2
        tls = checks["broker TLS"]
        assert tls["status"] == "fail"
        assert "does not verify against" in tls["found"]
        assert "mqtt.tls.ca_file" in tls["fix"]
        assert checks["broker login"]["status"] == "skip"
        mqtt["tls"] = {"ca_file": str(broker_cert.cert_path)}
        _, checks = doctor(write_config(tmp_path, running, mqtt=mqtt))
        assert checks["broker TLS"]["status"] == "ok", checks["broker TLS"]
        assert checks["publish allowed (ACL)"]["status"] == "ok"


def test_devices_missing_port_unreachable_switch_and_wrong_community(
    tmp_path: Path, broker: Mosquitto, snmpd: Snmpd
) -> None:
    silent = Mosquitto(tmp_path / "unused").port  # a free port: nothing listens there
    config = write_config(
        tmp_path,
        broker,
        readers=[{"id": "rfid-lobi", "port": str(tmp_path / "ttyGONE")}],
        switches=[
            switch(snmpd.port, community="salah"),
            {**switch(silent), "id": "sw-gudang"},
        ],
    )
    code, checks = doctor(config, "--read-timeout", "1")
    assert code == 2
    port = checks[f"serial port {tmp_path / 'ttyGONE'}"]
    assert port["found"] == f"{tmp_path / 'ttyGONE'} does not exist"
    assert "/dev/serial/by-id/" in port["fix"]
    assert checks["reader rfid-lobi read"]["status"] == "skip"
    wrong = checks["switch sw-lobi SNMP"]
    assert wrong["status"] == "fail"
    assert "no SNMP answer" in wrong["found"]
    assert "community in the configuration" in wrong["fix"]
    nobody = checks["switch sw-gudang SNMP"]
    assert "nothing answers SNMP" in nobody["found"]


def as_unprivileged(config: Path) -> dict[str, dict[str, Any]]:
    """Run doctor --json as an ordinary user: as ``nobody`` when the tests run as root
    (root passes every os.access), else as ourselves."""
    program = str(Path(sys.executable).parent / "pelangi-agent")
    argv = [program, "doctor", "--config", str(config), "--json"]
    if AS_ROOT:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip(f"{ROOT_REASON}, and there is no setpriv to drop to nobody")
        argv = [setpriv, "--reuid=nobody", "--regid=nogroup", "--clear-groups", *argv]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2, done.stderr
    return {check["name"]: check for check in json.loads(done.stdout)["checks"]}


def test_a_port_without_permission_and_an_unwritable_outbox_folder(
    serial_pty: SerialPty,
) -> None:
    # Everything nobody must read lies in a folder anyone may enter (pytest's is private).
    folder = Path(tempfile.mkdtemp(prefix="pelangi-doctor-"))
    try:
        folder.chmod(0o755)
        state = folder / "state"
        state.mkdir(mode=0o555)
        device = serial_pty.device.resolve()  # /dev/pts/N, not the link in pytest's folder
        device.chmod(0)
        config = folder / "agent.yaml"
        config.write_text(
            yaml.safe_dump(
                {
                    "site": SITE,
                    "gateway": GATEWAY,
                    "mqtt": {"host": "127.0.0.1", "port": 1},
                    "state_dir": str(state),
                    "readers": [{"id": "rfid-lobi", "port": str(device)}],
                }
            )
        )
        config.chmod(0o644)
        checks = as_unprivileged(config)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    port = checks[f"serial port {device}"]
    assert port["status"] == "fail", port
    assert "may not read and write it" in port["found"]
    assert "dialout" in port["fix"]
    assert "sudo usermod -aG" in port["fix"]
    outbox = checks["outbox folder"]
    assert outbox["found"].startswith(f"{state} is not writable by this user")
    assert "sudo chown -R" in outbox["fix"]


def hold_card(pty: SerialPty, worker: threading.Thread) -> None:
    """A card held on the reader at ``pty`` until ``worker`` (doctor reading it) is done.

    The frame repeats, as an RDM6300's does: pyserial empties the input buffer right
    after it opens the port, so a single frame written just then may be dropped.
    """
    wait_until(lambda: pty.is_open_by(os.getpid()), timeout=20, what="doctor opens the port")

    def read() -> bool:
        pty.write(b"\x0262E3086CED08\x03")
        return not worker.is_alive()

    wait_until(read, timeout=20, what="doctor read the card")


def test_a_read_decodes_a_card_and_silence_is_a_warning(
    make_pty: Callable[[str], SerialPty],
) -> None:
    pty = make_pty("ttyRFID0")
    reader = ReaderSettings(id="rfid-lobi", port=str(pty.device))
    found: list[Any] = []
    worker = threading.Thread(target=lambda: found.append(read_card(reader, 10.0)))
    worker.start()
    hold_card(pty, worker)
    assert found[0].status == "ok"
    assert "from" in found[0].found
    # Another reader for the silence: frames still on their way from the held card could
    # reach a second open of the first one.
    quiet = ReaderSettings(id="rfid-gudang", port=str(make_pty("ttyRFID1").device))
    silent = read_card(quiet, 0.3)
    assert silent.status == "warn"
    assert "hold a card on the reader" in silent.fix


def test_an_invalid_file_and_an_unreachable_broker_are_printed_with_their_fixes(
    tmp_path: Path,
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("site: bukit-pelangi\n")
    printed = runner.invoke(app, ["doctor", "--config", str(bad)])
    assert printed.exit_code == 2
    assert printed.stdout.splitlines() == [
        f"✗ config valid: {bad}: gateway: required key is missing",
        (
            f"  fix: correct the file (pelangi-agent validate --config {bad} shows each problem); "
            "the other checks need a valid configuration"
        ),
        "0 passed, 0 warning(s), 1 failed, 0 skipped (exit status 2)",
    ]
    nowhere = Mosquitto(tmp_path / "unused")  # a free port, nothing listening
    config = write_config(tmp_path, nowhere)
    code, checks = doctor(config)
    assert code == 2
    assert "connection refused" in checks["broker reachable"]["found"]
    assert "systemctl status mosquitto" in checks["broker reachable"]["fix"]
    assert checks["gateway clock"]["found"] == (
        "skipped: needs 'publish allowed (ACL)', which could not run"
    )
    unknown = runner.invoke(app, ["doctor", "--config", str(config), "--reader", "nope"])
    assert unknown.exit_code == 2
    assert "no reader 'nope'" in unknown.stdout


def test_read_timeout_reads_a_card_from_the_chosen_reader_only(
    tmp_path: Path, make_pty: Callable[[str], SerialPty]
) -> None:
    lobby, store = make_pty("ttyLOBI"), make_pty("ttyGUDANG")
    readers = [
        {"id": "rfid-lobi", "port": str(lobby.device)},
        {"id": "rfid-gudang", "port": str(store.device)},
    ]
    config = write_config(tmp_path, Mosquitto(tmp_path / "unused"), readers=readers)
    outcome: list[tuple[int, dict[str, dict[str, Any]]]] = []
    args = ("--read-timeout", "20", "--reader", "rfid-lobi")
    worker = threading.Thread(target=lambda: outcome.append(doctor(config, *args)))
    worker.start()
    hold_card(lobby, worker)
    _, checks = outcome[0]
    assert checks["reader rfid-lobi read"]["status"] == "ok"
    assert "reader rfid-gudang read" not in checks
