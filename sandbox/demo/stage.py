"""The demo's stage: the names its deployment uses, and everything it started.

:class:`Demo` remembers every server and process the demo starts, so that all of them are
stopped at the end, whatever happens (a failed check, an exception, Ctrl-C).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Final

from sandbox.demo.output import say
from sandbox.logbook import LogBook
from sandbox.processes import ChildProcess, SandboxError

if TYPE_CHECKING:
    from collections.abc import Callable

    from sandbox.deployment import Deployment
    from sandbox.servers import Server

SITE: Final = "bukit-pelangi"
GATEWAY: Final = "gw-kantor-bupati"
READER: Final = "rfid-lobby"
DATABASE: Final = "pelangi"
HOLD_GAP_MS: Final = 300
ARRIVAL_TIMEOUT_S: Final = 20.0


class DemoFailedError(SandboxError):
    """Something the demo checks did not hold."""


@dataclass
class Demo:
    """What the demo started, so that it can all be stopped, whatever happens."""

    work: Path
    log_book: LogBook = field(default_factory=LogBook)
    servers: list[Server] = field(default_factory=list)
    deployment: Deployment | None = None
    extra: list[ChildProcess] = field(default_factory=list)
    """Programs the demo started besides the servers, the agent and the collector."""
    kept: list[Path] = field(default_factory=list)
    """Files the demo made for people to open afterwards (not removed)."""

    def processes(self) -> list[ChildProcess]:
        """Every child process the demo has started (running or not)."""
        found = [server.process for server in self.servers if server.started]
        if self.deployment is not None:
            found += [self.deployment.agent, self.deployment.collector]
        found += self.extra
        return [process for process in found if process.started]

    def start_server(self, server: Server, label: str) -> None:
        """Start ``server``, remembering it for the final clean-up."""
        self.servers.append(server)
        self.log_book.add(label, server)
        server.start()

    def stop_all(self) -> list[str]:
        """Stop the agent and collector, then the servers (newest first); return leftovers.

        Each stop is tried even if an earlier one failed: a failure is reported, not fatal.
        """
        stoppers: list[tuple[str, Callable[[], object]]] = [
            (process.name, process.stop) for process in reversed(self.extra)
        ]
        if self.deployment is not None:
            stoppers.append(("the agent and the collector", self.deployment.stop))
        stoppers += [(server.name, server.stop) for server in reversed(self.servers)]
        for name, stop in stoppers:
            try:
                stop()
            except (OSError, SandboxError) as exc:
                say(f"    could not stop {name}: {exc}")
        return [
            f"{process.name} (PID {process.pid})"
            for process in self.processes()
            if process.running or Path(f"/proc/{process.pid}").exists()
        ]
