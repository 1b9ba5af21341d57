"""Run checks in order, each within its own timeout, skipping those whose needs failed.

A check runs in a daemon thread so that one hanging on a dead link (a socket with no
timeout of its own, a serial port that blocks) cannot hold up the others, nor the exit:
after its timeout it is reported as failed and left behind.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

from pelangi.doctor.model import Check, Finding, Result, failed, skipped

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable


def run_checks(
    checks: Iterable[Check], *, on_result: Callable[[Result], None] | None = None
) -> list[Result]:
    """Run ``checks`` one after the other; ``on_result`` sees each result as it comes."""
    results: list[Result] = []
    by_name: dict[str, Result] = {}
    for check in checks:
        result = _blocked(check, by_name) or _run_one(check)
        results.append(result)
        by_name[check.name] = result
        if on_result is not None:
            on_result(result)
    return results


def _blocked(check: Check, done: dict[str, Result]) -> Result | None:
    """A skip result if a check ``check`` needs did not pass, else None."""
    for need in check.needs:
        earlier = done.get(need)
        # A check skipped because it does not apply (no TLS configured) blocks nothing.
        if earlier is None or earlier.status == "fail" or earlier.blocked:
            why = "failed" if earlier is not None and earlier.status == "fail" else "could not run"
            finding = skipped(f"skipped: needs '{need}', which {why}")
            return Result(check.name, finding, blocked=True)
    return None


def _run_one(check: Check) -> Result:
    box: list[Finding] = []
    started = time.monotonic()

    def target() -> None:
        try:
            box.append(check.run())
        except Exception as exc:  # noqa: BLE001 - a broken check is a failed check, never a traceback
            box.append(failed(f"the check itself broke: {type(exc).__name__}: {exc}", _REPORT))

    worker = threading.Thread(target=target, name=f"doctor {check.name}", daemon=True)
    worker.start()
    worker.join(check.timeout_s)
    duration = time.monotonic() - started
    if not box:
        return Result(
            check.name,
            failed(f"no answer within {check.timeout_s:g} s", check.fix_on_timeout),
            duration,
        )
    return Result(check.name, box[0], duration)


_REPORT = "this is a bug in pelangi doctor: report it with the line above"
