"""Where a benchmark ran, and whether anything else kept the machine busy meanwhile.

:func:`describe_machine` records the CPUs, memory, Python, server versions and the commit
a result was measured with, and whether the tree was clean (:class:`Machine`, written
into every results file: a figure from a dirty tree belongs to no commit);
:class:`CpuWatch` measures the CPU that *other* processes used during a run
(:class:`Background`), so a reader can tell disturbed figures from real ones.
"""

from __future__ import annotations

import os
import platform
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Self

from sandbox.processes import SandboxError, find_program


@dataclass(frozen=True, slots=True)
class Machine:
    """Where a benchmark ran."""

    hostname: str
    nproc: int
    cpu_model: str
    memory_gib: float
    python: str
    platform: str
    versions: dict[str, str] = field(default_factory=dict)
    commit: str = "unknown"
    """The full commit id (``git rev-parse HEAD``), or ``unknown`` outside a checkout."""
    clean: bool | None = None
    """Whether the tree matched the commit (None: not known); see :data:`RESULTS_PATHSPEC`."""
    changes: tuple[str, ...] = ()
    """``git status --porcelain`` lines of a dirty tree (the first :data:`MAX_CHANGES`)."""

    @property
    def revision(self) -> str:
        """The commit in one phrase for people, saying loudly when the tree was not clean."""
        if self.clean is True:
            return f"{self.commit} (clean tree)"
        if self.clean is False:
            return f"{self.commit} + UNCOMMITTED CHANGES ({len(self.changes)} paths)"
        return f"{self.commit} (tree state unknown)"

    def dirty_warning(self) -> str | None:
        """A one-line warning when these figures cannot be tied to a commit, else None."""
        if self.clean is True:
            return None
        if self.clean is False:
            listed = ", ".join(line[3:] for line in self.changes[:5])
            more = f" and {len(self.changes) - 5} more" if len(self.changes) > 5 else ""
            return (
                f"DIRTY TREE: measured on {self.commit} with uncommitted changes "
                f"({listed}{more}); these figures belong to no commit"
            )
        return "COMMIT UNKNOWN: not measured in a git checkout; these figures belong to no commit"


# -- the machine -------------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        for text_line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if text_line.startswith("model name"):
                return text_line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> float:
    try:
        for text_line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if text_line.startswith("MemTotal:"):
                return int(text_line.split()[1]) / 1024 / 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0.0


def _first_line_of(argv: list[str]) -> str:
    """The first non-empty output line of a version command, or why there is none."""
    try:
        argv = [find_program(argv[0]), *argv[1:]]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
    except (SandboxError, OSError, subprocess.TimeoutExpired) as exc:
        return f"unavailable ({exc.__class__.__name__})"
    for text_line in (done.stdout + done.stderr).splitlines():
        if text_line.strip():
            return text_line.strip()
    return "unknown"


RESULTS_PATHSPEC: Final = ":(exclude)bench/results"
"""The results files are the benchmark's output, not its input: changes there do not count."""
MAX_CHANGES: Final = 50


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, timeout=10, check=True
    ).stdout


def _git_state(repo: Path) -> tuple[str, bool | None, tuple[str, ...]]:
    """``(full commit id, clean, porcelain lines)``; untracked files count as changes."""
    try:
        commit = _git(repo, "rev-parse", "HEAD").strip()
        status = _git(repo, "status", "--porcelain", "--", ".", RESULTS_PATHSPEC)
    except (OSError, subprocess.SubprocessError):
        return "unknown", None, ()
    changes = tuple(line for line in status.splitlines() if line.strip())
    return commit, not changes, changes[:MAX_CHANGES]


def describe_machine(repo: Path, programs: dict[str, list[str]] | None = None) -> Machine:
    """Describe this machine: CPUs available to us, memory, Python, server versions, commit.

    Args:
        repo: the checkout whose commit is recorded.
        programs: label -> version command (e.g. ``{"mosquitto": ["mosquitto", "-h"]}``);
            the first line each prints is recorded.
    """
    commit, clean, changes = _git_state(repo)
    return Machine(
        hostname=platform.node(),
        nproc=len(os.sched_getaffinity(0)),
        cpu_model=_cpu_model(),
        memory_gib=round(_memory_gib(), 1),
        python=f"{platform.python_implementation()} {platform.python_version()}",
        platform=platform.platform(),
        versions={label: _first_line_of(argv) for label, argv in (programs or {}).items()},
        commit=commit,
        clean=clean,
        changes=changes,
    )


# -- was the machine quiet? -------------------------------------------------------------


def _busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy since boot (all CPUs, from /proc/stat)."""
    fields = Path("/proc/stat").read_text(encoding="utf-8").splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _own_seconds() -> float:
    """CPU seconds of this process and of every child it has waited for (the servers too)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


@dataclass(frozen=True, slots=True)
class Background:
    """CPU that processes other than the benchmark (and its children) used during it."""

    elapsed_s: float
    other_cpu_s: float

    @property
    def share(self) -> float:
        """Average number of CPUs the others kept busy."""
        return self.other_cpu_s / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def note(self) -> str:
        """One line for the notes."""
        return (
            f"other processes on this machine used {self.other_cpu_s:.1f} CPU-seconds during "
            f"the {self.elapsed_s:.0f} s run ({self.share:.2f} CPUs on average); well above "
            "0.05 means the figures were disturbed"
        )


class CpuWatch:
    """Measures :class:`Background` over a block: ``with CpuWatch() as watch: ...``."""

    def __init__(self) -> None:
        """Take the starting readings."""
        self._start = (time.monotonic(), _busy_seconds(), _own_seconds())
        self.result: Background | None = None

    def __enter__(self) -> Self:
        """Start watching (again)."""
        self._start = (time.monotonic(), _busy_seconds(), _own_seconds())
        return self

    def __exit__(self, *_exc: object) -> None:
        """Stop watching; :attr:`result` holds the figures."""
        started, busy, own = self._start
        other = (_busy_seconds() - busy) - (_own_seconds() - own)
        # Clock-tick granularity can make a quiet machine look a hair negative.
        self.result = Background(time.monotonic() - started, max(0.0, other))


__all__ = ["Background", "CpuWatch", "Machine", "describe_machine"]
