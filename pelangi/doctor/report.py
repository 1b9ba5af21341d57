"""How doctor results are shown: one line per check, ✓ / ! / ✗ / -, and a ``fix:`` line."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import typer

from pelangi.console import MARKS, emit_json, mark, stdout
from pelangi.doctor.model import exit_status
from pelangi.doctor.runner import run_checks

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from pelangi.doctor.model import Check, Result

SKIP_MARK: Final = "-"


def format_line(result: Result) -> list[str]:
    """The plain lines of ``result`` (no colour): ``✓ name: found`` and maybe ``  fix: ...``."""
    sign = SKIP_MARK if result.status == "skip" else MARKS[result.status]
    lines = [f"{sign} {result.name}: {result.finding.found}"]
    if result.finding.fix and result.status in {"warn", "fail"}:
        lines.append(f"  fix: {result.finding.fix}")
    return lines


def print_result(result: Result) -> None:
    """Print one result as it arrives (the mark coloured on a terminal)."""
    console = stdout()
    first, *rest = format_line(result)
    sign = SKIP_MARK if result.status == "skip" else mark(result.status)
    console.print(sign, end=" ")
    console.print(first.split(" ", 1)[1], markup=False)
    for line in rest:
        console.print(line, markup=False)


def summary(results: Sequence[Result]) -> str:
    """The last line: counts by status and what the exit status will be."""
    counts = {status: sum(r.status == status for r in results) for status in ("ok", "warn", "fail")}
    skipped = len(results) - sum(counts.values())
    return (
        f"{counts['ok']} passed, {counts['warn']} warning(s), {counts['fail']} failed, "
        f"{skipped} skipped (exit status {exit_status(results)})"
    )


def print_report(results: Sequence[Result]) -> None:
    """Print every result, then the summary line."""
    for result in results:
        print_result(result)
    stdout().print(summary(results), markup=False)


def report_json(results: Sequence[Result]) -> dict[str, object]:
    """The ``--json`` document: every result and the exit status."""
    return {
        "exit_status": exit_status(results),
        "checks": [result.as_dict() for result in results],
    }


def run_and_report(done: Sequence[Result], checks: Iterable[Check], *, as_json: bool) -> typer.Exit:
    """Show ``done`` (e.g. the config check), run ``checks`` showing each as it ends; the exit.

    With ``as_json`` nothing is printed until the end, then one JSON document.
    """
    show = None if as_json else print_result
    if show is not None:
        for result in done:
            show(result)
    results = [*done, *run_checks(checks, on_result=show)]
    if as_json:
        emit_json(report_json(results))
    else:
        stdout().print(summary(results), markup=False)
    return typer.Exit(exit_status(results))
