"""The alert part of ``make demo``: a door held open, the email to the guard post, its resolution.

A private SMTP server (aiosmtpd, the same the tests use) stands in for the office's mail
server. ``pelangi-collector alerts run`` runs as its own process with its own MQTT session;
the demo's door controller reports the main door open, the engine fires ``door_held_open``
after the (demo-short) hold time, the email arrives and is printed; the door closes and the
"resolved" email follows without waiting for the grouping interval. The daily digest is set
for 00:00 WITA, so the engine sends the IT desk today's as soon as it starts (normally 07:00).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from sandbox.demo.devices import DOOR, DOOR_ON_WIRE
from sandbox.demo.output import say, step
from sandbox.processes import ChildProcess, venv_program
from sandbox.servers.smtp import Smtp
from sandbox.waiting import wait_until

if TYPE_CHECKING:
    from email.message import EmailMessage
    from pathlib import Path

    from sandbox.demo.stage import Demo
    from sandbox.deployment import Deployment
    from sandbox.servers import SerialPty

GUARD_POST: Final = "pos-satpam@kutaitimurkab.go.id"
IT_DESK: Final = "diskominfo@kutaitimurkab.go.id"
HOLD_S: Final = 5
"""The demo's hold time (the default is 5 minutes)."""
MAIL_TIMEOUT_S: Final = 60.0
BODY_LINES: Final = 12
FIRING: Final = "Pelangi mendeteksi masalah berikut."
RESOLVED: Final = "Masalah berikut sudah pulih."
"""The first line of a firing and of a resolved email (Bahasa Indonesia, the default)."""
DIGEST: Final = "Ringkasan harian Pelangi"
"""The digest's subject begins so."""


def start_mail_server(demo: Demo, work: Path) -> Smtp:
    """A private SMTP server for the alert emails, remembered for the final clean-up."""
    smtp = Smtp(work / "smtp")
    demo.start_server(smtp, "smtp")
    return smtp


def alerts_extra(smtp: Smtp) -> dict[str, Any]:
    """The collector configuration's ``alerts`` section for the demo."""
    return {
        # The demo runs at any hour: the after-hours rule would speak first at night.
        "rules": {"door_held_open": {"for_s": HOLD_S}, "door_after_hours": {"enabled": False}},
        "notify": {
            "smtp": {
                "host": smtp.host,
                "port": smtp.port,
                "security": "none",
                "from": "Pelangi <pelangi@kutaitimurkab.go.id>",
            },
            "recipients": {"security": [GUARD_POST], "it": [IT_DESK]},
            "grouping": {"group_wait_s": 1, "group_interval_s": 5},
            # Due since midnight, so it goes out at once (the default is 07:00).
            "digest": {"at": "00:00", "audiences": ["it"]},
        },
        "engine": {"engine_id": "alerts-demo", "tick_s": 0.5, "lease_ttl_s": 10},
    }


def show_alerts(demo: Demo, deployment: Deployment, door_pty: SerialPty, smtp: Smtp) -> None:
    """Start the engine, hold the door open, print the email and its resolution."""
    step("Starting the alert engine: pelangi-collector alerts run (its own MQTT session)")
    command = [str(venv_program("pelangi-collector")), "alerts", "run"]
    engine = ChildProcess(
        [*command, "--config", str(deployment.collector_config_path)],
        log_path=deployment.workdir / "alerts.log",
        name="pelangi-alerts",
    )
    demo.extra.append(engine)
    demo.log_book.add("pelangi-alerts", engine)
    engine.start()
    wait_until(
        lambda: "alert engine subscribed" in engine.log_text(),
        timeout=MAIL_TIMEOUT_S,
        what="the alert engine is subscribed at the broker",
    )
    say(f"    PID {engine.pid}, subscribed to the readings and the gateways' status")
    before = len(smtp.messages())

    step(f"The main door is propped open: the guard post hears of it after {HOLD_S} s")
    door_pty.write(f"DOOR {DOOR_ON_WIRE} OPEN\n".encode())
    _print_mail(_wait_for_mail(smtp, before, FIRING))

    step("The door is closed again: the resolution goes out at once")
    door_pty.write(f"DOOR {DOOR_ON_WIRE} CLOSED\n".encode())
    _print_mail(_wait_for_mail(smtp, before, RESOLVED))

    step("The daily digest reached the IT desk when the engine started (here due at 00:00 WITA)")
    _print_mail(_wait_for_subject(smtp, DIGEST))

    step("Stopping the alert engine (SIGTERM)")
    say(f"    pelangi-alerts exited with status {engine.stop(timeout=30)}")


def _wait_for_mail(smtp: Smtp, skip: int, intro: str) -> EmailMessage:
    """The first mail after the first ``skip`` that is about the door and opens with ``intro``."""

    def about_the_door() -> EmailMessage | None:
        for message in smtp.messages()[skip:]:
            text = _text(message)
            if DOOR in text and intro in text:
                return message
        return None

    return wait_until(about_the_door, timeout=MAIL_TIMEOUT_S, what=f"an email: {intro}")


def _wait_for_subject(smtp: Smtp, start: str) -> EmailMessage:
    """The first mail whose subject begins with ``start``."""

    def found() -> EmailMessage | None:
        return next((m for m in smtp.messages() if str(m["Subject"]).startswith(start)), None)

    return wait_until(found, timeout=MAIL_TIMEOUT_S, what=f"an email: {start}")


def _text(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    return body.get_content() if body is not None else ""


def _print_mail(message: EmailMessage) -> None:
    say(f"    To: {message['To']}")
    say(f"    Subject: {message['Subject']}")
    lines = [line for line in _text(message).splitlines() if line.strip()]
    for line in lines[:BODY_LINES]:
        say(f"      {line}")
    if len(lines) > BODY_LINES:
        say(f"      ... ({len(lines) - BODY_LINES} more lines)")
