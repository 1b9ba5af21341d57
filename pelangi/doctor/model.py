"""What a check is and what it found; the exit-status rule. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final, Literal

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

Status = Literal["ok", "warn", "fail", "skip"]
"""passed, passed with a warning, failed, could not run (and why)."""

EXIT_OK: Final = 0
EXIT_WARNINGS: Final = 1
EXIT_FAILED: Final = 2


@dataclass(frozen=True, slots=True)
class Finding:
    """What one check found: its status, the finding in words, and for ! and ✗ the fix."""

    status: Status
    found: str
    fix: str = ""


def passed(found: str) -> Finding:
    """A check that passed."""
    return Finding("ok", found)


def warned(found: str, fix: str) -> Finding:
    """A check that passed with something to look at."""
    return Finding("warn", found, fix)


def failed(found: str, fix: str) -> Finding:
    """A check that failed."""
    return Finding("fail", found, fix)


def skipped(why: str) -> Finding:
    """A check that could not or need not run."""
    return Finding("skip", why)


@dataclass(frozen=True, slots=True)
class Check:
    """One named check: ``run`` returns a :class:`Finding` (an exception counts as failed).

    ``needs`` names earlier checks that must have passed (or warned) for this one to
    mean anything: a round trip cannot work when the broker is unreachable.
    """

    name: str
    run: Callable[[], Finding]
    timeout_s: float = 10.0
    needs: tuple[str, ...] = field(default=())
    fix_on_timeout: str = "run doctor again; if it keeps timing out, this is the thing to fix"


@dataclass(frozen=True, slots=True)
class Result:
    """A check's name, what it found, how long it took, and whether an earlier one blocked it."""

    name: str
    finding: Finding
    duration_s: float = 0.0
    blocked: bool = False

    @property
    def status(self) -> Status:
        """The finding's status."""
        return self.finding.status

    def as_dict(self) -> dict[str, object]:
        """The result as a JSON-ready mapping (for ``--json``)."""
        return {
            "name": self.name,
            "status": self.status,
            "found": self.finding.found,
            "fix": self.finding.fix or None,
            "duration_s": round(self.duration_s, 3),
        }


def exit_status(results: Sequence[Result]) -> int:
    """0 when everything passed (skips count as passed), 1 with warnings only, 2 on a failure."""
    statuses = {result.status for result in results}
    if "fail" in statuses:
        return EXIT_FAILED
    if "warn" in statuses:
        return EXIT_WARNINGS
    return EXIT_OK
