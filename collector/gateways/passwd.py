"""Mosquitto's password file: its hash format and its lines. Pure.

Mosquitto 2.0 reads ``user:$7$<iterations>$<salt>$<hash>`` lines: PBKDF2-HMAC-SHA512 over
the password with a 12-byte random salt, 101 iterations, salt and 64-byte hash in standard
base64 — what ``mosquitto_passwd`` writes (checked against it in the tests). Pelangi writes
the file itself rather than calling ``mosquitto_passwd``, whose ``-c`` replaces a whole file
and whose concurrent runs can leave it empty; :mod:`.files` does the locking and the
atomic replace.

Lines are kept as they are (comments, blank lines, other users, other hash formats), so a
file that people also edit by hand survives being changed here.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Final

from pelangi.errors import TopicError
from pelangi.topics import check_ident

ITERATIONS: Final = 101
"""mosquitto_passwd's default for ``$7$``."""
SALT_BYTES: Final = 12
_HASH: Final = re.compile(r"^\$7\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$")


class PasswdError(ValueError):
    """A password file line or a user name is not what Mosquitto reads."""


def hash_password(password: str, *, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    """The ``$7$...`` hash of ``password`` (a fresh random salt unless one is given)."""
    salt = secrets.token_bytes(SALT_BYTES) if salt is None else salt
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def verify(hashed: str, password: str) -> bool:
    """Whether ``password`` matches a ``$7$`` hash (False for another or a broken format)."""
    match = _HASH.match(hashed)
    if match is None:
        return False
    iterations, salt, expected = int(match[1]), match[2], match[3]
    try:
        again = hash_password(password, salt=base64.b64decode(salt), iterations=iterations)
    except ValueError:
        return False
    return hmac.compare_digest(again.rsplit("$", 1)[1], expected)


def new_password() -> str:
    """A random password for a gateway: 24 URL-safe characters (144 bits)."""
    return secrets.token_urlsafe(18)


def check_user(name: str) -> str:
    """``name`` if Pelangi may create it as a broker user; raises :class:`PasswdError`.

    A gateway id's characters: no ':' nor spaces, which the file format cannot hold.
    """
    try:
        return check_ident(name, "user name")
    except TopicError as exc:
        raise PasswdError(str(exc)) from None


@dataclass(frozen=True, slots=True)
class PasswdFile:
    """A password file's lines, in order, with the users they define."""

    lines: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str, source: str) -> PasswdFile:
        """Read ``text`` (from ``source``, for errors); raises :class:`PasswdError`.

        A line that is neither blank, a comment nor ``user:hash`` is refused, naming its
        number: Mosquitto would refuse to start on it too.
        """
        lines = tuple(text.splitlines())
        seen: set[str] = set()
        for number, line in enumerate(lines, 1):
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            user, colon, hashed = line.partition(":")
            if not colon or not user or not hashed:
                raise PasswdError(f"{source}:{number}: expected user:hash, got {line[:40]!r}")
            if user in seen:
                raise PasswdError(f"{source}:{number}: user {user!r} is defined twice")
            seen.add(user)
        return cls(lines)

    def users(self) -> list[str]:
        """The users defined, in file order."""
        return [user for user, _ in self._entries()]

    def hash_of(self, user: str) -> str | None:
        """The stored hash of ``user`` (None: no such user)."""
        return next((hashed for name, hashed in self._entries() if name == user), None)

    def with_user(self, user: str, hashed: str) -> PasswdFile:
        """This file with ``user`` set to ``hashed`` (replaced in place, or appended)."""
        line = f"{check_user(user)}:{hashed}"
        if self.hash_of(user) is None:
            return PasswdFile((*self.lines, line))
        return PasswdFile(tuple(line if _user_of(old) == user else old for old in self.lines))

    def without_user(self, user: str) -> PasswdFile:
        """This file with ``user``'s line removed."""
        return PasswdFile(tuple(line for line in self.lines if _user_of(line) != user))

    def text(self) -> str:
        """The file's content."""
        return "".join(f"{line}\n" for line in self.lines)

    def _entries(self) -> list[tuple[str, str]]:
        found = []
        for line in self.lines:
            user = _user_of(line)
            if user is not None:
                found.append((user, line.partition(":")[2]))
        return found


def _user_of(line: str) -> str | None:
    if not line.strip() or line.lstrip().startswith("#"):
        return None
    return line.partition(":")[0]


__all__ = [
    "ITERATIONS",
    "PasswdError",
    "PasswdFile",
    "check_user",
    "hash_password",
    "new_password",
    "verify",
]
