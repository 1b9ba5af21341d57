"""The life cycle every sandbox server shares, and free loopback ports to run them on.

Every server lives in a work folder of its own (configuration, data, log), runs as a child
process started without a shell, and is stopped by PID. Each is a context manager; all
share the life cycle of :class:`Server`: ``start()`` returns only once the server is
ready (or raises :class:`ServerError` with the tail of its log), ``stop()`` asks politely
and then insists, ``kill()`` simulates a crash, ``restart()`` comes back on the same port.
"""

from __future__ import annotations

import socket
from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Self

from sandbox.processes import ChildProcess, SandboxError, ServerError
from sandbox.waiting import wait_until

if TYPE_CHECKING:
    from types import TracebackType

LOOPBACK = "127.0.0.1"


def free_port(kind: Literal["tcp", "udp"] = "tcp", host: str = LOOPBACK) -> int:
    """Return a port on ``host`` that is free right now (the OS picks it).

    The port is released before returning, so another process could take it before the
    caller binds it; on a test machine that race is rare, and a server that then fails to
    bind says so in its log (``start()`` reports it).
    """
    sock_type = socket.SOCK_STREAM if kind == "tcp" else socket.SOCK_DGRAM
    with socket.socket(socket.AF_INET, sock_type) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


class Server(ABC):
    """Life cycle shared by the sandbox servers (see the module docstring)."""

    name: str = "server"
    start_timeout: float = 15.0
    stop_timeout: float = 10.0

    def __init__(self, workdir: Path) -> None:
        """Use ``workdir`` (created if missing) for configuration, data and the log."""
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._process: ChildProcess | None = None

    # -- what each server defines ---------------------------------------------------------

    @abstractmethod
    def _argv(self) -> list[str]:
        """The command line (after :meth:`_prepare` wrote any configuration)."""

    def _prepare(self) -> None:  # noqa: B027 - an optional hook, empty by default
        """Write configuration and create folders before each start."""

    @abstractmethod
    def _is_ready(self) -> bool:
        """Whether the freshly started process is ready to serve."""

    def _after_start(self) -> None:  # noqa: B027 - an optional hook, empty by default
        """Runs once the server is ready."""

    def _before_stop(self) -> None:  # noqa: B027 - an optional hook, empty by default
        """Runs before the process is stopped or killed (close client resources)."""

    def _after_stop(self) -> None:  # noqa: B027 - an optional hook, empty by default
        """Runs after the process has exited."""

    def _env(self) -> dict[str, str] | None:
        """The child's environment (None: inherit ours)."""
        return None

    def _run_as(self) -> str | None:
        """The user the child runs as (None: as we do)."""
        return None

    # -- life cycle -----------------------------------------------------------------------

    @property
    def log_path(self) -> Path:
        """The server's log file (stdout and stderr of every run, appended)."""
        return self.workdir / f"{self.name}.log"

    @property
    def running(self) -> bool:
        """Whether the server process is alive."""
        return self._process is not None and self._process.running

    @property
    def started(self) -> bool:
        """Whether :meth:`start` has been called (the process may have ended since)."""
        return self._process is not None

    @property
    def pid(self) -> int:
        """The PID of the server process (of its last run if it has stopped)."""
        return self.process.pid

    @property
    def process(self) -> ChildProcess:
        """The child process of the current (or last) run."""
        if self._process is None:
            raise SandboxError(f"{self.name} has not been started")
        return self._process

    def start(self) -> Self:
        """Start the server and return once it is ready.

        Raises:
            ServerError: the process exited or did not become ready within
                ``start_timeout`` s; the message includes the tail of its log.
        """
        if self.running:
            raise SandboxError(f"{self.name} is already running as PID {self.pid}")
        self._prepare()
        self._process = ChildProcess(
            self._argv(),
            log_path=self.log_path,
            name=self.name,
            env=self._env(),
            user=self._run_as(),
        )
        self._process.start()
        try:
            wait_until(
                self._ready_or_dead,
                timeout=self.start_timeout,
                what=f"{self.name} is ready",
                interval=0.01,
            )
            self._after_start()
        except TimeoutError as exc:
            self.kill()
            raise ServerError(f"{exc}; its log ends with:\n{self.log_tail()}") from None
        except BaseException:
            # Whatever went wrong (even Ctrl-C), a half-started server must not outlive us.
            self.kill()
            raise
        return self

    def _ready_or_dead(self) -> bool:
        process = self.process
        if not process.running:
            raise ServerError(
                f"{self.name} {process.describe_exit()} while starting; "
                f"its log ends with:\n{self.log_tail()}"
            )
        return self._is_ready()

    def stop(self) -> int | None:
        """Stop the server (SIGTERM, then SIGKILL after ``stop_timeout`` s); return its status."""
        if self._process is None:
            return None
        self._before_stop()
        status = self._process.stop(self.stop_timeout)
        self._after_stop()
        return status

    def kill(self) -> int | None:
        """Kill the server at once (SIGKILL), as a crash or power cut would; return its status."""
        if self._process is None:
            return None
        self._before_stop()
        status = self._process.kill()
        self._after_stop()
        return status

    def restart(self) -> Self:
        """Stop the server if it runs, then start it again on the same address."""
        self.stop()
        return self.start()

    def log_text(self) -> str:
        """Everything the current (or last) run has logged."""
        return "" if self._process is None else self._process.log_text()

    def log_tail(self, lines: int = 40) -> str:
        """The last ``lines`` lines of the log (all runs)."""
        return "" if self._process is None else self._process.log_tail(lines)

    def __enter__(self) -> Self:
        """Start the server."""
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Stop the server."""
        self.stop()
