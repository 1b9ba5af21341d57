"""``pelangi-agent outbox export FILE | purge``: what the outbox holds, and emptying it.

``export`` works while the agent runs (the file is opened read-only). ``purge`` deletes
readings that were never delivered: it asks first (``--yes`` for scripts) and refuses
while the agent runs (the agent holds the outbox's lock).
"""

from __future__ import annotations

import contextlib
import json
import time
from datetime import UTC, datetime
from pathlib import Path  # noqa: TC003 - typer reads the annotations at run time
from typing import TYPE_CHECKING, Annotated, Any, TextIO

import typer

from edge_agent.config import AgentSettings
from edge_agent.outbox import OutboxEntry, OutboxError
from edge_agent.outbox.snapshot import backlog, purge, stored_readings
from edge_agent.toolkit.options import DEFAULT_CONFIG, ConfigOption
from pelangi.cli import load_or_exit
from pelangi.console import fail

if TYPE_CHECKING:
    from collections.abc import Iterator

CHECK_PATH = (
    "check state_dir (and outbox.path) in the configuration, and that you may read the "
    "files there: sudo pelangi-agent outbox ..."
)
STOP_FIRST = "stop it first: systemctl stop pelangi-agent (start it again after the purge)"

outbox = typer.Typer(
    help="What the outbox holds (readings not yet delivered): export them, or purge them.",
    no_args_is_help=True,
    add_completion=False,
)


@outbox.command()
def export(
    file: Annotated[Path, typer.Argument(help="Where to write (JSON lines); - for stdout.")],
    config: ConfigOption = DEFAULT_CONFIG,
) -> None:
    """Write every reading still in the outbox as JSON lines: device, seq, ts, kind, payload.

    Safe while the agent runs: the outbox is opened read-only.

    Example: pelangi-agent outbox export /tmp/outbox.jsonl --config /etc/pelangi/agent.yaml
    """
    settings = load_or_exit(config, AgentSettings)
    count = 0
    try:
        with _opened(file) as out:
            for reading in stored_readings(settings.outbox_path):
                out.write(json.dumps(_line(reading), sort_keys=True, ensure_ascii=False) + "\n")
                count += 1
    except OutboxError as exc:
        raise fail(str(exc), CHECK_PATH) from None
    except OSError as exc:
        raise fail(f"cannot write {file}: {exc.strerror}", "choose a writable file") from None
    typer.echo(f"exported {count} reading(s) from {settings.outbox_path} to {file}", err=True)


@outbox.command("purge")
def purge_command(
    config: ConfigOption = DEFAULT_CONFIG,
    *,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask (for scripts).")] = False,
) -> None:
    """Delete every reading in the outbox (they are never delivered). Asks first.

    Refuses while the agent runs. Export them first if they may be wanted.

    Example: pelangi-agent outbox purge --config /etc/pelangi/agent.yaml --yes
    """
    settings = load_or_exit(config, AgentSettings)
    path = settings.outbox_path
    try:
        readings, oldest_ts = backlog(path)
    except OutboxError as exc:
        raise fail(str(exc), CHECK_PATH) from None
    if not readings:
        typer.echo(f"the outbox {path} is empty: nothing to purge")
        return
    oldest = ""
    if oldest_ts is not None:
        age_h = (time.time_ns() - oldest_ts) / 3.6e12
        oldest = f", the oldest from {_iso(oldest_ts)} ({age_h:.1f} h ago)"
    question = f"delete {readings} undelivered reading(s){oldest} from {path}?"
    if not yes and not typer.confirm(question, default=False):
        typer.echo("nothing deleted")
        raise typer.Exit(1)
    try:
        deleted = purge(path)
    except OutboxError as exc:
        fix = STOP_FIRST if "another process" in str(exc) else "check the file's permissions"
        raise fail(str(exc), fix) from None
    typer.echo(f"deleted {deleted} reading(s) from {path}")


def _line(reading: OutboxEntry) -> dict[str, Any]:
    try:
        payload: Any = json.loads(reading.reading)
    except ValueError:  # never stored by this agent, but say what is there
        payload = reading.reading.decode("utf-8", "replace")
    fields = payload if isinstance(payload, dict) else {}
    return {
        "device": reading.device,
        "seq": reading.seq,
        "ts": reading.ts,
        "time": _iso(reading.ts),
        "kind": fields.get("kind"),
        "event": reading.is_event,
        "payload": payload,
    }


def _iso(ts_ns: int) -> str:
    return datetime.fromtimestamp(ts_ns / 1e9, UTC).isoformat(timespec="milliseconds")


@contextlib.contextmanager
def _opened(file: Path) -> Iterator[TextIO]:
    """``file`` open for writing, or stdout for ``-``."""
    if str(file) == "-":
        yield typer.get_text_stream("stdout")
        return
    with file.open("w", encoding="utf-8") as stream:
        yield stream
