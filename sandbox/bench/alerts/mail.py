"""What the SMTP server accepted, read back: when, which kind of notification, about where.

The server stamps every message with ``X-Received-Ns`` (:mod:`sandbox.servers.smtp_main`)
when it has the whole message, on this machine's clock, which is also the clock the
publisher reads before it publishes a reading: the two are comparable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from sandbox.servers.smtp import Smtp

RECEIVED_HEADER: Final = "X-Received-Ns"
_SITE: Final = re.compile(r"\b(?:alarm|held)-\d{3}\b")


@dataclass(frozen=True, slots=True)
class Mail:
    """One accepted message, reduced to what the benchmark matches on."""

    received_ns: int
    kind: str
    """``firing``, ``resolved`` or ``repeat`` (the notification id opens the Message-ID)."""
    sites: frozenset[str]
    """The benchmark's alarm sites the message names (subject and plain-text body)."""


def received(smtp: Smtp) -> list[Mail]:
    """Every message ``smtp`` has accepted so far, oldest first."""
    found = []
    for message in smtp.messages():
        body = message.get_body(("plain",))
        text = f"{message['Subject']}\n{body.get_content() if body is not None else ''}"
        kind = str(message["Message-ID"]).strip("<>").split("-", 1)[0]
        found.append(Mail(int(str(message[RECEIVED_HEADER])), kind, frozenset(_SITE.findall(text))))
    return found
