"""What a benchmark hands back, how it is printed, and the results files it leaves behind.

A benchmark returns one :class:`BenchResult`: its tables (printed as aligned plain text),
its checks against the targets (:class:`Check`), the raw figures, notes, and what was
lost. :func:`write_results` keeps it in ``<results>/<name>.json`` (for tools) and
``<results>/<name>.md`` (for people), each with the date, the machine it ran on, the full
commit id and whether the tree was clean (a dirty tree opens the .md with a banner);
a ``--quick`` run writes ``<name>-quick.*`` so it never overwrites the full figures.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final, Literal

if TYPE_CHECKING:
    from pathlib import Path

    from sandbox.bench.machine import Background, Machine

Verdict = Literal["pass", "FAIL", "not measured"]

_NUMERIC_CELL_CHARS: Final = frozenset("0123456789.,x%+-— ")


@dataclass(frozen=True, slots=True)
class Table:
    """A table of already formatted cells; numeric columns are right-aligned when printed."""

    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]

    def __post_init__(self) -> None:
        """Reject rows whose width differs from the header's."""
        for row in self.rows:
            if len(row) != len(self.columns):
                raise ValueError(
                    f"table {self.title!r}: a row has {len(row)} cells, "
                    f"expected {len(self.columns)}: {row!r}"
                )


@dataclass(frozen=True, slots=True)
class Check:
    """One target: what is required, what was measured and whether it holds.

    ``passed`` is None when the figure could not be measured (e.g. the program under
    test is not available yet).
    """

    target: str
    required: str
    measured: str
    passed: bool | None

    @property
    def verdict(self) -> Verdict:
        """``pass``, ``FAIL`` or ``not measured``."""
        if self.passed is None:
            return "not measured"
        return "pass" if self.passed else "FAIL"


@dataclass(frozen=True)
class BenchResult:
    """Everything one benchmark measured.

    Attributes:
        name: short name, used for ``--only`` and the results file names.
        title: one line saying what was measured.
        parameters: the sizes and settings of the run (messages, repeats...).
        tables: what is printed.
        checks: the targets and whether the run met them (reported, not enforced).
        figures: the raw numbers, for the JSON file.
        notes: how to read the figures (method, caveats).
        lost: one line per run that lost data or crashed; non-empty makes
            ``python -m sandbox.bench`` exit non-zero.
    """

    name: str
    title: str
    parameters: dict[str, Any]
    tables: tuple[Table, ...]
    checks: tuple[Check, ...]
    figures: dict[str, Any]
    notes: tuple[str, ...] = ()
    lost: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """Whether every run completed without losing data (targets do not count)."""
        return not self.lost


# -- formatting --------------------------------------------------------------------------


def count(value: float) -> str:
    """``123456.7`` -> ``123,457``."""
    return f"{value:,.0f}"


def ratio(value: float | None) -> str:
    """``1.234`` -> ``1.23x``; None -> an em dash."""
    return "—" if value is None else f"{value:.2f}x"


def seconds(value: float) -> str:
    """Seconds with three decimals."""
    return f"{value:.3f}"


def millis(value_s: float) -> str:
    """Seconds shown as milliseconds with two decimals."""
    return f"{value_s * 1000:.2f}"


def megabytes(value: float | None) -> str:
    """Bytes shown as MB (10^6 bytes) with one decimal; None -> an em dash."""
    return "—" if value is None else f"{value / 1e6:.1f}"


def _is_numeric(cell: str) -> bool:
    return bool(cell) and all(char in _NUMERIC_CELL_CHARS for char in cell)


def format_table(table: Table) -> str:
    """Render ``table`` as aligned plain text: title, header, rule, rows.

    A column whose cells are all numbers (or dashes) is right-aligned, others left.
    """
    widths = [
        max(len(table.columns[i]), *(len(row[i]) for row in table.rows))
        if table.rows
        else len(table.columns[i])
        for i in range(len(table.columns))
    ]
    right = [
        bool(table.rows) and all(_is_numeric(row[i]) or row[i] == "" for row in table.rows)
        for i in range(len(table.columns))
    ]

    def line(cells: tuple[str, ...]) -> str:
        parts = [
            cell.rjust(widths[i]) if right[i] else cell.ljust(widths[i])
            for i, cell in enumerate(cells)
        ]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([table.title, line(table.columns), rule, *(line(row) for row in table.rows)])


def checks_table(checks: tuple[Check, ...]) -> Table:
    """The checks of a result as a table (target, required, measured, result)."""
    return Table(
        "Targets (reported, not enforced)",
        ("target", "required", "measured", "result"),
        tuple((c.target, c.required, c.measured, c.verdict) for c in checks),
    )


def format_result(result: BenchResult) -> str:
    """The whole printed report of one benchmark."""
    blocks = [f"== {result.name}: {result.title}"]
    blocks += [format_table(table) for table in result.tables]
    if result.checks:
        blocks.append(format_table(checks_table(result.checks)))
    if result.lost:
        blocks.append("LOST DATA OR CRASHED:\n" + "\n".join(f"  - {line}" for line in result.lost))
    if result.notes:
        blocks.append("Notes:\n" + "\n".join(f"  - {note}" for note in result.notes))
    return "\n\n".join(blocks)


def with_background(result: BenchResult, background: Background | None) -> BenchResult:
    """``result`` with the background CPU added to its notes and figures."""
    if background is None:
        return result
    return replace(
        result,
        notes=(*result.notes, background.note()),
        figures={**result.figures, "background": asdict(background)},
    )


# -- results files -----------------------------------------------------------------------


def _markdown_table(table: Table) -> str:
    def row(cells: tuple[str, ...]) -> str:
        return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"

    align = tuple(
        "---:" if table.rows and all(_is_numeric(r[i]) for r in table.rows) else "---"
        for i in range(len(table.columns))
    )
    return "\n".join(
        [f"**{table.title}**", "", row(table.columns), row(align), *(row(r) for r in table.rows)]
    )


def to_markdown(result: BenchResult, machine: Machine, date: datetime, *, quick: bool) -> str:
    """The human results file: date, machine, parameters, tables, checks, notes."""
    warning = machine.dirty_warning()
    lines = [f"> **{warning}**", ""] if warning else []
    lines += [
        f"# Benchmark `{result.name}`{' (quick run)' if quick else ''}",
        "",
        result.title,
        "",
        f"- date: {date.isoformat(timespec='seconds')}",
        (
            f"- machine: {machine.nproc} CPUs available ({machine.cpu_model}), "
            f"{machine.memory_gib} GiB, {machine.platform}"
        ),
        f"- python: {machine.python}",
        f"- commit: {machine.revision}",
    ]
    lines += [f"- {label}: {version}" for label, version in machine.versions.items()]
    lines += ["", "Parameters: " + ", ".join(f"{k}={v}" for k, v in result.parameters.items())]
    for table in result.tables:
        lines += ["", _markdown_table(table)]
    if result.checks:
        lines += ["", _markdown_table(checks_table(result.checks))]
    if result.lost:
        lines += ["", "**Lost data or crashed:**", ""] + [f"- {item}" for item in result.lost]
    if result.notes:
        lines += ["", "Notes:", ""] + [f"- {note}" for note in result.notes]
    return "\n".join(lines) + "\n"


def to_json(result: BenchResult, machine: Machine, date: datetime, *, quick: bool) -> str:
    """The machine-readable results file."""
    document = {
        "benchmark": result.name,
        "title": result.title,
        "date": date.isoformat(timespec="seconds"),
        "quick": quick,
        "commit": machine.commit,
        "clean": machine.clean,
        "machine": asdict(machine),
        "parameters": result.parameters,
        "figures": result.figures,
        "checks": [{**asdict(check), "verdict": check.verdict} for check in result.checks],
        "lost": list(result.lost),
        "notes": list(result.notes),
        "tables": [asdict(table) for table in result.tables],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _write_atomically(path: Path, text: str) -> None:
    # A reader (or git) never sees half a file; *.tmp is git-ignored.
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def write_results(
    result: BenchResult,
    machine: Machine,
    results_dir: Path,
    *,
    quick: bool = False,
    date: datetime | None = None,
) -> tuple[Path, Path]:
    """Write ``<name>.json`` and ``<name>.md`` (``<name>-quick.*`` for quick runs).

    Returns the two paths written.
    """
    date = date or datetime.now(UTC)
    results_dir.mkdir(parents=True, exist_ok=True)
    stem = f"{result.name}-quick" if quick else result.name
    json_path = results_dir / f"{stem}.json"
    md_path = results_dir / f"{stem}.md"
    _write_atomically(json_path, to_json(result, machine, date, quick=quick))
    _write_atomically(md_path, to_markdown(result, machine, date, quick=quick))
    return json_path, md_path


__all__ = [
    "BenchResult",
    "Check",
    "Table",
    "Verdict",
    "checks_table",
    "count",
    "format_result",
    "format_table",
    "megabytes",
    "millis",
    "ratio",
    "seconds",
    "to_json",
    "to_markdown",
    "with_background",
    "write_results",
]
