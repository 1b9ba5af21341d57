"""The SMTP server process behind :class:`sandbox.servers.smtp.Smtp` (aiosmtpd, one event loop).

Run as ``python -m sandbox.servers.smtp_main --port P --maildir DIR [options]``. It accepts
mail in one of three security modes (``none``, ``starttls``, ``tls``), optionally asks for
AUTH LOGIN/PLAIN with one user, optionally refuses given recipients with a 550, and writes
every accepted message to ``DIR`` as one ``.eml`` file (written aside, then renamed, so a
reader never sees half a message). The envelope is kept in headers added on top, as a
delivering MTA adds ``Return-Path`` and ``Delivered-To``:
``X-Envelope-From``, ``X-Envelope-To`` (comma separated) and ``X-Auth-User``; and
``X-Received-Ns``, when the server had the whole message (``time.time_ns()``, just before
it answers 250), so a benchmark can time delivery by the server's own clock.

It prints :data:`READY` (flushed) once it listens, for the parent to wait on.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import signal
import ssl
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

if TYPE_CHECKING:
    from collections.abc import Sequence

READY: Final = "pelangi-smtp ready"


class Recorder:
    """The aiosmtpd handler: refuses the listed recipients, records every accepted message."""

    def __init__(self, maildir: Path, refuse: frozenset[str]) -> None:
        """Write messages to ``maildir``; answer 550 to RCPT TO of any address in ``refuse``."""
        self.maildir = maildir
        self.refuse = refuse
        # Continue after the files already there: a restarted server must not overwrite.
        start = 1 + max((int(p.stem) for p in maildir.glob("*.eml") if p.stem.isdigit()), default=0)
        self._numbers = itertools.count(start)

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        """Accept a recipient, unless it is one to refuse."""
        del server, session, rcpt_options
        if address.lower() in self.refuse:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 - aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        """Write the message, its envelope on top, to the next numbered file."""
        del server
        received_ns = time.time_ns()
        content = envelope.original_content or b""
        user = session.login_data.decode() if isinstance(session.login_data, bytes) else ""
        top = (
            f"X-Envelope-From: {envelope.mail_from}\r\n"
            f"X-Envelope-To: {', '.join(envelope.rcpt_tos)}\r\n"
            f"X-Auth-User: {user}\r\n"
            f"X-Received-Ns: {received_ns}\r\n"
        ).encode()
        number = next(self._numbers)
        final = self.maildir / f"{number:06d}.eml"
        partial = final.with_suffix(".partial")
        partial.write_bytes(top + content)
        partial.rename(final)
        return f"250 2.0.0 Ok: queued as {number:06d}"


def _authenticator(user: str, password: str) -> Any:  # noqa: ANN401 - aiosmtpd's callback type
    def check(
        server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: object
    ) -> AuthResult:
        del server, session, envelope, mechanism
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == user
            and auth_data.password.decode() == password
        )
        return AuthResult(success=ok, handled=False, auth_data=auth_data)

    return check


def _parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--maildir", type=Path, required=True)
    parser.add_argument("--security", choices=("none", "starttls", "tls"), default="none")
    parser.add_argument("--cert", type=Path)
    parser.add_argument("--key", type=Path)
    parser.add_argument("--user")
    parser.add_argument("--password")
    parser.add_argument("--refuse", action="append", default=[])
    return parser.parse_args(argv)


async def _serve(args: argparse.Namespace) -> None:
    args.maildir.mkdir(parents=True, exist_ok=True)
    context: ssl.SSLContext | None = None
    if args.security != "none":
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert, args.key)
    handler = Recorder(args.maildir, frozenset(a.lower() for a in args.refuse))
    auth: dict[str, Any] = {}
    if args.user is not None:
        auth = {
            "authenticator": _authenticator(args.user, args.password or ""),
            "auth_required": True,
            # With implicit TLS the whole connection is encrypted, but aiosmtpd only counts
            # STARTTLS as encryption; without TLS at all (a test mode) AUTH must still work.
            "auth_require_tls": args.security == "starttls",
        }

    def protocol() -> SMTP:
        return SMTP(
            handler,
            hostname="pelangi-test-smtp",
            tls_context=context if args.security == "starttls" else None,
            require_starttls=args.security == "starttls",
            **auth,
        )

    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        protocol, args.host, args.port, ssl=context if args.security == "tls" else None
    )
    stopped = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopped.set)
    print(READY, flush=True)  # noqa: T201 - the parent waits for this line
    async with server:
        await stopped.wait()


def main(argv: Sequence[str] | None = None) -> None:
    """Serve until SIGTERM or SIGINT."""
    args = _parse(sys.argv[1:] if argv is None else argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
