"""The shared terminal output: plain text in a pipe, JSON for scripts, failures in words."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import typer

from pelangi.console import emit_json, fail, table

if TYPE_CHECKING:
    from pathlib import Path

    import pytest


def test_a_table_in_a_pipe_is_aligned_text_without_markup(
    capsys: pytest.CaptureFixture[str],
) -> None:
    table(["port", "state"], [["ge-0/0/1", "up"], ["[uplink]", "down"]], title="sw-core")
    assert capsys.readouterr().out.splitlines() == [
        "sw-core",
        "port      state",
        "ge-0/0/1  up",
        "[uplink]  down",
    ]


def test_json_is_one_document_with_paths_as_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    emit_json({"path": tmp_path, "ok": True})
    assert json.loads(capsys.readouterr().out) == {"ok": True, "path": str(tmp_path)}


def test_a_failure_says_what_and_the_fix_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    exit_ = fail("cannot open /dev/ttyUSB0 [busy]", "stop the other program", code=2)
    assert isinstance(exit_, typer.Exit)
    assert exit_.exit_code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [
        "error: cannot open /dev/ttyUSB0 [busy]",
        "fix: stop the other program",
    ]
