"""``pelangi-agent init``: the flags' grammar, the file it writes, and the wizard on a pty."""

from __future__ import annotations

import stat
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from edge_agent.cli import app
from edge_agent.config import AgentSettings
from edge_agent.toolkit.init.builder import (
    InitError,
    parse_broker,
    parse_door,
    parse_reader,
    parse_switch,
)
from edge_agent.toolkit.init.ports import by_id_links
from pelangi.configfile import load
from sandbox.card_frames import rdm6300_frame
from sandbox.terminal import Terminal
from sandbox.waiting import wait_until

if TYPE_CHECKING:
    from sandbox.servers import SerialPty

runner = CliRunner()
AGENT = str(Path(sys.executable).with_name("pelangi-agent"))
FLAGS = [
    "--non-interactive",
    "--site=bukit-pelangi",
    "--gateway=gw-aula",
    "--broker=mqtts://broker.example",
    "--username=gw-aula",
    "--password=S3cret-pass",
    "--ca-file=/etc/pelangi/ca.pem",
    "--reader=rfid-aula=/dev/serial/by-id/usb-FTDI-if00-port0:rdm6300:9600",
    "--reader=rfid-lobby=/dev/ttyUSB1:wiegand26",
    "--door=pintu-utama=gpio:17:low",
    "--door=pintu-server=serial:/dev/ttyACM0:d2",
    "--door=pintu-rapat=zigbee2mqtt:zigbee2mqtt/pintu-rapat",
    "--switch=sw-lantai1=10.0.0.2:rahasia",
]


def test_flags_write_a_valid_private_config(tmp_path: Path) -> None:
    output = tmp_path / "etc" / "agent.yaml"
    result = runner.invoke(app, ["init", "-o", str(output), *FLAGS])
    assert result.exit_code == 0, result.output
    settings = load(output, AgentSettings)
    assert (settings.site, settings.gateway) == ("bukit-pelangi", "gw-aula")
    assert (settings.mqtt.host, settings.mqtt.port, settings.mqtt.username) == (
        "broker.example",
        8883,
        "gw-aula",
    )
    assert settings.mqtt.password is not None
    assert settings.mqtt.password.get_secret_value() == "S3cret-pass"
    assert settings.mqtt.tls is not None
    assert str(settings.mqtt.tls.ca_file) == "/etc/pelangi/ca.pem"
    assert [(r.id, r.kind, r.text_format) for r in settings.readers] == [
        ("rfid-aula", "rdm6300", "auto"),
        ("rfid-lobby", "text", "wiegand26"),
    ]
    assert [d.source for d in settings.doors] == ["gpio", "serial", "zigbee2mqtt"]
    assert settings.switches[0].community is not None
    assert settings.switches[0].community.get_secret_value() == "rahasia"
    assert stat.S_IMODE(output.stat().st_mode) == 0o640  # it holds the broker password
    assert list(output.parent.iterdir()) == [output]  # no temporary file left behind
    for step in ("pelangi-agent validate", "pelangi-agent doctor", "install-service"):
        assert step in result.stdout
    assert runner.invoke(app, ["validate", "-c", str(output)]).exit_code == 0


def test_an_existing_file_is_kept_unless_forced(tmp_path: Path) -> None:
    output = tmp_path / "agent.yaml"
    output.write_text("precious: true\n", encoding="utf-8")
    result = runner.invoke(app, ["init", "-o", str(output), *FLAGS])
    assert result.exit_code == 1
    assert "already exists" in result.stderr
    assert "--force" in result.stderr
    assert output.read_text(encoding="utf-8") == "precious: true\n"
    forced = runner.invoke(app, ["init", "-o", str(output), "--force", *FLAGS])
    assert forced.exit_code == 0, forced.output
    assert load(output, AgentSettings).gateway == "gw-aula"


@pytest.mark.parametrize(
    ("flags", "said"),
    [
        (["--site=bukit pelangi", "--gateway=g"], "site"),
        (["--site=s", "--gateway=g", "--reader=r1=/dev/a", "--reader=r1=/dev/b"], "used twice"),
        (["--site=s", "--gateway=g", "--broker=http://x"], "not a broker URL"),
        (["--site=s", "--gateway=g", "--reader=r1"], "ID=PORT"),
        (["--site=s"], "needs --site and --gateway"),
    ],
)
def test_bad_flags_are_refused_and_nothing_written(
    tmp_path: Path, flags: list[str], said: str
) -> None:
    output = tmp_path / "agent.yaml"
    result = runner.invoke(app, ["init", "-o", str(output), "--non-interactive", *flags])
    assert result.exit_code == 1
    assert said in result.stderr
    assert "fix:" in result.stderr
    assert not output.exists()


def test_flag_grammar() -> None:
    assert parse_broker("mqtt://10.0.0.1").port == 1883
    assert parse_broker("broker:1884").port == 1884
    assert parse_broker("mqtts://b:9999").tls
    assert parse_reader("r=/dev/ttyUSB0") == {"id": "r", "kind": "rdm6300", "port": "/dev/ttyUSB0"}
    assert parse_reader("r=/dev/x:hex8:19200") == {
        "id": "r",
        "kind": "text",
        "port": "/dev/x",
        "text_format": "hex8",
        "baudrate": 19200,
    }
    assert parse_door("d=gpio:5") == {"id": "d", "source": "gpio", "line": 5}
    assert parse_switch("s=10.0.0.2")["community"] == "public"
    for bad in ("r=/dev/x:rdm6300:fast", "=x", "r="):
        with pytest.raises(InitError, match="--reader"):
            parse_reader(bad)
    with pytest.raises(InitError, match="--door"):
        parse_door("d=gpio:seventeen")
    with pytest.raises(InitError, match="--switch"):
        parse_switch("s=a:b:c")


def test_by_id_links_map_devices_to_their_stable_names(tmp_path: Path) -> None:
    device = tmp_path / "ttyUSB0"
    device.touch()
    (tmp_path / "by-id").mkdir()
    link = tmp_path / "by-id" / "usb-FTDI_FT232R-if00-port0"
    link.symlink_to(device)
    assert by_id_links(tmp_path / "by-id") == {str(device): str(link)}
    assert by_id_links(tmp_path / "missing") == {}


def test_prompts_take_typed_answers_and_reask_bad_ones(tmp_path: Path) -> None:
    output = tmp_path / "agent.yaml"
    answers = ["bad id!", "kantor", "gw-1", "mqtt://10.0.0.5", "", ""]  # site .. password
    answers += ["n", "y", "", "gpio", "4", "high", "n", "n", ""]  # no reader, a door, no switch
    typed = "\n".join(answers)
    result = runner.invoke(app, ["init", "-o", str(output)], input=typed)
    assert result.exit_code == 0, result.output
    assert "letters, digits" in result.output  # "bad id!" was asked again
    settings = load(output, AgentSettings)
    assert (settings.site, settings.gateway, settings.mqtt.host) == ("kantor", "gw-1", "10.0.0.5")
    assert settings.mqtt.username == "gw-1"  # the default: the gateway's id
    assert [(d.id, d.source) for d in settings.doors] == [("pintu-1", "gpio")]


def test_the_wizard_on_a_terminal_sniffs_the_reader(tmp_path: Path, serial_pty: SerialPty) -> None:
    output = tmp_path / "agent.yaml"
    terminal = Terminal(
        [AGENT, "init", "-o", str(output), "--sniff-seconds", "10"],
        env={"NO_COLOR": "1", "COLUMNS": "200"},
    )
    try:
        terminal.answer_all(
            ("Site id", "bukit-pelangi"),
            ("Gateway id", "gw-aula"),
            ("Broker URL", "mqtts://broker.example:8883"),
            ("Broker username", ""),
            ("Broker password", "S3cret-pass"),
            ("CA file", ""),
            ("Add a card reader?", "y"),
            ("Reader id", "rfid-aula"),
            ("Serial port", str(serial_pty.device)),
            ("Sniff this port?", "y"),
        )
        terminal.expect("trying 9600 baud")
        frame = rdm6300_frame("01001293D8")

        def card_held_until_shown() -> bool:
            # A held card repeats its frame; bytes sent before the port opens are lost.
            serial_pty.write(frame)
            return terminal.shows("card 001293D8")

        wait_until(card_held_until_shown, timeout=15, interval=0.1, what="the card is shown")
        assert "rdm6300 at 9600 baud" in terminal.expect("card 001293D8")
        terminal.answer_all(
            ("Reader kind", ""),  # the sniffed kind and rate are the defaults
            ("Baud rate", ""),
            ("Add another card reader?", "n"),
            ("Add a door?", "n"),
            ("Add a switch?", "y"),
            ("Switch id", ""),
            ("Switch management address", "10.0.0.2"),
            ("SNMP v2c community", ""),
            ("Add another switch?", "n"),
        )
        assert terminal.wait() == 0, terminal.output
    finally:
        terminal.close()
    assert "S3cret-pass" not in terminal.output  # typed, never echoed
    assert f"wrote {output}" in terminal.output
    settings = load(output, AgentSettings)
    reader = settings.readers[0]
    assert (reader.kind, reader.baudrate, reader.port) == ("rdm6300", 9600, str(serial_pty.device))
    assert settings.mqtt.username == "gw-aula"
    assert settings.switches[0].id == "sw-1"
    assert output.stat().st_mode & 0o007 == 0


@given(st.text(max_size=60))
def test_any_flag_text_parses_or_is_refused_in_words(text: str) -> None:
    refusals = []
    for parse in (parse_broker, parse_reader, parse_door, parse_switch):
        try:
            parse(text)
        except InitError as exc:  # the only error allowed
            refusals.append(str(exc))
    assert all(refusals)
