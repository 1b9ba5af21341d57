"""The systemd units: the shipped ones and the agent's rendered one, checked by systemd itself.

``systemd-analyze verify`` and ``systemd-analyze security --offline=yes`` (Debian's systemd
package, installed by ``make deps``) work on unit files without systemd running. verify
insists that ExecStart's program exists: the checked copies point at this virtualenv.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from edge_agent.cli import app
from edge_agent.toolkit.unitfile import SHIPPED, UnitSpec, device_rules, render, state_directory

UNITS = Path(__file__).parent.parent / "config" / "systemd"
TARGET = 4.0
"""The issue's target exposure for the agent's and the collector's units (8.5 before)."""
VENV_BIN = str(Path(sys.executable).parent)
ANALYZE = shutil.which("systemd-analyze")
needs_analyze = pytest.mark.skipif(
    ANALYZE is None, reason="systemd-analyze is not installed (Debian package systemd)"
)


def _checkable(unit: Path, folder: Path) -> Path:
    """A copy of ``unit`` whose programs are this virtualenv's (verify wants them to exist)."""
    copy = folder / unit.name
    text = unit.read_text(encoding="utf-8").replace("/opt/pelangi/.venv/bin", VENV_BIN)
    copy.write_text(text, encoding="utf-8")
    return copy


def _exposure(unit: Path) -> float:
    assert ANALYZE is not None
    done = subprocess.run(
        [ANALYZE, "security", "--offline=yes", "--no-pager", str(unit)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    found = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", done.stdout)
    assert found, done.stdout + done.stderr
    return float(found.group(1))


def _verify(unit: Path) -> None:
    assert ANALYZE is not None
    done = subprocess.run(
        [ANALYZE, "verify", "--no-pager", str(unit)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert not done.stderr.strip(), done.stderr


def test_the_shipped_agent_unit_is_the_renderers() -> None:
    shipped = (UNITS / "pelangi-agent.service").read_text(encoding="utf-8")
    assert shipped == render(SHIPPED), "re-render it: config/systemd/pelangi-agent.service"


def test_rendered_unit_allows_exactly_the_configured_devices() -> None:
    rules = device_rules(
        ["/dev/ttyS0", "/dev/serial/by-id/usb-FTDI-port0", "/dev/gpiochip0", "/dev/ttyS0"],
        {"/dev/serial/by-id/usb-FTDI-port0": "ttyUSB3"},
    )
    # A by-id link may point at another node after re-plugging: its class, not the node.
    assert rules == ("/dev/ttyS0 rw", "char-ttyUSB rw", "/dev/gpiochip0 rw")
    assert device_rules(["/dev/serial/by-path/x"], {}) == ("char-ttyUSB rw", "char-ttyACM rw")
    text = render(UnitSpec(program="/p/pelangi-agent", config="/c.yaml", devices=rules))
    assert "DevicePolicy=closed" in text
    assert [line for line in text.splitlines() if line.startswith("DeviceAllow=")] == [
        f"DeviceAllow={rule}" for rule in rules
    ]
    assert "ExecStart=/p/pelangi-agent run --config /c.yaml" in text
    assert "Restart=on-failure" in text


def test_state_directory_only_under_var_lib() -> None:
    assert state_directory("/var/lib/pelangi") == "pelangi"
    assert state_directory("/var/lib/pelangi/agent") == "pelangi/agent"
    assert state_directory("/srv/pelangi") is None
    spec = UnitSpec(program="/p", config="/c", state_directory=None, read_write_paths=("/srv/x",))
    text = render(spec)
    assert "StateDirectory=" not in text
    assert "ReadWritePaths=/srv/x" in text


@needs_analyze
@pytest.mark.parametrize("name", sorted(p.name for p in UNITS.glob("*.service")))
def test_shipped_units_verify(name: str, tmp_path: Path) -> None:
    _verify(_checkable(UNITS / name, tmp_path))


@needs_analyze
@pytest.mark.parametrize("name", ["pelangi-agent.service", "pelangi-collector@.service"])
def test_shipped_units_score_at_most_the_target(name: str, tmp_path: Path) -> None:
    assert _exposure(_checkable(UNITS / name, tmp_path)) <= TARGET


@needs_analyze
def test_rendered_unit_verifies_and_scores(tmp_path: Path) -> None:
    spec = UnitSpec(
        program=f"{VENV_BIN}/pelangi-agent",
        config="/etc/pelangi/agent.yaml",
        devices=device_rules(["/dev/ttyUSB0", "/dev/gpiochip0"], {}),
    )
    unit = tmp_path / "pelangi-agent.service"
    unit.write_text(render(spec), encoding="utf-8")
    _verify(unit)
    assert _exposure(unit) <= TARGET


@needs_analyze
@pytest.mark.skipif(os.geteuid() != 0, reason="chown to the service's group needs root")
def test_the_unit_install_service_writes_verifies_and_scores(tmp_path: Path) -> None:
    etc = tmp_path / "etc"
    (etc / "pelangi").mkdir(parents=True)
    (etc / "passwd").write_text("pelangi:x:990:990::/:/usr/sbin/nologin\n", encoding="utf-8")
    (etc / "group").write_text("dialout:x:20:pelangi\npelangi:x:990:\n", encoding="utf-8")
    config = "site: s\ngateway: g\nreaders: [{id: r1, port: /dev/ttyUSB0}]\n"
    (etc / "pelangi" / "agent.yaml").write_text(config, encoding="utf-8")
    args = ["install-service", "--root", str(tmp_path), "--program", f"{VENV_BIN}/pelangi-agent"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    unit = etc / "systemd" / "system" / "pelangi-agent.service"
    assert "DeviceAllow=/dev/ttyUSB0 rw" in unit.read_text(encoding="utf-8")
    _verify(unit)
    assert _exposure(unit) <= TARGET
