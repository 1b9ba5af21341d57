"""``pelangi-agent test-read``: cards from a pty reader, and ports that cannot be opened."""

from __future__ import annotations

import errno
import json
import os
import threading
from contextlib import contextmanager
from typing import TYPE_CHECKING

import serial
from typer.testing import CliRunner

from edge_agent.cli import app
from edge_agent.toolkit.portopen import explain
from sandbox.card_frames import card_printed, card_uid, hold_card, rdm6300_frame
from sandbox.waiting import wait_until

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from sandbox.servers import SerialPty

runner = CliRunner()
TAGS = ("01001293D8", "0162E3086C")


def _config(tmp_path: Path, port: str) -> Path:
    path = tmp_path / "agent.yaml"
    path.write_text(
        f"site: s\ngateway: g\nreaders:\n  - id: rfid-lobby\n    port: {port}\n"
        "    hold_gap_ms: 300\n",
        encoding="utf-8",
    )
    return path


@contextmanager
def _tapping(pty: SerialPty, tags: tuple[str, ...]) -> Iterator[None]:
    """While the body runs, tap each card (held 0.3 s) once the port is open."""

    def taps() -> None:
        wait_until(lambda: pty.is_open_by(os.getpid()), timeout=10, what="test-read opens")
        for tag in tags:
            hold_card(pty.write, rdm6300_frame(tag), seconds=0.3)
            # Away from the reader for longer than the hold gap: the next is a new tap.
            threading.Event().wait(0.5)

    thread = threading.Thread(target=taps)
    thread.start()
    try:
        yield
    finally:
        thread.join()


def test_cards_are_printed_as_they_are_tapped(tmp_path: Path, serial_pty: SerialPty) -> None:
    config = _config(tmp_path, str(serial_pty.device))
    with _tapping(serial_pty, TAGS):
        result = runner.invoke(
            app, ["test-read", "rfid-lobby", "-c", str(config), "--count", "2", "--timeout", "20"]
        )
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if "uid" in line]
    assert len(lines) == 2  # a held card repeats its frame, but is one tap
    for line, tag in zip(lines, TAGS, strict=True):
        assert f"uid {card_uid(tag)}" in line
        assert f"printed {card_printed(tag)}" in line


def test_json_gives_each_card(tmp_path: Path, serial_pty: SerialPty) -> None:
    config = _config(tmp_path, str(serial_pty.device))
    with _tapping(serial_pty, TAGS[:1]):
        result = runner.invoke(
            app, ["test-read", "rfid-lobby", "-c", str(config), "--timeout", "20", "--json"]
        )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert [card["uid"] for card in document["cards"]] == [card_uid(TAGS[0])]
    assert document["cards"][0]["wiegand26"] == "018,37848"


def test_no_card_within_the_timeout_says_what_to_check(
    tmp_path: Path, serial_pty: SerialPty
) -> None:
    config = _config(tmp_path, str(serial_pty.device))
    result = runner.invoke(app, ["test-read", "rfid-lobby", "-c", str(config), "--timeout", "0.5"])
    assert result.exit_code == 1
    assert "no card read" in result.stderr
    assert "fix:" in result.stderr


def test_missing_port_says_check_the_cable(tmp_path: Path) -> None:
    config = _config(tmp_path, str(tmp_path / "ttyGONE"))
    result = runner.invoke(app, ["test-read", "rfid-lobby", "-c", str(config)])
    assert result.exit_code == 1
    assert "does not exist" in result.stderr
    assert "cable" in result.stderr
    assert "Traceback" not in result.output


def test_busy_port_says_stop_the_agent(tmp_path: Path, serial_pty: SerialPty) -> None:
    config = _config(tmp_path, str(serial_pty.device))
    with serial.Serial(str(serial_pty.device), exclusive=True):  # the agent holding it
        result = runner.invoke(app, ["test-read", "rfid-lobby", "-c", str(config)])
    assert result.exit_code == 1
    assert "busy" in result.stderr
    assert "systemctl stop pelangi-agent" in result.stderr


def test_unknown_reader_names_the_configured_ones(tmp_path: Path) -> None:
    config = _config(tmp_path, "/dev/ttyUSB9")
    result = runner.invoke(app, ["test-read", "rfid-aula", "-c", str(config)])
    assert result.exit_code == 1
    assert "readers: rfid-lobby" in result.stderr


def test_permission_denied_says_dialout() -> None:
    # The suite runs as root, where EACCES cannot happen on a real port: the words are checked here.
    problem = explain("/dev/ttyUSB0", serial.SerialException(errno.EACCES, "could not open port"))
    assert "no permission" in problem.message
    assert "usermod -aG dialout pelangi" in problem.fix
