"""The ``pelangi-collector alerts`` commands: run the engine, look at it, test the mail path.

- ``alerts run``: the alert engine (:mod:`collector.alerts.service`), until stopped;
- ``alerts list [--all]``: what fires and is pending (and resolved), and the silences;
- ``alerts test --to ADDRESS``: a test message through the configured SMTP server, with
  every line the server answered;
- ``alerts outbox``: the notifications waiting to be sent, their attempts and last error;
- ``alerts silence add|list|remove`` (:mod:`.cli_silences`).

Exit statuses: 0 done; 1 the store or the mail server failed (one line saying why, the
server's own reply when it gave one); 2 a bad configuration file or command line.
:func:`validate_alerts` is what ``pelangi-collector validate --alerts`` adds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Final

import typer

from collector.alerts.checks import enabled_rules, offline_problems
from collector.alerts.cli_silences import SILENCE_HEADER, silence
from collector.alerts.cli_silences import cells as silence_cells
from collector.alerts.cli_support import local, now, opened_store, place
from collector.alerts.model import Audience, Phase
from collector.alerts.notify.email import EmailChannel
from collector.alerts.notify.formats import one_line
from collector.alerts.notify.render import Renderer
from collector.alerts.silences import silencing
from collector.attendance.cli.arguments import refuse
from collector.attendance.cli.tables import cell, echo_table, section
from collector.cli_common import DEFAULT_CONFIG, EXIT_FAILED, ConfigOption, failures_reported
from collector.config import CollectorSettings
from pelangi.cli import EXIT_CONFIG, LogLevelOption, load_or_exit, stop_on_signals
from pelangi.logs import setup

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from collector.alerts.model import Alert
    from collector.alerts.notify.email import Reply
    from collector.alerts.notify.settings import Language
    from collector.alerts.silences import Silence

_ORDER: Final = (Phase.FIRING, Phase.PENDING, Phase.RESOLVED)
_LANGUAGES: Final[dict[str, Language]] = {"id": "id", "en": "en"}
ERROR_WIDTH: Final = 120
"""How much of an outbox entry's last error its row shows (the log has all of it)."""

alerts = typer.Typer(
    help="Alerts: the engine, what fires, silences, the outbox, a test message.",
    no_args_is_help=True,
)
alerts.add_typer(silence, name="silence")


@alerts.command()
def run(config: ConfigOption = DEFAULT_CONFIG, log_level: LogLevelOption = None) -> None:
    """Start the alert engine: watch readings and gateway status, notify, until stopped.

    One engine is active at a time (the lease in the state database); a second one started
    elsewhere stands by and takes over when the active one's lease expires.

    Example: pelangi-collector alerts run -c /etc/pelangi/collector.yaml
    """
    settings = load_or_exit(config, CollectorSettings)
    setup(log_level or settings.log_level)
    try:
        # Imported here: the engine's service is its own module, and everything else here
        # must work (and load fast) without it.
        from collector.alerts.service import (  # type: ignore[import-not-found,unused-ignore]  # noqa: PLC0415
            run_engine,
        )
    except ImportError as exc:
        typer.echo(f"pelangi-collector: the alert engine is not available: {exc}", err=True)
        raise typer.Exit(EXIT_FAILED) from None
    stop = stop_on_signals()
    with failures_reported():
        run_engine(settings, stop, config_path=config)


def _alert_cells(alert: Alert, silences: Sequence[Silence], *, resolved: bool) -> list[str]:
    quiet = silencing(alert.key, silences, now())
    notes = []
    if quiet is not None:
        notes.append(f"silenced by {quiet.id}")
    if alert.suppressed_by is not None:
        notes.append(f"suppressed by {alert.suppressed_by}")
    row = [
        alert.phase.value,
        alert.key.rule,
        place(alert.key),
        alert.severity.value,
        alert.audience.value,
        local(alert.since),
        local(alert.fired_at),
    ]
    if resolved:
        row.append(local(alert.resolved_at))
    return [*row, cell(alert.value), cell("; ".join(notes))]


@alerts.command("list")
def list_(
    config: ConfigOption = DEFAULT_CONFIG,
    everything: Annotated[
        bool, typer.Option("--all", "-a", help="Also the resolved alerts the store still keeps.")
    ] = False,
) -> None:
    """Show the alerts firing and pending (--all: resolved too) and the silences.

    Example: pelangi-collector alerts list --all
    """
    phases = _ORDER if everything else _ORDER[:2]
    with opened_store(config) as (_, store):
        found = store.alerts(*phases)
        silences = store.silences(now())
    found.sort(key=lambda a: (_ORDER.index(a.phase), a.since, a.key))
    header = ["phase", "rule", "where", "severity", "audience", "since (WITA)", "fired (WITA)"]
    if everything:
        header.append("resolved (WITA)")
    header += ["value", "note"]
    rows = [_alert_cells(alert, silences, resolved=everything) for alert in found]
    title = "Alerts firing, pending and resolved" if everything else "Alerts firing and pending"
    for line in section(title, header, rows):
        typer.echo(line)
    typer.echo("")
    for line in section("Silences", SILENCE_HEADER, [silence_cells(s) for s in silences]):
        typer.echo(line)
    counts = {phase: sum(a.phase is phase for a in found) for phase in phases}
    said = ", ".join(f"{n} {phase.value}" for phase, n in counts.items())
    typer.echo(f"{said}; {len(silences)} silence(s)", err=True)


def _reply_lines(reply: Reply) -> list[str]:
    if reply.code == 0:  # no answer came: what went wrong here
        return [f"{reply.step}: no answer ({reply.text})"]
    return [f"{reply.step}: {reply.code} {line}" for line in reply.text.splitlines() or [""]]


@alerts.command("test")
def send_test(
    to: Annotated[str, typer.Option("--to", help="Who gets the test message.")],
    config: ConfigOption = DEFAULT_CONFIG,
    language: Annotated[
        str | None,
        typer.Option("--language", help="id or en (default: alerts.notify.language)."),
    ] = None,
) -> None:
    """Send a test message through the configured SMTP server; print all it answered.

    Exit 0: the server accepted it; 1: the server refused it (its reply is the last line)
    or could not be reached.

    Example: pelangi-collector alerts test --to posjaga@kutaitimurkab.go.id --language id
    """
    settings = load_or_exit(config, CollectorSettings)
    notify = settings.alerts.notify
    if language is not None and language not in _LANGUAGES:
        raise refuse("--language", "id or en", language)
    if notify.smtp is None:
        typer.echo(f"{config}: alerts.notify.smtp: no SMTP server is configured", err=True)
        raise typer.Exit(EXIT_CONFIG)
    words = notify.language if language is None else _LANGUAGES[language]
    channel = EmailChannel(notify.smtp)
    transcript = channel.send_test(to, Renderer(words, notify.hints).render_test())
    accepted = any(r.step == "DATA" and 200 <= r.code < 300 for r in transcript)
    failing = next((r for r in reversed(transcript) if not 200 <= r.code < 400), None)
    if not accepted and failing is not None and len(transcript) == 1:
        # Never connected: one line, as for any other server that is away.
        typer.echo(
            f"pelangi-collector: {notify.smtp.display}: {_reply_lines(failing)[0]}", err=True
        )
        raise typer.Exit(EXIT_FAILED)
    typer.echo(f"talking to {notify.smtp.display} ({notify.smtp.security}):")
    for reply in transcript:
        for line in _reply_lines(reply):
            typer.echo(f"  {line}")
    if accepted:
        typer.echo(f"accepted: the test message to {to} is on its way")
        return
    why = "no reply" if failing is None else _reply_lines(failing)[0]
    typer.echo(f"pelangi-collector: the test message to {to} was not accepted: {why}", err=True)
    raise typer.Exit(EXIT_FAILED)


OUTBOX_HEADER: Final = (
    "id",
    "kind",
    "audience",
    "group",
    "alerts",
    "created (WITA)",
    "attempts",
    "next attempt (WITA)",
    "last error",
)


@alerts.command()
def outbox(config: ConfigOption = DEFAULT_CONFIG) -> None:
    """Show the notifications waiting to be sent: attempts so far and the last error.

    Example: pelangi-collector alerts outbox -c /etc/pelangi/collector.yaml
    """
    with opened_store(config) as (_, store):
        waiting = store.outbox()
    rows = [
        [
            entry.notification.id,
            entry.notification.kind.value,
            entry.notification.audience.value,
            cell(entry.notification.group),
            str(len(entry.notification.alerts)),
            local(entry.notification.created_at),
            str(entry.attempts),
            local(entry.next_attempt_at),
            cell(None if entry.last_error is None else one_line(entry.last_error, ERROR_WIDTH)),
        ]
        for entry in waiting
    ]
    echo_table(OUTBOX_HEADER, rows, "notification(s) waiting")


def validate_alerts(config: Path, settings: CollectorSettings) -> None:
    """``validate --alerts``: print a summary, or each problem (:mod:`..checks`) and exit 2."""
    section_ = settings.alerts
    problems = offline_problems(section_)
    if problems:
        typer.echo(f"{config}: the alerts section has problems:", err=True)
        for problem in problems:
            typer.echo(f"  {problem}", err=True)
        raise typer.Exit(EXIT_CONFIG)
    used = enabled_rules(section_)
    notify = section_.notify
    smtp = "no SMTP" if notify.smtp is None else notify.smtp.display
    audiences = "; ".join(
        f"{audience}: {len(used.get(audience, []))} rule(s) to "
        f"{len(notify.recipients.of(audience))} recipient(s)"
        for audience in Audience
    )
    typer.echo(
        f"alerts OK: {audiences}; {len(section_.doors)} door(s), "
        f"{len(section_.switches)} switch(es); {smtp}"
        f"{'' if notify.webhook is None else ', webhook'}; templates render in id and en; "
        f"engine {section_.engine.engine_id} on {settings.state.display_url}"
    )


__all__ = ["alerts", "validate_alerts"]
