"""Child processes with a log file, started without a shell and stopped by PID."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from pelangi.errors import PelangiError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from types import TracebackType

# Debian installs mosquitto and snmpd in /usr/sbin, which is not on a normal user's PATH.
_EXTRA_PATH = ("/usr/sbin", "/sbin")


class SandboxError(PelangiError):
    """A sandbox process could not be found, started or stopped, or a server answered badly."""


class ServerError(SandboxError):
    """A server did not start (or died); the message carries the tail of its log."""


def find_program(name: str) -> str:
    """Return the absolute path of ``name`` on PATH (or in /usr/sbin, /sbin).

    Raises:
        SandboxError: the program is not installed; the message says how to install it.
    """
    search = os.pathsep.join([os.environ.get("PATH", os.defpath), *_EXTRA_PATH])
    found = shutil.which(name, path=search)
    if found is None:
        raise SandboxError(
            f"{name!r} is not installed (looked in {search}); "
            "run scripts/install-debian-packages (or `make deps`)"
        )
    return found


def venv_program(name: str) -> Path:
    """Return the path of a console script installed beside the running interpreter.

    The tests and the demo run the real ``pelangi-agent`` and ``pelangi-collector`` the
    way an operator does; taking them from the interpreter's own ``bin`` folder makes
    sure they belong to this virtualenv, whatever PATH says.

    Raises:
        SandboxError: the script is not there (package not installed in this venv).
    """
    path = Path(sys.executable).parent / name
    if not path.exists():
        raise SandboxError(
            f"{path} does not exist: install the package into this virtualenv "
            "(`make venv`, i.e. pip install -e '.[dev]')"
        )
    return path


def read_tail(path: Path, lines: int = 40, *, since: int = 0) -> str:
    """Return the last ``lines`` lines of a text file from byte offset ``since`` ("" if none)."""
    try:
        with path.open("rb") as file:
            file.seek(since)
            data = file.read()
    except FileNotFoundError:
        return ""
    text = data.decode("utf-8", errors="replace")
    return "\n".join(text.splitlines()[-lines:])


def as_user(user: str | None) -> dict[str, Any]:
    """:class:`subprocess.Popen` arguments that run a child as ``user`` (None: as we are).

    The child takes the user's own group and drops every other: root's supplementary
    groups must not follow a server into its unprivileged life.
    """
    if user is None:
        return {}
    return {"user": user, "group": pwd.getpwnam(user).pw_gid, "extra_groups": []}


class ChildProcess:
    """One program run as a child process, its stdout and stderr appended to a log file.

    Each start appends a header line to the log, so a log that spans restarts still
    shows which run said what; :meth:`log_text` reads only the current run.
    """

    def __init__(  # noqa: PLR0913 - keyword options of one Popen call
        self,
        argv: Sequence[str | os.PathLike[str]],
        *,
        log_path: Path,
        name: str | None = None,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        user: str | None = None,
    ) -> None:
        """Describe the process; nothing runs until :meth:`start`.

        ``user``: run as that user, with its own group and no other (we must be root):
        for servers that refuse to run as root, such as PostgreSQL.
        """
        self.argv = [os.fspath(arg) for arg in argv]
        self.log_path = log_path
        self.name = name or Path(self.argv[0]).name
        self.env = dict(env) if env is not None else None
        self.cwd = cwd
        self.user = user
        self._popen: subprocess.Popen[bytes] | None = None
        self._run_offset = 0

    def start(self) -> Self:
        """Start the program (it must not be running already)."""
        if self.running:
            raise SandboxError(f"{self.name} is already running as PID {self.pid}")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self._run_offset = log.tell()
            stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
            log.write(f"=== {stamp} starting: {' '.join(self.argv)}\n".encode())
            log.flush()
            # The child gets its own copy of the log descriptor; ours closes with the block.
            self._popen = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
                cwd=self.cwd,
                **as_user(self.user),
            )
        return self

    @property
    def started(self) -> bool:
        """Whether :meth:`start` has been called (the process may have ended since)."""
        return self._popen is not None

    @property
    def pid(self) -> int:
        """The process id of the current (or last) run."""
        if self._popen is None:
            raise SandboxError(f"{self.name} has not been started")
        return self._popen.pid

    @property
    def running(self) -> bool:
        """Whether the process was started and has not exited."""
        return self._popen is not None and self._popen.poll() is None

    @property
    def returncode(self) -> int | None:
        """The exit status of the last run (negative: killed by that signal), None if running."""
        return None if self._popen is None else self._popen.poll()

    def signal(self, signum: signal.Signals) -> None:
        """Send ``signum`` to the process if it is still running."""
        if self.running and self._popen is not None:
            self._popen.send_signal(signum)

    def stop(self, timeout: float = 10.0) -> int | None:
        """Ask the process to end (SIGTERM); SIGKILL it if it has not within ``timeout`` s.

        Returns the exit status (None if it was never started).
        """
        if self._popen is None:
            return None
        if self._popen.poll() is None:
            self._popen.terminate()
            try:
                return self._popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self._append_note(f"did not stop within {timeout:g} s of SIGTERM; sending SIGKILL")
                self._popen.kill()
        return self._popen.wait()

    def kill(self) -> int | None:
        """End the process at once (SIGKILL) and reap it; return its exit status."""
        if self._popen is None:
            return None
        if self._popen.poll() is None:
            self._popen.kill()
        return self._popen.wait()

    def wait(self, timeout: float) -> int:
        """Wait for the process to exit by itself and return its exit status.

        Raises:
            subprocess.TimeoutExpired: it is still running after ``timeout`` s.
        """
        if self._popen is None:
            raise SandboxError(f"{self.name} has not been started")
        return self._popen.wait(timeout)

    def log_text(self) -> str:
        """Everything the current (or last) run has written so far."""
        try:
            with self.log_path.open("rb") as file:
                file.seek(self._run_offset)
                return file.read().decode("utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 40) -> str:
        """The last ``lines`` lines of the log (all runs)."""
        return read_tail(self.log_path, lines)

    def describe_exit(self) -> str:
        """The exit status in words, e.g. ``exited with status 2`` or ``was killed by SIGKILL``."""
        code = self.returncode
        if code is None:
            return "is running" if self._popen is not None else "was never started"
        if code < 0:
            return f"was killed by {signal.Signals(-code).name}"
        return f"exited with status {code}"

    def _append_note(self, note: str) -> None:
        with self.log_path.open("ab") as log:
            log.write(f"=== sandbox: {self.name} {note}\n".encode())

    def __enter__(self) -> Self:
        """Start the process."""
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Stop the process."""
        self.stop()
