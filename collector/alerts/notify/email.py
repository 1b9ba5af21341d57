"""The email channel: one SMTP transaction per message, with a result per recipient.

:meth:`EmailChannel.send` connects (implicit TLS, or plain then STARTTLS, or plain), logs in
when a username is set, and sends a multipart/alternative message (plain text + HTML). A
recipient the server refuses at ``RCPT TO`` is reported in the :class:`EmailDelivery` with
the server's code and reply, and the others still get the message. What it raises:

- :class:`DeliveryUnavailable` (retryable: the message waits): no connection, a timeout, a
  TLS failure, credentials refused, any 4xx reply, a refused ``MAIL FROM`` (the sender is
  configuration: the message itself is fine);
- :class:`DeliveryRefused`: the server refused the message's content (5xx after ``DATA``).

Never another exception for a server that misbehaves. :meth:`EmailChannel.send_test`
returns the server's every answer, step by step, for ``alerts test --to``.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import TYPE_CHECKING, Final, TypeVar

from collector.alerts.notify.errors import DeliveryRefused, DeliveryUnavailable
from collector.alerts.notify.formats import one_line
from collector.alerts.notify.render import Renderer

T = TypeVar("T")

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from collector.alerts.notify.render import RenderedMessage
    from collector.alerts.notify.settings import SmtpSettings

OK: Final = 250


@dataclass(frozen=True, slots=True)
class Reply:
    """One answer of the server: which step, its code and its text."""

    step: str
    code: int
    text: str

    def __str__(self) -> str:
        """``RCPT TO:<x@y>: 550 5.1.1 <x@y>: Recipient address rejected``."""
        return f"{self.step}: {self.code} {self.text}"


@dataclass(frozen=True, slots=True)
class RecipientResult:
    """What the server said about one recipient."""

    address: str
    code: int
    reply: str

    @property
    def accepted(self) -> bool:
        """The server took the message for this recipient."""
        return 200 <= self.code < 300

    @property
    def retryable(self) -> bool:
        """Refused for now (4xx), not for good: worth sending to again later."""
        return 400 <= self.code < 500


@dataclass(frozen=True, slots=True)
class EmailDelivery:
    """The outcome of one message: a result per recipient, and the whole conversation."""

    message_id: str
    recipients: tuple[RecipientResult, ...]
    transcript: tuple[Reply, ...] = field(default=(), repr=False)

    @property
    def accepted(self) -> tuple[str, ...]:
        """The recipients the server accepted."""
        return tuple(r.address for r in self.recipients if r.accepted)

    @property
    def refused(self) -> tuple[RecipientResult, ...]:
        """The recipients the server refused, with its code and reply."""
        return tuple(r for r in self.recipients if not r.accepted)


def _text(raw: bytes | str) -> str:
    return raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw


class EmailChannel:
    """Sends messages through the configured SMTP server (see the module docstring)."""

    def __init__(self, settings: SmtpSettings) -> None:
        """Send through ``settings``' server; nothing connects until a message is sent."""
        self.settings = settings

    def _tls_context(self) -> ssl.SSLContext:
        ca_file = None if self.settings.ca_file is None else str(self.settings.ca_file)
        return ssl.create_default_context(cafile=ca_file)

    def build(
        self, message: RenderedMessage, to: Sequence[str], message_id: str | None = None
    ) -> EmailMessage:
        """The MIME message: multipart/alternative, plain text first (as RFC 2046 asks)."""
        mail = EmailMessage()
        # Renderer subjects are one line already; a subject made elsewhere must not be able
        # to add a header (the email library would refuse it with a ValueError).
        mail["Subject"] = one_line(message.subject)
        mail["From"] = self.settings.sender
        mail["To"] = ", ".join(to)
        mail["Date"] = formatdate(localtime=False)
        # The notification's id in the Message-ID: a re-sent message is recognisable.
        mail["Message-ID"] = f"<{message_id}@pelangi>" if message_id else make_msgid("pelangi")
        mail["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies to us
        mail.set_content(message.text)
        mail.add_alternative(message.html, subtype="html")
        return mail

    def send(
        self, message: RenderedMessage, to: Sequence[str], *, message_id: str | None = None
    ) -> EmailDelivery:
        """Send ``message`` to ``to``; see the module docstring for what it raises."""
        if not to:
            raise ValueError("expected at least one recipient")
        mail = self.build(message, to, message_id)
        return self._transact(mail, list(to))

    def send_test(self, to: str, message: RenderedMessage | None = None) -> tuple[Reply, ...]:
        """Send a test message to ``to``; return every answer of the server, in order.

        ``message``: the rendered test message (None: the Indonesian one). A failing step
        is the last reply (its code and text as the server sent them, or code 0 and the
        local error when no answer came): nothing is raised.
        """
        if message is None:
            message = Renderer("id").render_test()
        try:
            return self.send(message, [to]).transcript
        except (SmtpUnavailable, SmtpRefused) as exc:
            return exc.transcript

    def greet(self) -> tuple[Reply, ...]:
        """Connect, EHLO, STARTTLS and log in as configured, then QUIT: no mail is sent.

        For ``pelangi-collector doctor``: returns the conversation; raises
        :class:`SmtpUnavailable` naming the step that failed, as :meth:`send` does.
        """
        transcript: list[Reply] = []
        target = self.settings.display

        def quit_(smtp: smtplib.SMTP) -> None:
            self._expect(transcript, "QUIT", smtp.quit(), target)

        self._converse(transcript, quit_, last_step="QUIT")
        return tuple(transcript)

    def _transact(self, mail: EmailMessage, to: list[str]) -> EmailDelivery:
        transcript: list[Reply] = []
        target = self.settings.display
        return self._converse(
            transcript, lambda smtp: self._envelope(smtp, mail, to, transcript, target)
        )

    def _converse(
        self,
        transcript: list[Reply],
        then: Callable[[smtplib.SMTP], T],
        *,
        last_step: str = "MAIL FROM",
    ) -> T:
        """Connect, greet, secure and log in, then ``then``; every failure as our errors."""
        target = self.settings.display
        # Named before each step, so an error without a reply still says where it happened.
        step = "connect"
        smtp: smtplib.SMTP | None = None
        try:
            smtp = self._connect(transcript)
            step = "EHLO"
            self._expect(transcript, step, smtp.ehlo(), target)
            if self.settings.security == "starttls":
                step = "STARTTLS"
                self._expect(transcript, step, smtp.starttls(context=self._tls_context()), target)
                step = "EHLO"
                self._expect(transcript, step, smtp.ehlo(), target)
            if self.settings.username is not None:
                step = "AUTH"
                self._login(smtp, transcript, target)
            step = last_step
            return then(smtp)
        except (SmtpUnavailable, SmtpRefused):
            raise
        except smtplib.SMTPResponseException as exc:
            reply = Reply(step, exc.smtp_code, _text(exc.smtp_error))
            raise SmtpUnavailable(target, reply, transcript, answered=True) from None
        except (OSError, smtplib.SMTPException) as exc:
            # socket.timeout, refused, reset, ssl.SSLError (all OSError); disconnected.
            reply = Reply(step, 0, _local_error(exc))
            raise SmtpUnavailable(target, reply, transcript, answered=False) from None
        finally:
            # No QUIT on a failure: the server may be the thing that hangs; just hang up.
            if smtp is not None:
                smtp.close()

    def _connect(self, transcript: list[Reply]) -> smtplib.SMTP:
        host, port, timeout = (
            self.settings.host,
            self.settings.effective_port,
            self.settings.timeout_s,
        )
        smtp: smtplib.SMTP
        if self.settings.security == "tls":
            smtp = smtplib.SMTP_SSL(timeout=timeout, context=self._tls_context())
        else:
            smtp = smtplib.SMTP(timeout=timeout)
        # smtplib checks the certificate against the host given to its constructor, which
        # connect() does not record; the constructor would connect and drop the banner.
        smtp._host = host  # type: ignore[attr-defined]  # noqa: SLF001 - see above
        try:
            code, banner = smtp.connect(host, port)
        except BaseException:
            smtp.close()
            raise
        transcript.append(Reply("connect", code, _text(banner)))
        return smtp

    def _login(self, smtp: smtplib.SMTP, transcript: list[Reply], target: str) -> None:
        # Both or neither: SmtpSettings checks it.
        username, password = self.settings.username or "", self.settings.password
        secret = "" if password is None else password.get_secret_value()
        try:
            code, text = smtp.login(username, secret)
        except smtplib.SMTPAuthenticationError as exc:
            reply = Reply("AUTH", exc.smtp_code, _text(exc.smtp_error))
            raise SmtpUnavailable(target, reply, transcript, answered=True) from None
        except smtplib.SMTPNotSupportedError:
            reply = Reply("AUTH", 0, "the server offers no AUTH (after STARTTLS, if configured)")
            raise SmtpUnavailable(target, reply, transcript, answered=True) from None
        transcript.append(Reply("AUTH", code, _text(text)))

    def _envelope(
        self,
        smtp: smtplib.SMTP,
        mail: EmailMessage,
        to: list[str],
        transcript: list[Reply],
        target: str,
    ) -> EmailDelivery:
        message_id = str(mail["Message-ID"])
        self._expect(transcript, "MAIL FROM", smtp.mail(_bare(self.settings.sender)), target)
        results = []
        for address in to:
            code, text = smtp.rcpt(address)
            transcript.append(Reply(f"RCPT TO:<{address}>", code, _text(text)))
            results.append(RecipientResult(address, code, _text(text)))
        if not any(r.accepted for r in results):
            # Nobody to deliver to: end the transaction politely; the results say why.
            smtp.rset()
            return EmailDelivery(message_id, tuple(results), tuple(transcript))
        answer: tuple[int, bytes | str]
        try:
            answer = smtp.data(mail.as_bytes(policy=mail.policy.clone(linesep="\r\n")))
        except smtplib.SMTPDataError as exc:  # refused the DATA command itself
            answer = (exc.smtp_code, exc.smtp_error)
        code = answer[0]
        reply = Reply("DATA", code, _text(answer[1]))
        transcript.append(reply)
        if code >= 500:
            raise SmtpRefused(target, reply, transcript)
        if code != OK:
            raise SmtpUnavailable(target, reply, transcript, answered=True)
        code, text = smtp.quit()
        transcript.append(Reply("QUIT", code, _text(text)))
        return EmailDelivery(message_id, tuple(results), tuple(transcript))

    @staticmethod
    def _expect(transcript: list[Reply], step: str, answer: tuple[int, bytes], target: str) -> None:
        code, text = answer
        reply = Reply(step, code, _text(text))
        transcript.append(reply)
        if not 200 <= code < 300:
            raise SmtpUnavailable(target, reply, transcript, answered=True)


def _bare(sender: str) -> str:
    """The address in ``Name <address>`` (or the whole text), for ``MAIL FROM``."""
    return sender.rsplit("<", 1)[-1].rstrip(">").strip() if "<" in sender else sender


def _local_error(exc: BaseException) -> str:
    # smtplib turns a timeout while reading a reply into SMTPServerDisconnected; the
    # timeout is its context.
    if isinstance(exc, smtplib.SMTPServerDisconnected) and exc.__context__ is not None:
        exc = exc.__context__
    if isinstance(exc, socket.timeout | TimeoutError):
        return "no answer within the timeout"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ssl.SSLError):
        return f"TLS failed: {exc.reason or exc}"
    return f"{type(exc).__name__}: {exc}"


class SmtpUnavailable(DeliveryUnavailable):
    """:class:`DeliveryUnavailable` with the server's failing ``reply`` and the ``transcript``.

    ``reply.code`` is 0 when no answer came (refused, timeout, TLS failure).
    """

    def __init__(
        self, target: str, reply: Reply, transcript: Sequence[Reply], *, answered: bool
    ) -> None:
        """Create the error; ``transcript`` ends with ``reply``."""
        super().__init__(target, str(reply), answered=answered)
        self.reply = reply
        self.transcript = _ending_with(transcript, reply)


class SmtpRefused(DeliveryRefused):
    """:class:`DeliveryRefused` with the server's ``reply`` and the ``transcript``."""

    def __init__(self, target: str, reply: Reply, transcript: Sequence[Reply]) -> None:
        """Create the error; ``transcript`` ends with ``reply``."""
        super().__init__(target, str(reply), answered=True)
        self.reply = reply
        self.transcript = _ending_with(transcript, reply)


def _ending_with(transcript: Sequence[Reply], reply: Reply) -> tuple[Reply, ...]:
    return tuple(transcript) if transcript[-1:] == [reply] else (*transcript, reply)
