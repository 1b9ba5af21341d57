"""The ``doctor`` commands' common parts: checks, their results, the runner and the report.

Both ``pelangi-agent doctor`` and ``pelangi-collector doctor`` are a list of
:class:`Check` handed to :func:`run_checks`, whose :class:`Result` list
:func:`print_report` shows (or :func:`report_json` returns for ``--json``) and
:func:`exit_status` turns into the exit status: 0 all passed, 1 warnings only, 2 any
failure. The model, the runner and the exit rule are pure (no IO but the checks' own);
:mod:`pelangi.doctor.mqtt` is the broker probe both doctors use.
"""

from __future__ import annotations

from pelangi.doctor.model import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_WARNINGS,
    Check,
    Finding,
    Result,
    Status,
    exit_status,
    failed,
    passed,
    skipped,
    warned,
)
from pelangi.doctor.report import print_report, report_json, run_and_report
from pelangi.doctor.runner import run_checks

__all__ = [
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_WARNINGS",
    "Check",
    "Finding",
    "Result",
    "Status",
    "exit_status",
    "failed",
    "passed",
    "print_report",
    "report_json",
    "run_and_report",
    "run_checks",
    "skipped",
    "warned",
]
