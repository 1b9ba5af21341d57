"""``pelangi-agent snmp-check``: one poll of a real snmpd, and the ways it can fail."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from typer.testing import CliRunner

from edge_agent.cli import app
from sandbox.servers.base import free_port
from sandbox.snmpd import COMMUNITY, Snmpd

if TYPE_CHECKING:
    from pathlib import Path

runner = CliRunner()


def _config(tmp_path: Path, agent: Snmpd, community: str = COMMUNITY) -> Path:
    path = tmp_path / "agent.yaml"
    path.write_text(
        "site: s\ngateway: g\nswitches:\n"
        f"  - id: sw-lantai1\n    host: {agent.host}\n    port: {agent.port}\n"
        f"    community: {community}\n",
        encoding="utf-8",
    )
    return path


def test_a_configured_switch_prints_its_ports(tmp_path: Path, snmpd: Snmpd) -> None:
    result = runner.invoke(app, ["snmp-check", "sw-lantai1", "-c", str(_config(tmp_path, snmpd))])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert snmpd.sys_name in lines[0]
    assert lines[1].split()[:3] == ["ifIndex", "name", "alias"]
    loopback = next(line.split() for line in lines[2:] if " lo " in f" {line} ")
    assert loopback[0] == "1"
    assert "up" in loopback


def test_a_host_with_community_as_json(snmpd: Snmpd) -> None:
    result = runner.invoke(app, ["snmp-check", snmpd.address, "--community", COMMUNITY, "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["sys_name"] == snmpd.sys_name
    names = {row["name"]: row for row in document["interfaces"]}
    assert names["lo"]["oper"] == "up"
    assert names["lo"]["in_octets"] >= 0


def test_wrong_community_is_said_with_the_fix(tmp_path: Path, snmpd: Snmpd) -> None:
    config = _config(tmp_path, snmpd, community="wrong")
    result = runner.invoke(app, ["snmp-check", "sw-lantai1", "-c", str(config), "--timeout", "0.3"])
    assert result.exit_code == 1
    assert f"no SNMP answer from {snmpd.address}" in result.stderr
    assert "wrong community" in result.stderr
    assert "Traceback" not in result.output


def test_nothing_listening_is_told_apart_from_a_wrong_community() -> None:
    address = f"127.0.0.1:{free_port('udp')}"
    result = runner.invoke(
        app, ["snmp-check", address, "--community", "public", "--timeout", "0.3"]
    )
    assert result.exit_code == 1
    assert f"nothing listens for SNMP at {address}" in result.stderr
    assert "enable SNMP" in result.stderr


def test_a_host_without_community_needs_a_config(tmp_path: Path) -> None:
    result = runner.invoke(app, ["snmp-check", "10.0.0.2", "-c", str(tmp_path / "none.yaml")])
    assert result.exit_code == 1
    assert "--community" in result.stderr


def test_an_unknown_switch_names_the_configured_ones(tmp_path: Path) -> None:
    agent = Snmpd(tmp_path / "unused")  # never started: only its address goes in the file
    result = runner.invoke(app, ["snmp-check", "sw-x", "-c", str(_config(tmp_path, agent))])
    assert result.exit_code == 1
    assert "switches: sw-lantai1" in result.stderr


def test_rates_from_two_polls_with_the_agents_rate_maths(snmpd: Snmpd) -> None:
    base = ["snmp-check", snmpd.address, "--community", COMMUNITY, "--rates", "1"]
    document = json.loads(runner.invoke(app, [*base, "--json"]).stdout)
    loopback = next(row for row in document["interfaces"] if row["name"] == "lo")
    # A rate was computed (snmpd caches its counters for a few seconds, so it may be 0).
    assert loopback["in_bps"] is not None
    assert loopback["in_bps"] >= 0
    table = runner.invoke(app, base)
    assert table.exit_code == 0, table.output
    assert table.stdout.splitlines()[1].split()[-4:] == ["in", "b/s", "out", "b/s"]
