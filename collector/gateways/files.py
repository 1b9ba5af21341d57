"""Changing the broker's password and ACL files safely: one writer at a time, atomically.

:func:`editing` takes an exclusive lock (``<password file>.lock``, ``flock``: released
by the kernel if the process dies), reads both files, hands them over, and writes back
what changed: each to a temporary file in the same directory, synced, then renamed over
the old one, keeping its permission bits (and owner and group, when run as root). Mosquitto
therefore never reads a half-written file, two ``gateway add`` at once never lose each
other's change, and a crash leaves the old file or the new one, never an empty one.

The password file is written before the ACL: a gateway added halfway has a login but no
topic (it can do nothing); one removed halfway has topics but no login (it cannot log in).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

from collector.gateways.acl import AclError, AclFile
from collector.gateways.passwd import PasswdError, PasswdFile

if TYPE_CHECKING:
    from collections.abc import Iterator

NEW_PASSWD_MODE: Final = 0o640
"""A new password file: the hashes readable by the broker's group, not by everyone."""
NEW_ACL_MODE: Final = 0o644


class GatewayFilesError(Exception):
    """A file could not be read, parsed or written (the message names it)."""


@dataclass(slots=True)
class Files:
    """The two files as read; set new values and :func:`editing` writes them back."""

    passwd: PasswdFile
    acl: AclFile


@contextlib.contextmanager
def editing(passwd_path: Path, acl_path: Path) -> Iterator[Files]:
    """Lock, read, yield, write back what changed (see the module docstring).

    Raises:
        GatewayFilesError: a file is unreadable, malformed or cannot be written; nothing
            was changed unless the message says the password file was.
    """
    lock_path = passwd_path.with_name(f"{passwd_path.name}.lock")
    try:
        lock = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise GatewayFilesError(
            f"{lock_path}: cannot create the lock file: {exc.strerror}"
        ) from None
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        before = Files(
            PasswdFile.parse(_read(passwd_path), str(passwd_path)),
            AclFile.parse(_read(acl_path), str(acl_path)),
        )
        files = Files(before.passwd, before.acl)
        yield files
        if files.passwd != before.passwd:
            _replace(passwd_path, files.passwd.text(), NEW_PASSWD_MODE)
        if files.acl != before.acl:
            try:
                _replace(acl_path, files.acl.text(), NEW_ACL_MODE)
            except GatewayFilesError as exc:
                changed = (
                    " (the password file was changed already)"
                    if files.passwd != before.passwd
                    else ""
                )
                raise GatewayFilesError(f"{exc}{changed}") from None
    except (PasswdError, AclError) as exc:
        raise GatewayFilesError(str(exc)) from None
    finally:
        os.close(lock)  # closing releases the lock


def _read(path: Path) -> str:
    """The file's text ("" if it does not exist yet: the first gateway creates it)."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise GatewayFilesError(f"{path}: cannot read it: {reason}") from None


def _replace(path: Path, text: str, new_mode: int) -> None:
    """Write ``text`` to ``path`` atomically, keeping its mode (and owner, as root)."""
    try:
        old = path.stat()
    except FileNotFoundError:
        old = None
    try:
        fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as exc:
        raise GatewayFilesError(f"{path}: cannot write in {path.parent}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fchmod(handle.fileno(), new_mode if old is None else old.st_mode & 0o7777)
            if old is not None and os.geteuid() == 0:
                os.fchown(handle.fileno(), old.st_uid, old.st_gid)
            os.fsync(handle.fileno())
        Path(temporary).replace(path)
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise GatewayFilesError(f"{path}: cannot write it: {exc.strerror}") from None


__all__ = ["Files", "GatewayFilesError", "editing"]
