"""``pelangi-collector alerts silence add|list|remove``: silences and maintenance windows.

A silence keeps every alert whose key matches all its ``--match PART=GLOB`` quiet from now
(or ``--from``) until ``--until`` (WITA unless the time carries an offset) or for
``--for`` (``2h``, ``30m``, ``1d12h``). A matcher, time or duration that is not one ends the
command with one line naming the option and exit status 2 (as a bad option does); a store
that refuses (the database away, an unknown id) with one line and status 1.
"""

from __future__ import annotations

import getpass
import os
import re
from datetime import datetime, timedelta
from typing import Annotated, Any, Final

import typer

from collector.alerts.cli_support import local, matchers, now, opened_store
from collector.alerts.notify.formats import WITA
from collector.alerts.silences import PARTS, Silence, parse_matcher
from collector.alerts.store_errors import InvalidSilence
from collector.attendance.cli.arguments import EXIT_BAD_ARGUMENT, refuse
from collector.attendance.cli.tables import cell, echo_table
from collector.cli_common import DEFAULT_CONFIG, ConfigOption

_DURATION: Final = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
DURATION_FORMS: Final = "a duration such as 2h, 30m, 1d12h or 90s"
TIME_FORMS: Final = "a time such as 2026-12-04T08:00 (WITA) or 2026-12-04T08:00+07:00"

SILENCE_HEADER: Final = ("id", "matches", "from (WITA)", "until (WITA)", "by", "comment")

silence = typer.Typer(
    help="Silences and maintenance windows: keep matching alerts quiet for a while.",
    no_args_is_help=True,
)


def parse_duration(text: str) -> timedelta:
    """``2h`` as two hours (see :data:`DURATION_FORMS`); raises the exit for ``--for``."""
    found = _DURATION.match(text.strip().lower())
    if found is None or not any(found.groups()):
        raise refuse("--for", DURATION_FORMS, text)
    days, hours, minutes, seconds = (int(g or 0) for g in found.groups())
    span = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    if span <= timedelta(0):
        raise refuse("--for", "a duration longer than zero", text)
    return span


def _instant(option: str, text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise refuse(option, TIME_FORMS, text) from None
    # Typed without an offset: the office's own time, not the server's (often UTC).
    return moment.replace(tzinfo=WITA) if moment.tzinfo is None else moment


def _time_option(option: str, help_text: str) -> Any:  # noqa: ANN401 - typer's Option
    return typer.Option(
        option, parser=lambda text: _instant(option, text), metavar="TIME", help=help_text
    )


def parse_matchers(texts: list[str]) -> dict[str, str]:
    """``["site=bukit-*", ...]`` as ``{"site": "bukit-*"}``; raises the exit for ``--match``."""
    found: dict[str, str] = {}
    for text in texts:
        try:
            part, glob = parse_matcher(text)
        except InvalidSilence:
            raise refuse(
                "--match", f"PART=GLOB with PART one of {', '.join(PARTS)}", text
            ) from None
        if part in found:
            raise refuse("--match", f"one matcher per part ({part}={found[part]} given)", text)
        found[part] = glob
    return found


def _who() -> str:
    # Behind sudo, the technician's own name rather than root's.
    try:
        return os.environ.get("SUDO_USER") or getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (a container): still make the silence
        return "unknown"


def cells(entry: Silence) -> list[str]:
    """A silence as the cells of :data:`SILENCE_HEADER`."""
    return [
        str(entry.id),
        matchers(entry),
        local(entry.starts),
        local(entry.ends),
        cell(entry.created_by),
        cell(entry.comment),
    ]


@silence.command("add")
def add(  # noqa: PLR0913, PLR0917 - each is a command-line parameter, named by typer
    match: Annotated[
        list[str],
        typer.Option(
            "--match",
            "-m",
            help=f"PART=GLOB, PART one of {', '.join(PARTS)}; repeat for more (all must match).",
        ),
    ],
    config: ConfigOption = DEFAULT_CONFIG,
    until: Annotated[
        datetime | None, _time_option("--until", "When it ends (WITA unless an offset is given).")
    ] = None,
    duration: Annotated[
        str | None, typer.Option("--for", help="How long it lasts instead: 2h, 30m, 1d12h.")
    ] = None,
    start: Annotated[
        datetime | None, _time_option("--from", "When it begins (default: now).")
    ] = None,
    comment: Annotated[str, typer.Option("--comment", help="Why (shown in the list).")] = "",
    by: Annotated[
        str | None, typer.Option("--by", help="Who makes it (default: your login).")
    ] = None,
) -> None:
    """Keep alerts matching every --match quiet until --until, or for --for.

    Examples:
      pelangi-collector alerts silence add --match rule='door_*' --match site=bukit-pelangi
      --until 2026-12-04T08:00 --comment "renovasi lobi"

      pelangi-collector alerts silence add -m device=sw-core --for 2h --comment "ganti switch"
    """
    parts = parse_matchers(match)
    if (until is None) == (duration is None):
        raise refuse("--until/--for", "exactly one of them", "both" if until else "neither")
    begins = start or now()
    ends = until if until is not None else begins + parse_duration(duration or "")
    try:
        wanted = Silence(parts, begins, ends, by or _who(), comment)
    except InvalidSilence as exc:
        typer.echo(f"pelangi-collector: --match/--until: {exc}", err=True)
        raise typer.Exit(EXIT_BAD_ARGUMENT) from None
    with opened_store(config) as (_, store):
        made = store.add_silence(wanted)
    typer.echo(
        f"added silence {made.id}: {matchers(made)} from {local(made.starts)} "
        f"until {local(made.ends)} WITA"
    )


@silence.command("list")
def list_(config: ConfigOption = DEFAULT_CONFIG) -> None:
    """Silences in force or still to come (ended ones are not shown), by start.

    Example: pelangi-collector alerts silence list
    """
    with opened_store(config) as (_, store):
        found = store.silences(now())
    echo_table(SILENCE_HEADER, [cells(entry) for entry in found], "silence(s)")


@silence.command("remove")
def remove(
    silence_id: Annotated[int, typer.Argument(metavar="ID", help="The id silence list shows.")],
    config: ConfigOption = DEFAULT_CONFIG,
) -> None:
    """End a silence now by deleting it: its alerts are heard again.

    Example: pelangi-collector alerts silence remove 3
    """
    with opened_store(config) as (_, store):
        gone = store.remove_silence(silence_id)
    typer.echo(f"removed silence {gone.id}: {matchers(gone)}")


__all__ = [
    "DURATION_FORMS",
    "SILENCE_HEADER",
    "cells",
    "parse_duration",
    "parse_matchers",
    "silence",
]
