"""``pelangi-agent install-service`` into a temporary root: the real useradd (``--prefix``).

The tree holds the files useradd needs (passwd, group, shadow, gshadow); the unit it
writes is checked by systemd-analyze in tests/test_systemd_units.py's way.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest
import yaml
from typer.testing import CliRunner

from edge_agent.cli import app

if TYPE_CHECKING:
    from pathlib import Path

as_root = pytest.mark.skipif(
    os.geteuid() != 0, reason="useradd and chown to the service's group need root"
)
CONFIG = {
    "site": "bukit-pelangi",
    "gateway": "gw-1",
    "readers": [{"id": "r1", "kind": "rdm6300", "port": "/dev/ttyS0"}],
    "doors": [
        {"id": "d1", "source": "gpio", "chip": "/dev/gpiochip0", "line": 3},
        {"id": "d2", "source": "serial", "port": "/dev/serial/by-id/usb-FTDI-if00"},
    ],
}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A system tree with dialout, no pelangi user, and the agent's configuration."""
    etc = tmp_path / "etc"
    (etc / "pelangi").mkdir(parents=True)
    (etc / "passwd").write_text("root:x:0:0:root:/root:/bin/bash\n", encoding="utf-8")
    (etc / "group").write_text("root:x:0:\ndialout:x:20:\n", encoding="utf-8")
    (etc / "shadow").write_text("root:*:19000:0:99999:7:::\n", encoding="utf-8")
    (etc / "gshadow").write_text("root:*::\ndialout:*::\n", encoding="utf-8")
    (etc / "pelangi" / "agent.yaml").write_text(yaml.safe_dump(CONFIG), encoding="utf-8")
    (etc / "pelangi" / "agent.yaml").chmod(0o644)
    return tmp_path


def _install(root: Path, *extra: str) -> str:
    result = CliRunner().invoke(
        app, ["install-service", "--root", str(root), "--program", "/opt/p/pelangi-agent", *extra]
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_dry_run_prints_every_change_and_makes_none(root: Path) -> None:
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    output = _install(root, "--dry-run")
    assert "would write unit" in output
    assert "+DeviceAllow=/dev/ttyS0 rw" in output  # the unit's text, as a diff
    assert "would create system user pelangi in group dialout (useradd --system" in output
    assert "would make config" in output
    assert "dry run: 3 change(s) not made" in output
    assert {p: p.read_bytes() for p in root.rglob("*") if p.is_file()} == before
    assert not (root / "etc" / "systemd").exists()


@as_root
def test_installs_then_changes_nothing_the_second_time(root: Path) -> None:
    output = _install(root)
    assert "done: write unit" in output
    assert "next: systemctl daemon-reload" in output
    unit = (root / "etc/systemd/system/pelangi-agent.service").read_text(encoding="utf-8")
    devices = [line for line in unit.splitlines() if line.startswith("DeviceAllow=")]
    # The by-id link does not resolve in this tree: both USB serial classes.
    assert devices == [
        "DeviceAllow=/dev/ttyS0 rw",
        "DeviceAllow=char-ttyUSB rw",
        "DeviceAllow=char-ttyACM rw",
        "DeviceAllow=/dev/gpiochip0 rw",
    ]
    assert "ExecStart=/opt/p/pelangi-agent run --config /etc/pelangi/agent.yaml" in unit
    assert "StateDirectory=pelangi-agent" in unit
    passwd = (root / "etc/passwd").read_text(encoding="utf-8")
    assert "pelangi:x:" in passwd
    assert ":/usr/sbin/nologin" in passwd
    assert "dialout:x:20:pelangi" in (root / "etc/group").read_text(encoding="utf-8")
    assert (root / "etc/pelangi/agent.yaml").stat().st_mode & 0o777 == 0o640

    again = _install(root)
    assert "done:" not in again
    assert again.count("unchanged:") == 3
    assert "nothing to change" in again


@as_root
def test_an_existing_user_is_added_to_dialout(root: Path) -> None:
    with (root / "etc/passwd").open("a", encoding="utf-8") as passwd:
        passwd.write("pelangi:x:990:990::/var/lib/pelangi:/usr/sbin/nologin\n")
    with (root / "etc/group").open("a", encoding="utf-8") as group:
        group.write("pelangi:x:990:\n")
    output = _install(root)
    assert "add user pelangi to group dialout (usermod --append --groups dialout" in output
    assert "dialout:x:20:pelangi" in (root / "etc/group").read_text(encoding="utf-8")


@as_root
def test_an_outbox_outside_var_lib_is_the_only_writable_path(root: Path) -> None:
    config = {**CONFIG, "state_dir": "/srv/pelangi"}
    (root / "etc/pelangi/agent.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    _install(root)
    unit = (root / "etc/systemd/system/pelangi-agent.service").read_text(encoding="utf-8")
    assert "StateDirectory=" not in unit
    assert "ReadWritePaths=/srv/pelangi" in unit


def test_no_configuration_says_how_to_make_one(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["install-service", "--root", str(tmp_path)])
    assert result.exit_code == 1
    assert "no configuration at" in result.output
    assert "fix: write one first: pelangi-agent init" in result.output
