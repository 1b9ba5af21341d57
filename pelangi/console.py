"""Terminal output both command-line tools share: colour only on a terminal, tables, --json.

Technicians read these over SSH on weak links, and scripts read them too, so:

- colour and box drawing only when the stream is a terminal (rich decides; ``NO_COLOR``
  is honoured), plain aligned text otherwise, so ``grep`` and ``cut`` work;
- ``--json`` (:data:`JsonOption`) prints one JSON document on stdout and nothing else there;
- a failure is one line on stderr saying what went wrong, then ``fix:`` and what to do
  (:func:`fail`), never a traceback;
- check marks for step-by-step checks (:data:`MARKS`): ✓ passed, ! warning, ✗ failed.
"""

from __future__ import annotations

import json
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any, Final, Literal

import typer

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from rich.console import Console

Mark = Literal["ok", "warn", "fail"]
MARKS: Final[dict[Mark, str]] = {"ok": "✓", "warn": "!", "fail": "✗"}
STYLES: Final[dict[Mark, str]] = {"ok": "green", "warn": "yellow", "fail": "bold red"}

JsonOption = Annotated[
    bool, typer.Option("--json", help="Print the result as one JSON document (for scripts).")
]
"""The ``--json`` option of every command whose result a script may read."""


@cache
def stdout() -> Console:
    """The console on stdout (colour only on a terminal; no automatic highlighting)."""
    # rich is imported when something is printed, not when a command module is: every
    # command is registered in the one program the running agent starts as
    # (``pelangi-agent run``), and the agent's footprint is a benchmark target.
    from rich.console import Console  # noqa: PLC0415

    return Console(highlight=False, soft_wrap=True)


@cache
def stderr() -> Console:
    """The console on stderr."""
    from rich.console import Console  # noqa: PLC0415 - see stdout()

    return Console(stderr=True, highlight=False, soft_wrap=True)


def mark(kind: Mark) -> str:
    """The check mark of ``kind``, coloured on a terminal."""
    return f"[{STYLES[kind]}]{MARKS[kind]}[/]"


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], *, title: str = "") -> None:
    """Print ``rows`` under ``headers``: a drawn table on a terminal, aligned text otherwise."""
    console = stdout()
    if console.is_terminal:
        from rich.table import Table  # noqa: PLC0415 - see stdout()

        drawn = Table(*headers, title=title or None, title_justify="left")
        for row in rows:
            drawn.add_row(*(str(cell) for cell in row))
        console.print(drawn)
        return
    if title:
        console.print(title, markup=False)
    for line in aligned(headers, [[str(cell) for cell in row] for row in rows]):
        console.print(line, markup=False)


def aligned(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    """The header and rows as lines, each column as wide as its widest cell."""
    lines = [list(header), *(list(row) for row in rows)]
    widths = [max(len(cell) for cell in column) for column in zip(*lines, strict=True)]
    return [
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in lines
    ]


def emit_json(document: Any) -> None:  # noqa: ANN401 - any JSON-ready value
    """Print ``document`` as JSON on stdout (keys sorted; datetimes and paths as text)."""
    typer.echo(json.dumps(document, indent=2, sort_keys=True, default=str, ensure_ascii=False))


def fail(message: str, fix: str = "", *, code: int = 1) -> typer.Exit:
    """Say ``message`` (and the ``fix``) on stderr; return the exit to raise.

    ``raise fail("cannot open /dev/ttyUSB0: permission denied", "add the service user to
    the dialout group: sudo usermod -aG dialout pelangi")``.
    """
    console = stderr()
    console.print(f"[bold red]error:[/] {escape(message)}")
    if fix:
        console.print(f"[bold]fix:[/] {escape(fix)}")
    return typer.Exit(code)


def escape(text: str) -> str:
    """``text`` shown as it is, not read as markup (a device name may hold ``[``)."""
    return text.replace("[", r"\[")


__all__ = [
    "MARKS",
    "JsonOption",
    "Mark",
    "aligned",
    "emit_json",
    "escape",
    "fail",
    "mark",
    "stderr",
    "stdout",
    "table",
]
