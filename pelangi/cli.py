"""Pieces both command-line tools share: loading a config or exiting readably, and signals."""

from __future__ import annotations

import signal
import sys
import threading
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from pydantic import BaseModel

from pelangi.configfile import load
from pelangi.errors import ConfigError
from pelangi.logs import LogLevel

if TYPE_CHECKING:
    from pathlib import Path
    from types import FrameType

M = TypeVar("M", bound=BaseModel)

LogLevelOption = Annotated[
    LogLevel | None,
    typer.Option(
        "--log-level", help="Override the file's log_level (use debug when troubleshooting)."
    ),
]
"""The ``--log-level`` option both ``run`` commands share."""

EXIT_CONFIG = 2
"""Exit status for an invalid or unreadable configuration file."""


def load_or_exit(path: Path, model: type[M]) -> M:
    """Load ``path`` into ``model``, or print one line per problem and exit with status 2."""
    try:
        return load(path, model)
    except ConfigError as exc:
        typer.echo(f"{exc.path}: configuration is not valid:", err=True)
        for problem in exc.problems:
            typer.echo(f"  {problem}", err=True)
        raise typer.Exit(EXIT_CONFIG) from None


def stop_on_signals() -> threading.Event:
    """Return an event that is set when SIGTERM or SIGINT arrives (systemd stop, Ctrl-C)."""
    stop = threading.Event()

    def _handler(signum: int, _frame: FrameType | None) -> None:
        print(f"received {signal.Signals(signum).name}, stopping", file=sys.stderr)  # noqa: T201
        stop.set()

    signal.signal(signal.SIGTERM, _handler)
    signal.signal(signal.SIGINT, _handler)
    return stop
