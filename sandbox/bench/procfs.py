"""What Linux's ``/proc`` says about a running process: its memory and its CPU time.

The benchmarks measure the agent and the collector as child processes, from outside, the
way an operator's tools would; both read these two files.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from sandbox.processes import SandboxError


def _read(pid: int, name: str) -> str:
    path = Path(f"/proc/{pid}/{name}")
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SandboxError(f"cannot read {path} (has process {pid} ended?): {exc}") from exc


def status_kib(pid: int, key: str) -> int | None:
    """A ``kB`` figure of ``/proc/<pid>/status`` (``VmRSS``, ``VmHWM``...); None if absent.

    A process that has exited but is not reaped yet has no ``Vm*`` lines.

    Raises:
        SandboxError: there is no such process.
    """
    match = re.search(rf"^{key}:\s+(\d+) kB", _read(pid, "status"), flags=re.MULTILINE)
    return int(match.group(1)) if match else None


def cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) the process has used so far, from ``/proc/<pid>/stat``.

    Raises:
        SandboxError: there is no such process.
    """
    # Fields after the command name (which may contain spaces) start at state (field 3).
    fields = _read(pid, "stat").rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
