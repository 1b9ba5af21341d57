"""The email channel against a real SMTP server (aiosmtpd): TLS, login, refusals, outages."""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING, Any

import pytest
from pydantic import SecretStr

from collector.alerts.notify import samples
from collector.alerts.notify.email import EmailChannel, SmtpUnavailable
from collector.alerts.notify.render import Renderer
from collector.alerts.notify.settings import SmtpSettings
from sandbox.servers import LOOPBACK

if TYPE_CHECKING:
    from collections.abc import Callable

    from sandbox.servers import Certificate, Smtp

pytestmark = pytest.mark.servers

USER = "pelangi"
PASSWORD = "rahasia-123"  # noqa: S105 - the test server's own
SENDER = "Pelangi <pelangi@kutaitimurkab.go.id>"


def settings_for(server: Smtp, ca: Certificate | None, **changes: Any) -> SmtpSettings:
    values: dict[str, Any] = {
        "host": server.host,
        "port": server.port,
        "security": server.security,
        "sender": SENDER,
        "timeout_s": 5,
        "ca_file": None if ca is None else ca.cert_path,
    }
    if server.user is not None:
        values |= {"username": server.user, "password": SecretStr(server.password or "")}
    return SmtpSettings(**(values | changes))


def firing_message() -> Any:
    return Renderer("id").render(samples.notifications()[0])


@pytest.mark.parametrize("security", ["none", "starttls", "tls"])
def test_sends_multipart_mail_with_login_in_every_security_mode(
    smtp_server: Callable[..., Smtp], smtp_certificate: Certificate, security: str
) -> None:
    server = smtp_server(security=security, user=USER, password=PASSWORD)
    channel = EmailChannel(settings_for(server, smtp_certificate))
    rendered = firing_message()

    delivery = channel.send(rendered, ["posjaga@pelangi.test"], message_id="firing-abc123")

    assert delivery.accepted == ("posjaga@pelangi.test",)
    assert delivery.refused == ()
    [mail] = server.wait_for_messages(1)
    assert mail["X-Auth-User"] == USER
    assert mail["X-Envelope-From"] == "pelangi@kutaitimurkab.go.id"
    assert mail["Subject"] == rendered.subject
    assert mail["Message-ID"] == "<firing-abc123@pelangi>"
    assert mail.get_content_type() == "multipart/alternative"
    parts = {
        part.get_content_type(): part.get_content().replace("\r\n", "\n")
        for part in mail.iter_parts()
    }
    assert parts["text/plain"] == rendered.text
    assert "<html" in parts["text/html"]
    assert "Pintu terbuka terlalu lama" in parts["text/plain"]


def test_refused_recipient_is_reported_with_the_reply_and_the_others_still_get_it(
    smtp_server: Callable[..., Smtp],
) -> None:
    server = smtp_server(refuse=["hilang@pelangi.test"])
    channel = EmailChannel(settings_for(server, None))

    delivery = channel.send(
        firing_message(), ["satu@pelangi.test", "hilang@pelangi.test", "dua@pelangi.test"]
    )

    assert delivery.accepted == ("satu@pelangi.test", "dua@pelangi.test")
    [refused] = delivery.refused
    assert refused.address == "hilang@pelangi.test"
    assert refused.code == 550
    assert "Recipient address rejected" in refused.reply
    assert not refused.retryable
    [mail] = server.wait_for_messages(1)
    assert mail["X-Envelope-To"] == "satu@pelangi.test, dua@pelangi.test"


def test_every_recipient_refused_sends_nothing_and_says_why(
    smtp_server: Callable[..., Smtp],
) -> None:
    server = smtp_server(refuse=["hilang@pelangi.test"])
    delivery = EmailChannel(settings_for(server, None)).send(
        firing_message(), ["hilang@pelangi.test"]
    )
    assert delivery.accepted == ()
    assert [r.code for r in delivery.refused] == [550]
    # The transaction is over (RSET answered) before send() returns: nothing was written.
    assert server.messages() == []


def test_smtp_stopped_is_a_retryable_error_and_the_message_goes_out_once_it_is_back(
    smtp_server: Callable[..., Smtp], smtp_certificate: Certificate
) -> None:
    server = smtp_server(security="starttls", user=USER, password=PASSWORD)
    channel = EmailChannel(settings_for(server, smtp_certificate))
    server.stop()

    with pytest.raises(SmtpUnavailable) as caught:
        channel.send(firing_message(), ["it@pelangi.test"])
    assert caught.value.retryable
    assert not caught.value.answered
    assert caught.value.reply.code == 0
    assert caught.value.reply.step == "connect"
    assert "connection refused" in str(caught.value)

    server.start()  # same port, same mail folder
    delivery = channel.send(firing_message(), ["it@pelangi.test"])
    assert delivery.accepted == ("it@pelangi.test",)
    assert len(server.wait_for_messages(1)) == 1


def test_wrong_password_is_reported_with_the_servers_reply(
    smtp_server: Callable[..., Smtp], smtp_certificate: Certificate
) -> None:
    server = smtp_server(security="tls", user=USER, password=PASSWORD)
    channel = EmailChannel(settings_for(server, smtp_certificate, password=SecretStr("salah")))
    with pytest.raises(SmtpUnavailable) as caught:
        channel.send(firing_message(), ["it@pelangi.test"])
    assert caught.value.answered
    assert caught.value.reply.step == "AUTH"
    assert caught.value.reply.code == 535
    assert server.messages() == []


def test_a_certificate_nobody_trusts_is_refused(
    smtp_server: Callable[..., Smtp],
) -> None:
    server = smtp_server(security="starttls")
    channel = EmailChannel(settings_for(server, None))  # no ca_file: the system CAs only
    with pytest.raises(SmtpUnavailable) as caught:
        channel.send(firing_message(), ["it@pelangi.test"])
    assert caught.value.reply.step == "STARTTLS"
    assert "TLS failed" in caught.value.reason
    assert server.messages() == []


def test_a_server_that_never_answers_times_out_as_retryable() -> None:
    # A socket that listens but never speaks: the kernel completes the handshake, no banner.
    with socket.socket() as silent:
        silent.bind((LOOPBACK, 0))
        silent.listen()
        settings = SmtpSettings(
            host=LOOPBACK,
            port=silent.getsockname()[1],
            security="none",
            sender=SENDER,
            timeout_s=0.3,
        )
        with pytest.raises(SmtpUnavailable) as caught:
            EmailChannel(settings).send(firing_message(), ["it@pelangi.test"])
    assert caught.value.retryable
    assert "no answer within the timeout" in caught.value.reason


def test_send_test_returns_every_answer_of_the_server(
    smtp_server: Callable[..., Smtp], smtp_certificate: Certificate
) -> None:
    server = smtp_server(security="starttls", user=USER, password=PASSWORD)
    channel = EmailChannel(settings_for(server, smtp_certificate))

    replies = channel.send_test("diskominfo@pelangi.test")

    steps = [(r.step, r.code) for r in replies]
    assert steps == [
        ("connect", 220),
        ("EHLO", 250),
        ("STARTTLS", 220),
        ("EHLO", 250),
        ("AUTH", 235),
        ("MAIL FROM", 250),
        ("RCPT TO:<diskominfo@pelangi.test>", 250),
        ("DATA", 250),
        ("QUIT", 221),
    ]
    assert "queued as" in replies[-2].text
    [mail] = server.wait_for_messages(1)
    assert mail["Subject"] == "Pesan uji Pelangi"


def test_send_test_to_a_refused_address_ends_with_the_refusal(
    smtp_server: Callable[..., Smtp],
) -> None:
    server = smtp_server(refuse=["tidak.ada@pelangi.test"])
    replies = EmailChannel(settings_for(server, None)).send_test("tidak.ada@pelangi.test")
    assert str(replies[-1]).startswith("RCPT TO:<tidak.ada@pelangi.test>: 550 5.1.1")


def test_a_hostile_subject_stays_one_header(smtp_server: Callable[..., Smtp]) -> None:
    server = smtp_server()
    channel = EmailChannel(settings_for(server, None))
    rendered = Renderer("id").render_test()
    hostile = type(rendered)("Pintu\r\nBcc: semua@luar.test", rendered.text, rendered.html)
    channel.send(hostile, ["it@pelangi.test"])
    [mail] = server.wait_for_messages(1)
    assert mail["Subject"] == "Pintu Bcc: semua@luar.test"
    assert mail["Bcc"] is None
    assert mail["X-Envelope-To"] == "it@pelangi.test"
