"""A private Mosquitto broker on a loopback port, with the product's delivery settings."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Literal

from sandbox.processes import SandboxError, find_program
from sandbox.servers.base import LOOPBACK, Server, free_port

REFERENCE_CONF = Path(__file__).resolve().parents[2] / "config" / "mosquitto" / "pelangi.conf"
"""The reference broker configuration shipped to operators."""
_SITE_SPECIFIC = frozenset(
    {"listener", "allow_anonymous", "password_file", "acl_file", "persistence_location"}
)
"""Reference directives a private test broker replaces with its own (port, login, paths)."""


def reference_directives(*, persistence: bool = True) -> list[str]:
    """The delivery settings of :data:`REFERENCE_CONF`: queues, saves, session expiry.

    Everything but the listener, the login and the paths, so a test broker keeps exactly
    what the product's broker would keep (and drops nothing it would not).
    """
    lines = []
    for raw in REFERENCE_CONF.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        key = line.split(" ", 1)[0]
        if not line or line.startswith("#") or key in _SITE_SPECIFIC:
            continue
        if not persistence and key in {"persistence", "autosave_interval"}:
            continue
        lines.append(line)
    return lines


class Mosquitto(Server):
    """A private Mosquitto broker listening on a loopback port.

    ``settings="reference"`` (the default) applies the delivery settings of
    ``config/mosquitto/pelangi.conf`` (never drop queued messages, save every second), so a
    test that counts deliveries cannot lose what the product would not; ``"debian"`` runs
    Mosquitto's own defaults (1,000 queued messages per session, a save every 30 minutes),
    as a Debian broker installed without Pelangi's file would. The configuration is
    :meth:`conf_lines` plus ``extra_conf``, appended verbatim (Mosquitto takes the last
    value of a repeated directive).
    """

    name = "mosquitto"

    def __init__(
        self,
        workdir: Path,
        *,
        port: int | None = None,
        extra_conf: str = "",
        persistence: bool = True,
        settings: Literal["reference", "debian"] = "reference",
    ) -> None:
        """Prepare a broker in ``workdir`` on ``port`` (a free one if None)."""
        super().__init__(workdir)
        self.host = LOOPBACK
        self.port = port if port is not None else free_port()
        self.extra_conf = extra_conf
        self.persistence = persistence
        self.settings = settings

    @classmethod
    def with_logins(cls, workdir: Path, password_file: Path, acl_file: Path) -> Mosquitto:
        """A broker that admits only the users of ``password_file``, as ``acl_file`` allows."""
        logins = f"allow_anonymous false\npassword_file {password_file}\nacl_file {acl_file}"
        return cls(workdir, extra_conf=logins)

    @property
    def conf_path(self) -> Path:
        """The generated configuration file."""
        return self.workdir / "mosquitto.conf"

    @property
    def data_dir(self) -> Path:
        """Where the broker saves its persistence file."""
        return self.workdir / "data"

    @property
    def address(self) -> str:
        """``host:port``."""
        return f"{self.host}:{self.port}"

    def conf_lines(self) -> list[str]:
        """The base configuration, one directive per line."""
        lines = [
            f"listener {self.port} {self.host}",
            "allow_anonymous true",
            # stderr is unbuffered; the stdout log is block-buffered when redirected and
            # loses its last lines when the broker is killed.
            "log_dest stderr",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "log_type information",
            "log_type subscribe",
            "log_type unsubscribe",
            "log_timestamp_format %Y-%m-%dT%H:%M:%S",
        ]
        if os.geteuid() == 0:
            # Started as root, Mosquitto drops to the `mosquitto` user, which cannot write
            # our work folder; staying root is harmless for a private loopback broker.
            lines.insert(0, "user root")
        if self.settings == "reference":
            lines += reference_directives(persistence=self.persistence)
        if self.persistence:
            lines += [
                "persistence true",
                # Mosquitto joins the folder and file name as strings: keep the slash.
                f"persistence_location {self.data_dir}/",
            ]
        return lines

    def conf_text(self) -> str:
        """The full configuration written before each start."""
        extra = self.extra_conf.strip()
        return "\n".join([*self.conf_lines(), *([extra] if extra else [])]) + "\n"

    def _prepare(self) -> None:
        self.data_dir.mkdir(exist_ok=True)
        self.conf_path.write_text(self.conf_text(), encoding="utf-8")

    def _argv(self) -> list[str]:
        return [find_program("mosquitto"), "-c", str(self.conf_path)]

    def _is_ready(self) -> bool:
        # Logged after the listener socket is open: the log, not a probe connection, says
        # it is ready (a probe would also succeed against someone else on a racing port).
        return re.search(r"mosquitto version \S+ running", self.log_text()) is not None

    def has_connected(self, client_id: str) -> bool:
        """Whether ``client_id`` has connected since this run of the broker started."""
        pattern = rf"New client connected from \S+ as {re.escape(client_id)} \("
        return re.search(pattern, self.log_text()) is not None

    def has_subscribed(self, client_id: str, topic_filter: str | None = None) -> bool:
        """Whether ``client_id`` has subscribed (to a filter ending in ``topic_filter``).

        Matching the end of the filter also recognises a shared subscription
        (``$share/group/<filter>``). Only the current run of the broker counts.
        """
        suffix = re.escape(topic_filter) if topic_filter is not None else r"\S+"
        pattern = rf"^\S+ {re.escape(client_id)} \d (\S*/)?{suffix}$"
        return re.search(pattern, self.log_text(), flags=re.MULTILINE) is not None

    def publish(
        self,
        topic: str,
        payload: bytes | str,
        *,
        qos: Literal[0, 1, 2] = 1,
        retain: bool = False,
        timeout: float = 10.0,
    ) -> None:
        """Publish one message with ``mosquitto_pub`` (MQTT v5); return once the broker has it.

        Raises:
            SandboxError: mosquitto_pub failed; the message carries its output.
        """
        data = payload.encode() if isinstance(payload, str) else payload
        argv = [find_program("mosquitto_pub"), "-h", self.host, "-p", str(self.port)]
        argv += ["-V", "mqttv5", "-q", str(qos), "-t", topic, "-s"]
        if retain:
            argv.append("-r")
        result = subprocess.run(argv, input=data, capture_output=True, timeout=timeout, check=False)
        if result.returncode != 0:
            output = (result.stdout + result.stderr).decode(errors="replace").strip()
            raise SandboxError(
                f"mosquitto_pub to {topic!r} on {self.address} failed "
                f"(status {result.returncode}): {output}"
            )
