"""The whole chain for real: ``pelangi-agent`` and ``pelangi-collector`` as child processes.

:class:`Deployment` writes the two configuration files for a sandbox broker, database and
simulated readers, runs ``pelangi-collector setup-db``, then starts the collector and the
agent exactly as an operator would, and knows when each is ready by watching the outside
world (the broker's log, the agent's open file descriptors), not the programs' own words.

This module ties the deployables together for tests and the demo; production code never
imports it.
"""

from __future__ import annotations

import glob
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Self

import yaml

from collector.config import CollectorSettings
from edge_agent.config import AgentSettings
from pelangi.topics import ReadingTopic
from sandbox.processes import ChildProcess, SandboxError, venv_program
from sandbox.waiting import wait_until

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Sequence
    from types import TracebackType

    from pelangi.logs import LogLevel
    from sandbox.servers import InfluxDB, Mosquitto, SerialPty


FAKETIME_LIB_GLOB: Final = "/usr/lib/*-linux-gnu/faketime/libfaketimeMT.so.1"
"""Where Debian's libfaketime puts its multi-threaded library (the agent runs threads)."""


def faketime_env(offset: str) -> dict[str, str]:
    """Environment variables that give a child process a wrong wall clock, e.g. ``"-365d"``.

    libfaketime (Debian ``faketime``) is preloaded with ``FAKETIME=offset``; the monotonic
    clock stays real (``FAKETIME_DONT_FAKE_MONOTONIC``), as on a gateway whose battery-less
    clock is wrong. Add them to the child's environment.

    Raises:
        SandboxError: libfaketime is not installed.
    """
    return {
        "LD_PRELOAD": str(_faketime_library()),
        "FAKETIME": offset,
        "FAKETIME_DONT_FAKE_MONOTONIC": "1",
    }


def _faketime_library() -> Path:
    try:
        listed = subprocess.run(
            ["dpkg", "-L", "libfaketime"], capture_output=True, text=True, check=False, timeout=10
        ).stdout.splitlines()
    except (OSError, subprocess.TimeoutExpired):
        listed = []
    found = [p for p in listed if p.endswith("/libfaketimeMT.so.1")]
    found += sorted(glob.glob(FAKETIME_LIB_GLOB))  # noqa: PTH207 - a glob over absolute paths
    if not found:
        raise SandboxError(
            "libfaketime is not installed: expected libfaketimeMT.so.1 (Debian package "
            "faketime); run scripts/install-debian-packages"
        )
    return Path(found[0])


@dataclass(frozen=True)
class Reader:
    """A simulated reader the agent is configured to read."""

    id: str
    pty: SerialPty
    hold_gap_ms: int = 500


@dataclass(frozen=True)
class DeploymentSettings:
    """What the generated configurations say beyond the servers' addresses."""

    site: str = "sandbox-site"
    gateway: str = "gw-sandbox"
    collector_id: str = "collector-1"
    batch_max_points: int = 1000
    batch_max_delay_ms: int = 100
    log_level: LogLevel = "info"
    agent_extra: dict[str, Any] = field(default_factory=dict)
    agent_env: dict[str, str] = field(default_factory=dict)
    """Added to the agent's environment, e.g. :func:`faketime_env` for a wrong clock."""
    collector_extra: dict[str, Any] = field(default_factory=dict)


class Deployment:
    """``pelangi-agent run`` and ``pelangi-collector run`` against sandbox servers.

    Use :meth:`start` (or ``with``) to write the configurations, create the database and
    start both programs; :meth:`stop` ends them (agent first) by PID.
    """

    ready_timeout: float = 30.0

    def __init__(  # noqa: PLR0913 - every collaborator is required and named at the call
        self,
        workdir: Path,
        *,
        broker: Mosquitto,
        influx: InfluxDB,
        database: str,
        readers: Sequence[Reader],
        settings: DeploymentSettings | None = None,
    ) -> None:
        """Describe the chain; nothing runs until :meth:`start`."""
        self.workdir = workdir
        self.broker = broker
        self.influx = influx
        self.database = database
        self.readers = list(readers)
        self.settings = settings or DeploymentSettings()
        self.agent_config_path = workdir / "agent.yaml"
        self.collector_config_path = workdir / "collector.yaml"
        self.agent_settings = AgentSettings.model_validate(self.agent_config())
        self.collector_settings = CollectorSettings.model_validate(self.collector_config())
        self.agent = ChildProcess(
            [venv_program("pelangi-agent"), "run", "--config", self.agent_config_path],
            log_path=workdir / "agent.log",
            name="pelangi-agent",
            env=os.environ | self.settings.agent_env if self.settings.agent_env else None,
        )
        self.collector = ChildProcess(
            [venv_program("pelangi-collector"), "run", "--config", self.collector_config_path],
            log_path=workdir / "collector.log",
            name="pelangi-collector",
        )

    def agent_config(self) -> dict[str, Any]:
        """The agent's configuration, as written to :attr:`agent_config_path`."""
        s = self.settings
        config: dict[str, Any] = {
            "site": s.site,
            "gateway": s.gateway,
            "mqtt": {"host": self.broker.host, "port": self.broker.port},
            "readers": [
                {
                    "id": reader.id,
                    "kind": "rdm6300",
                    "port": str(reader.pty.device),
                    "baudrate": 9600,
                    "hold_gap_ms": reader.hold_gap_ms,
                }
                for reader in self.readers
            ],
            "state_dir": str(self.workdir / "agent-state"),
            "log_level": s.log_level,
        }
        return {**config, **s.agent_extra}

    def collector_config(self) -> dict[str, Any]:
        """The collector's configuration, as written to :attr:`collector_config_path`."""
        s = self.settings
        config: dict[str, Any] = {
            "collector_id": s.collector_id,
            "mqtt": {"host": self.broker.host, "port": self.broker.port},
            "influxdb": {
                "backend": "influxdb1",
                "url": self.influx.url,
                "database": self.database,
            },
            "batch": {"max_points": s.batch_max_points, "max_delay_ms": s.batch_max_delay_ms},
            "log_level": s.log_level,
        }
        return {**config, **s.collector_extra}

    def topic(self, reader_id: str) -> str:
        """The MQTT topic the agent publishes ``reader_id``'s readings on."""
        return str(ReadingTopic(self.settings.site, self.settings.gateway, reader_id))

    def write_configs(self) -> None:
        """Write both configuration files."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        for path, config in (
            (self.agent_config_path, self.agent_config()),
            (self.collector_config_path, self.collector_config()),
        ):
            path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")

    def setup_db(self, timeout: float = 60.0) -> str:
        """Run ``pelangi-collector setup-db`` and return its output.

        Raises:
            SandboxError: it failed; the message carries its output.
        """
        return self.collector_command("setup-db", timeout=timeout)

    def collector_command(
        self, *args: str | Path, timeout: float = 120.0, ok: Collection[int] = (0,)
    ) -> str:
        """Run ``pelangi-collector ARGS --config <ours>`` and return its output.

        ``ok``: the exit statuses that are not a failure (an import that needs confirming
        exits 3, and the demo shows it).

        Raises:
            SandboxError: it exited with another status; the message carries its output.
        """
        return self.tool(
            "pelangi-collector",
            *args,
            "--config",
            self.collector_config_path,
            timeout=timeout,
            ok=ok,
        )

    def agent_command(
        self, *args: str | Path, timeout: float = 120.0, ok: Collection[int] = (0,)
    ) -> str:
        """Run ``pelangi-agent ARGS --config <ours>`` and return its output (see above)."""
        return self.tool(
            "pelangi-agent", *args, "--config", self.agent_config_path, timeout=timeout, ok=ok
        )

    @staticmethod
    def tool(
        program: str, *args: str | Path, timeout: float = 120.0, ok: Collection[int] = (0,)
    ) -> str:
        """Run ``program ARGS`` from the virtualenv; its output (stdout and stderr, in order).

        Raises:
            SandboxError: it exited with a status not in ``ok``; the message carries its output.
        """
        argv = [str(venv_program(program)), *map(str, args)]
        # One stream, in the order it was written (progress lines before the summary).
        result = subprocess.run(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=timeout,
            check=False,
        )
        output = result.stdout.strip()
        if result.returncode not in ok:
            command = " ".join(map(str, args))
            raise SandboxError(
                f"`{program} {command}` exited with status {result.returncode}:\n{output}"
            )
        return output

    def start_collector(self) -> None:
        """Start the collector; return once it has subscribed at the broker."""
        self.collector.start()
        self._wait_ready(
            self.collector,
            lambda: self.broker.has_subscribed(
                self.collector_settings.client_id, self.collector_settings.subscription
            ),
            "the collector has subscribed at the broker",
        )

    def start_agent(self) -> None:
        """Start the agent; return once it is connected and holds every reader's port."""
        self.agent.start()
        self._wait_ready(
            self.agent,
            lambda: (
                self.broker.has_connected(self.agent_settings.client_id)
                and all(reader.pty.is_open_by(self.agent.pid) for reader in self.readers)
            ),
            "the agent is connected to the broker and has every reader's port open",
        )

    def _wait_ready(self, process: ChildProcess, ready: Callable[[], bool], what: str) -> None:
        def check() -> bool:
            if not process.running:
                raise SandboxError(
                    f"{process.name} {process.describe_exit()} while starting; "
                    f"its log ends with:\n{process.log_tail()}"
                )
            return bool(ready())

        try:
            wait_until(check, timeout=self.ready_timeout, what=what, interval=0.05)
        except TimeoutError as exc:
            raise SandboxError(
                f"{exc}; {process.name}'s log ends with:\n{process.log_tail()}\n"
                f"the broker's log ends with:\n{self.broker.log_tail()}"
            ) from None

    def start(self) -> Self:
        """Write the configurations, create the database, start the collector, then the agent."""
        self.write_configs()
        self.setup_db()
        self.start_collector()
        self.start_agent()
        return self

    def stop(self) -> dict[str, int | None]:
        """Stop the agent, then the collector (SIGTERM, SIGKILL fallback); return their statuses."""
        return {
            self.agent.name: self.agent.stop(),
            self.collector.name: self.collector.stop(),
        }

    def __enter__(self) -> Self:
        """Start the chain."""
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Stop the chain."""
        self.stop()
