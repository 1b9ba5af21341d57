"""``pelangi-collector dead-letters list | replay``: look at dead letters, re-ingest them.

The dead letters are read from the ``dead_letter`` measurement of the configured InfluxDB
1.x database (the v2 API cannot be queried from here). A replay judges each one with the
configuration's *current* settings (:mod:`collector.replay`), writes the readings of those
now accepted, then marks them ``replayed_ns``; the others stay, and are listed with the
reason they are still refused.
"""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Final, NoReturn

import typer

from collector.cli_common import DEFAULT_CONFIG, EXIT_FAILED, ConfigOption
from collector.config import CollectorSettings, InfluxV1Settings
from collector.deadletter import MEASUREMENT
from collector.encoding import LineEncoder
from collector.errors import PointsRejected, StorageError
from collector.plausibility import TimeWindow
from collector.replay import REASONS, DeadLetter, Verdict, judge, replayed_mark
from collector.storage.influx_v1 import InfluxV1Writer
from pelangi.cli import load_or_exit

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from pathlib import Path

WRITE_LINES: Final = 5000
"""Readings written per request during a replay."""
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhd])$")
_UNIT_S: Final = {"s": 1, "m": 60, "h": 3600, "d": 86_400}

dead_letters = typer.Typer(
    help=(
        "Dead letters: messages, readings and points the collector refused, kept whole "
        "with the reason. List them, and replay them once the cause is fixed."
    ),
    no_args_is_help=True,
)

_REASON_HELP: Final = f"Only this reason: {', '.join(sorted(REASONS))}."
_SINCE_HELP: Final = (
    "Only dead letters from this time on: a duration back from now (30m, 2h, 7d) "
    "or a date and time (2026-12-01T08:00:00Z; UTC if no zone is given)."
)


@dead_letters.command("list")
def list_(
    config: ConfigOption = DEFAULT_CONFIG,
    reason: Annotated[str | None, typer.Option("--reason", "-r", help=_REASON_HELP)] = None,
    since: Annotated[str | None, typer.Option("--since", "-s", help=_SINCE_HELP)] = None,
    as_json: Annotated[  # noqa: FBT002 - a typer flag
        bool, typer.Option("--json", help="One JSON object per line.")
    ] = False,
) -> None:
    """List dead letters, oldest first (all of them, or by reason and time).

    Example, what was refused in the last day, as JSON lines:

      pelangi-collector dead-letters list -c /etc/pelangi/collector-1.yaml
      --since 1d --json
    """
    _, writer = _open(config)
    try:
        letters = _read(writer, reason, since)
    finally:
        writer.close()
    for letter in letters:
        typer.echo(
            json.dumps(letter.as_json(), ensure_ascii=False) if as_json else letter.summary()
        )
    if not as_json:
        typer.echo(f"{len(letters)} dead letters", err=True)


@dead_letters.command()
def replay(
    config: ConfigOption = DEFAULT_CONFIG,
    reason: Annotated[str, typer.Option("--reason", "-r", help=_REASON_HELP)] = "",
    since: Annotated[str, typer.Option("--since", "-s", help=_SINCE_HELP)] = "",
    dry_run: Annotated[  # noqa: FBT002 - a typer flag
        bool, typer.Option("--dry-run", help="Say what would be replayed; write nothing.")
    ] = False,
) -> None:
    """Re-ingest dead letters whose cause is fixed (with the current settings).

    Replayed ones are marked, so a second replay says so; still refused
    ones stay, with the reason. Writes are idempotent: a reading replayed
    twice is stored once.

    Example, after fixing a gateway's clock (readings a day ahead):

      pelangi-collector dead-letters replay -c /etc/pelangi/collector-1.yaml
      --reason ts_in_future --since 2d --dry-run
    """
    if not reason or not since:
        _fail("replay needs both --reason and --since (say what to replay, on purpose)")
    settings, writer = _open(config)
    try:
        letters = _read(writer, reason, since)
        now = time.time_ns()
        window, encoder = TimeWindow(settings.validity), LineEncoder()
        verdicts = [judge(letter, window, encoder, now) for letter in letters]
        if not dry_run:
            verdicts = _store(writer, verdicts, now)
    except StorageError as exc:
        _fail(f"replay stopped, InfluxDB at {writer.target} did not take it: {exc}")
    finally:
        writer.close()
    for verdict in verdicts:
        shown = "would replay" if dry_run and verdict.status == "replay" else verdict.status
        typer.echo(
            f"{shown}: {verdict.letter.summary()}" + (f" ({verdict.why})" if verdict.why else "")
        )
    counts = {status: sum(v.status == status for v in verdicts) for status in _STATUS_WORDS}
    words = ", ".join(f"{_STATUS_WORDS[s]} {n}" for s, n in counts.items())
    typer.echo(f"{'dry run: ' if dry_run else ''}{len(verdicts)} dead letters: {words}", err=True)


_STATUS_WORDS: Final = {
    "replay": "replayed",
    "replayed": "already replayed",
    "refused": "still refused",
    "unreplayable": "cannot be replayed",
}


def parse_since(text: str, now_ns: int) -> int:
    """``--since`` as ns since the epoch: a duration back from ``now_ns``, or a date. Pure.

    Raises:
        ValueError: neither form; the message says what is expected.
    """
    text = text.strip()
    if match := _DURATION.fullmatch(text):
        return now_ns - int(float(match.group(1)) * _UNIT_S[match.group(2)] * 1e9)
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"--since {text!r} is neither a duration back from now (30m, 2h, 7d) nor a date "
            "and time (2026-12-01 or 2026-12-01T08:00:00Z)"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp() * 1e9)


def _open(config_path: Path) -> tuple[CollectorSettings, InfluxV1Writer]:
    settings = load_or_exit(config_path, CollectorSettings)
    if not isinstance(settings.influxdb, InfluxV1Settings):
        _fail(
            "dead-letters reads the dead_letter measurement through the InfluxDB 1.x query "
            f"API, but this collector writes to {settings.influxdb.url} through the v2 API "
            "(influxdb.backend: influxdb2); query dead_letter there with its own tools"
        )
    return settings, InfluxV1Writer(settings.influxdb)


def _read(writer: InfluxV1Writer, reason: str | None, since: str | None) -> list[DeadLetter]:
    where = []
    if reason:
        if reason not in REASONS:
            _fail(
                f"--reason {reason!r} is not a reason; expected one of {', '.join(sorted(REASONS))}"
            )
        where.append(f"reason = '{reason}'")  # one of a fixed set: nothing to escape
    if since:
        try:
            where.append(f"time >= {parse_since(since, time.time_ns())}")
        except ValueError as exc:
            _fail(str(exc))
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    # S608: the clause holds a reason from a fixed set and an integer time, nothing else.
    statement = f"SELECT * FROM {writer.measurement(MEASUREMENT)}{clause}"  # noqa: S608
    try:
        rows = writer.select(statement)
    except StorageError as exc:
        _fail(f"cannot read the dead letters: {exc}")
    return sorted((DeadLetter.from_row(row) for row in rows), key=lambda x: x.time_ns)


def _store(writer: InfluxV1Writer, verdicts: Sequence[Verdict], now_ns: int) -> list[Verdict]:
    """Write what is replayable, in requests of about :data:`WRITE_LINES`; mark it replayed.

    A request InfluxDB refuses is retried one dead letter at a time, so one refused point
    does not keep the others from being replayed.
    """
    done: list[Verdict] = []
    for chunk in _chunks([v for v in verdicts if v.status == "replay"]):
        try:
            writer.write([line for v in chunk for line in v.lines])
            ok = chunk
        except PointsRejected:
            ok = []
            for verdict in chunk:
                try:
                    writer.write(list(verdict.lines))
                    ok.append(verdict)
                except PointsRejected as exc:
                    done.append(
                        Verdict(verdict.letter, "refused", why=f"storage_refused: {exc.message}")
                    )
        if ok:
            writer.write([replayed_mark(v.letter, now_ns) for v in ok])
            done.extend(ok)
    by_letter = {id(v.letter): v for v in done}
    return [by_letter.get(id(v.letter), v) for v in verdicts]


def _chunks(verdicts: Sequence[Verdict]) -> Iterator[list[Verdict]]:
    chunk: list[Verdict] = []
    lines = 0
    for verdict in verdicts:
        chunk.append(verdict)
        lines += len(verdict.lines)
        if lines >= WRITE_LINES:
            yield chunk
            chunk, lines = [], 0
    if chunk:
        yield chunk


def _fail(message: str) -> NoReturn:
    typer.echo(f"pelangi-collector dead-letters: {message}", err=True)
    raise typer.Exit(EXIT_FAILED)


__all__ = ["dead_letters", "parse_since"]
