"""``--version`` of both programs, run as installed (console scripts), from pyproject's version."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

PYPROJECT = Path(__file__).parent.parent / "pyproject.toml"


@pytest.mark.parametrize("program", ["pelangi-agent", "pelangi-collector"])
def test_version_needs_no_configuration(program: str) -> None:
    wanted = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]["version"]
    done = subprocess.run(
        [str(Path(sys.executable).parent / program), "--version"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{program} {wanted}\n"
