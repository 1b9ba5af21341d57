"""The collector's SMTP check: the alert mail server greets, secures and admits us."""

from __future__ import annotations

from typing import TYPE_CHECKING

from collector.alerts.notify.email import EmailChannel
from collector.alerts.notify.errors import DeliveryUnavailable
from pelangi.doctor import Check, Finding, failed, passed, skipped

if TYPE_CHECKING:
    from collector.alerts.notify.settings import SmtpSettings
    from collector.config import CollectorSettings


def smtp_greets(smtp: SmtpSettings) -> Finding:
    """Connect, EHLO, STARTTLS and log in as configured; no mail is sent."""
    try:
        replies = EmailChannel(smtp).greet()
    except DeliveryUnavailable as exc:
        return failed(
            str(exc),
            "check alerts.notify.smtp (host, port, security, username, password, ca_file) "
            "with the mail server's administrator",
        )
    steps = ", ".join(dict.fromkeys(reply.step for reply in replies))
    return passed(f"{smtp.display} answers: {steps} (no mail sent)")


def mail_checks(settings: CollectorSettings) -> list[Check]:
    """The SMTP check, or a skip when no mail server is configured."""
    smtp = settings.alerts.notify.smtp
    if smtp is None:
        return [Check("SMTP", lambda: skipped("no alerts.notify.smtp configured"))]
    return [Check("SMTP", lambda: smtp_greets(smtp), smtp.timeout_s * 4 + 1)]
