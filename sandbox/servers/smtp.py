"""A real SMTP server process (aiosmtpd) on a free loopback port, recording what it accepts.

:class:`Smtp` runs :mod:`sandbox.servers.smtp_main` as a child process, so a test can stop,
kill and restart it like any other server. Modes (``security``): ``none`` (plain),
``starttls`` and ``tls`` (implicit TLS, as on port 465), both on a throwaway self-signed
certificate (:func:`make_certificate`, for ``127.0.0.1`` and ``localhost``; a client trusts
it by loading :attr:`Certificate.cert_path` as its CA file). With ``user`` set, the server
requires AUTH (LOGIN or PLAIN); ``refuse`` lists recipients it answers 550.

Every accepted message is one ``.eml`` file in :attr:`Smtp.maildir`, kept across restarts;
:meth:`Smtp.messages` reads them back, :meth:`Smtp.wait_for_messages` waits for some.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import ipaddress
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from sandbox.servers.base import LOOPBACK, Server, free_port
from sandbox.servers.pyserver import child_env
from sandbox.servers.smtp_main import READY
from sandbox.waiting import wait_until

if TYPE_CHECKING:
    from collections.abc import Collection
    from email.message import EmailMessage
    from pathlib import Path

Security = Literal["none", "starttls", "tls"]


@dataclass(frozen=True, slots=True)
class Certificate:
    """A self-signed certificate and its private key, as PEM files."""

    cert_path: Path
    key_path: Path


def make_certificate(folder: Path, *, days: int = 2) -> Certificate:
    """Write a fresh self-signed certificate for ``127.0.0.1`` and ``localhost`` into ``folder``.

    An EC P-256 key: generating it takes a millisecond, where RSA takes a good part of a
    second, and every Python ``ssl`` build accepts it.
    """
    folder.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pelangi-test-smtp")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(LOOPBACK))]
            ),
            critical=False,
        )
        # A CA flag, so the client can load this very certificate as its trust anchor.
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    paths = Certificate(folder / "smtp-cert.pem", folder / "smtp-key.pem")
    paths.cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths.key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


class Smtp(Server):
    """aiosmtpd on ``127.0.0.1:<port>`` (see the module docstring)."""

    name = "smtp"

    def __init__(  # noqa: PLR0913 - keyword options of one server
        self,
        workdir: Path,
        *,
        security: Security = "none",
        certificate: Certificate | None = None,
        user: str | None = None,
        password: str | None = None,
        refuse: Collection[str] = (),
        port: int | None = None,
    ) -> None:
        """Prepare a server in ``workdir`` (``certificate``: required for STARTTLS and TLS)."""
        super().__init__(workdir)
        if security != "none" and certificate is None:
            raise ValueError(f"security={security!r} needs a certificate (make_certificate)")
        self.host = LOOPBACK
        self.port = port if port is not None else free_port()
        self.security: Security = security
        self.certificate = certificate
        self.user = user
        self.password = password
        self.refuse = tuple(refuse)

    @property
    def maildir(self) -> Path:
        """Where accepted messages are written, one ``.eml`` file each."""
        return self.workdir / "mail"

    def _env(self) -> dict[str, str]:
        return child_env()

    def _argv(self) -> list[str]:
        argv = [sys.executable, "-m", "sandbox.servers.smtp_main"]
        argv += ["--host", self.host, "--port", str(self.port), "--maildir", str(self.maildir)]
        argv += ["--security", self.security]
        if self.certificate is not None:
            argv += ["--cert", str(self.certificate.cert_path)]
            argv += ["--key", str(self.certificate.key_path)]
        if self.user is not None:
            argv += ["--user", self.user, "--password", self.password or ""]
        for address in self.refuse:
            argv += ["--refuse", address]
        return argv

    def _is_ready(self) -> bool:
        return READY in self.log_text()

    def messages(self) -> list[EmailMessage]:
        """Every message accepted so far (all runs), oldest first."""
        return [
            email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            for path in sorted(self.maildir.glob("*.eml"))
        ]

    def wait_for_messages(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        """Wait until at least ``count`` messages were accepted; return them all."""

        def enough() -> list[EmailMessage] | None:
            found = self.messages()
            return found if len(found) >= count else None

        return wait_until(
            enough,
            timeout=timeout,
            what=f"the SMTP server has accepted {count} message(s)",
        )


__all__ = ["Certificate", "Security", "Smtp", "make_certificate"]
