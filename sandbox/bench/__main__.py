"""``python -m sandbox.bench [--only NAME] [--quick] [--results DIR]``.

Runs every benchmark (or one), prints a table per benchmark and writes
``<results>/<name>.json`` and ``<name>.md``. Exit status: 0 when every run completed
without losing data (missed targets included: benchmarks report, they do not gate);
1 when a run lost data or a benchmark crashed; 2 for a bad command line.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Final, Protocol

from sandbox.bench import agent, alerts, attendance, collector, dashboards, snmp
from sandbox.bench.machine import CpuWatch, describe_machine
from sandbox.bench.report import format_result, with_background, write_results

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sandbox.bench.report import BenchResult

EXIT_LOST: Final = 1

# The checkout this package lives in (sandbox/bench/__main__.py); results are kept there.
REPO: Final = Path(__file__).resolve().parents[2]
DEFAULT_RESULTS: Final = REPO / "bench" / "results"

SERVER_VERSIONS: Final = {
    "mosquitto": ["mosquitto", "-h"],
    "influxd": ["influxd", "version"],
    "snmpd": ["snmpd", "-v"],
}


class Benchmark(Protocol):
    """What every benchmark module's ``run`` looks like."""

    def __call__(self, workdir: Path, *, quick: bool = False) -> BenchResult:
        """Run in ``workdir`` (removed afterwards) and return what was measured."""
        ...


BENCHMARKS: Final[dict[str, Benchmark]] = {
    agent.NAME: agent.run,
    alerts.NAME: alerts.run,
    attendance.NAME: attendance.run,
    collector.NAME: collector.run,
    dashboards.NAME: dashboards.run,
    snmp.NAME: snmp.run,
}


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox.bench",
        description="Benchmarks against real servers; prints tables and writes results files.",
    )
    parser.add_argument(
        "--only", choices=sorted(BENCHMARKS), action="append", help="run only this benchmark"
    )
    parser.add_argument(
        "--quick", action="store_true", help="small sizes (results go to <name>-quick.*)"
    )
    parser.add_argument(
        "--results",
        type=Path,
        default=DEFAULT_RESULTS,
        help=f"where results files are written (default: {DEFAULT_RESULTS})",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the selected benchmarks; return the exit status (see the module docstring)."""
    args = _arguments(argv)
    names: list[str] = args.only or list(BENCHMARKS)
    machine = describe_machine(REPO, SERVER_VERSIONS)
    print(  # noqa: T201 - a command-line report
        f"machine: {machine.nproc} CPUs ({machine.cpu_model}), {machine.memory_gib} GiB, "
        f"{machine.python}, commit {machine.revision}",
        flush=True,
    )
    warning = machine.dirty_warning()
    if warning:
        _warn(warning)
    failed: list[str] = []
    for name in names:
        print(f"\nrunning {name}{' (quick)' if args.quick else ''} ...", flush=True)  # noqa: T201
        try:
            with (
                CpuWatch() as watch,
                tempfile.TemporaryDirectory(prefix=f"pelangi-bench-{name}-") as workdir,
            ):
                result = BENCHMARKS[name](Path(workdir), quick=args.quick)
        except Exception:  # noqa: BLE001 - report any crash, then go on with the others
            traceback.print_exc()
            failed.append(f"{name}: crashed")
            continue
        result = with_background(result, watch.result)
        print("\n" + format_result(result), flush=True)  # noqa: T201
        json_path, md_path = write_results(result, machine, args.results, quick=args.quick)
        print(f"\nresults: {json_path} and {md_path}", flush=True)  # noqa: T201
        failed += [f"{name}: {line}" for line in result.lost]
    if warning:
        _warn(warning)  # again at the end, where it is read
    if failed:
        print("\nLOST DATA OR CRASHED:", *failed, sep="\n  ", file=sys.stderr)  # noqa: T201
        return EXIT_LOST
    return 0


def _warn(warning: str) -> None:
    banner = "!" * 78
    print(f"\n{banner}\nWARNING: {warning}\n{banner}", file=sys.stderr, flush=True)  # noqa: T201


if __name__ == "__main__":
    sys.exit(main())
