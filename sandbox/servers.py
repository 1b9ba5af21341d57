"""Real servers on free loopback ports for the tests and the demo: Mosquitto, InfluxDB, socat ptys.

Every server lives in a work folder of its own (configuration, data, log), runs as a child
process started without a shell, and is stopped by PID. Each is a context manager; all
share the life cycle of :class:`Server`: ``start()`` returns only once the server is
ready (or raises :class:`ServerError` with the tail of its log), ``stop()`` asks politely
and then insists, ``kill()`` simulates a crash, ``restart()`` comes back on the same port.
"""

from __future__ import annotations

import errno
import json
import os
import re
import socket
import subprocess
from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Self
from urllib.parse import urlencode

import urllib3

from sandbox.processes import ChildProcess, SandboxError, ServerError, find_program
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
            self._argv(), log_path=self.log_path, name=self.name, env=self._env()
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


REFERENCE_CONF = Path(__file__).resolve().parents[1] / "config" / "mosquitto" / "pelangi.conf"
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


class InfluxQueryError(SandboxError):
    """InfluxDB answered a query or write with an error."""


class InfluxDB(Server):
    """A private InfluxDB 1.x (``influxd``) with its data in the work folder.

    Both listeners move to free loopback ports: the HTTP API and the RPC (backup/restore)
    service, whose default 8088 would clash with any other influxd on the machine.
    """

    name = "influxd"
    # A fresh server answers /ping in ~0.03 s, one holding millions of points in ~1 s.
    start_timeout = 30.0

    def __init__(
        self, workdir: Path, *, port: int | None = None, rpc_port: int | None = None
    ) -> None:
        """Prepare a server in ``workdir`` with its HTTP API on ``port`` (free ones if None)."""
        super().__init__(workdir)
        self.host = LOOPBACK
        self.port = port if port is not None else free_port()
        self.rpc_port = rpc_port if rpc_port is not None else free_port()
        self._http: urllib3.HTTPConnectionPool | None = None

    @property
    def conf_path(self) -> Path:
        """The generated configuration file."""
        return self.workdir / "influxdb.conf"

    @property
    def url(self) -> str:
        """The base URL of the HTTP API, e.g. ``http://127.0.0.1:40123``."""
        return f"http://{self.host}:{self.port}"

    def conf_text(self) -> str:
        """The configuration (TOML) written before each start."""
        work = self.workdir
        return f"""\
# Generated by sandbox: a private influxd for tests and the demo.
reporting-enabled = false
bind-address = "{self.host}:{self.rpc_port}"

[meta]
  dir = "{work / "meta"}"

[data]
  dir = "{work / "data"}"
  wal-dir = "{work / "wal"}"
  query-log-enabled = false

[monitor]
  # No _internal database: saves CPU and disk in a short-lived server.
  store-enabled = false

[http]
  bind-address = "{self.host}:{self.port}"
  # One line per request would bury the useful lines when tests poll.
  log-enabled = false

[logging]
  suppress-logo = true
"""

    def _prepare(self) -> None:
        for folder in ("meta", "data", "wal"):
            (self.workdir / folder).mkdir(exist_ok=True)
        self.conf_path.write_text(self.conf_text(), encoding="utf-8")

    def _argv(self) -> list[str]:
        return [find_program("influxd"), "-config", str(self.conf_path)]

    def _env(self) -> dict[str, str]:
        # influxd lets INFLUXDB_* variables override the file (INFLUXDB_HTTP_BIND_ADDRESS...):
        # an operator's environment must not move our private server.
        return {k: v for k, v in os.environ.items() if not k.startswith("INFLUXDB_")}

    def _pool(self) -> urllib3.HTTPConnectionPool:
        if self._http is None:
            self._http = urllib3.HTTPConnectionPool(
                self.host,
                self.port,
                maxsize=4,
                retries=False,
                timeout=urllib3.Timeout(connect=2.0, read=60.0),
            )
        return self._http

    def _is_ready(self) -> bool:
        try:
            response = self._pool().request("GET", "/ping", timeout=1.0)
        except urllib3.exceptions.HTTPError:
            return False
        return response.status == 204

    def _before_stop(self) -> None:
        # Pooled keep-alive sockets would be stale after a restart (and leak if dropped).
        if self._http is not None:
            self._http.close()
            self._http = None

    def query(
        self,
        q: str,
        db: str | None = None,
        *,
        epoch: Literal["ns", "u", "ms", "s"] | None = "ns",
    ) -> list[dict[str, Any]]:
        """Run InfluxQL ``q`` and return the rows of every series of every statement.

        Each row maps column names to values; with ``GROUP BY`` the series' tags are
        included too. Times are integers in ``epoch`` units (ns by default; None gives
        RFC 3339 strings). InfluxDB's JSON writes a float field with a whole value
        without a decimal point (``2.0`` comes back as ``2``): compare numbers, not types.

        Raises:
            InfluxQueryError: the server reported an error (e.g. database not found).
        """
        fields = {"q": q}
        if db is not None:
            fields["db"] = db
        if epoch is not None:
            fields["epoch"] = epoch
        body = self._request("POST", "/query", fields=fields)
        rows: list[dict[str, Any]] = []
        for result in body.get("results", []):
            if "error" in result:
                raise InfluxQueryError(f"query {q!r} failed: {result['error']}")
            for series in result.get("series", []):
                tags = series.get("tags") or {}
                columns = series["columns"]
                rows.extend(
                    {**tags, **dict(zip(columns, values, strict=True))}
                    for values in series["values"]
                )
        return rows

    def create_database(self, name: str) -> None:
        """Create database ``name`` (no-op if it exists)."""
        self.query(f"CREATE DATABASE {_quote_ident(name)}")

    def drop_database(self, name: str) -> None:
        """Drop database ``name`` and all its data (no-op if it does not exist)."""
        self.query(f"DROP DATABASE {_quote_ident(name)}")

    def write(
        self, lines: str, db: str, *, precision: Literal["ns", "u", "ms", "s"] = "ns"
    ) -> None:
        """Write line protocol ``lines`` into ``db`` as-is.

        Raises:
            InfluxQueryError: the server refused the write.
        """
        self._request(
            "POST",
            "/write?" + urlencode({"db": db, "precision": precision}),
            body=lines.encode(),
        )

    def _request(
        self,
        method: str,
        path: str,
        *,
        fields: dict[str, str] | None = None,
        body: bytes | None = None,
    ) -> dict[str, Any]:
        if fields is not None:
            response = self._pool().request(method, path, fields=fields, encode_multipart=False)
        else:
            response = self._pool().request(method, path, body=body)
        text = response.data.decode(errors="replace")
        if response.status >= 300:
            try:
                detail = json.loads(text).get("error", text)
            except ValueError:
                detail = text
            raise InfluxQueryError(f"{method} {path} answered {response.status}: {detail}")
        if not text:
            return {}
        parsed: dict[str, Any] = json.loads(text)
        return parsed


def _quote_ident(name: str) -> str:
    escaped = name.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


class SerialPty(Server):
    """A pair of linked pseudo-terminals standing in for a serial RFID reader.

    :attr:`device` is what the agent opens (as it would ``/dev/ttyUSB0``); bytes given to
    :meth:`write` arrive there, as if the reader had sent them. :meth:`stop` makes the
    device disappear (the reader is unplugged); :meth:`start` brings it back at the same
    path (plugged in again, as a new pty behind the same name).

    Bytes written while nobody has the device open are lost, like a reader talking to an
    unplugged cable (and pyserial flushes input when it opens a port): wait until the
    reading process holds the device (:meth:`is_open_by`) before writing.
    """

    name = "socat"

    def __init__(self, workdir: Path, name: str = "ttyRFID0") -> None:
        """Prepare a pty pair whose device end will be ``workdir / name``."""
        super().__init__(workdir)
        self.device = self.workdir / name
        self.feed_path = self.workdir / f"{name}.feed"
        self._log_name = f"socat-{name}"
        self._feed: int | None = None

    @property
    def log_path(self) -> Path:
        """The socat log (several ptys may share a work folder)."""
        return self.workdir / f"{self._log_name}.log"

    def _argv(self) -> list[str]:
        return [
            find_program("socat"),
            "-d",
            "-d",
            f"pty,raw,echo=0,link={self.device}",
            f"pty,raw,echo=0,link={self.feed_path}",
        ]

    def _prepare(self) -> None:
        # Links left by a killed socat would hide whether the new one has created its own.
        self._remove_links()

    def _is_ready(self) -> bool:
        return (
            self.device.is_symlink()
            and self.feed_path.is_symlink()
            and "starting data transfer loop" in self.log_text()
        )

    def _after_start(self) -> None:
        # One descriptor for the whole run: opening the pty for every write is slow and
        # would let the line discipline see open/close cycles.
        self._feed = os.open(self.feed_path, os.O_RDWR | os.O_NOCTTY)

    def _before_stop(self) -> None:
        if self._feed is not None:
            os.close(self._feed)
            self._feed = None

    def _after_stop(self) -> None:
        # socat removes its links when terminated, but not when killed.
        self._remove_links()

    def _remove_links(self) -> None:
        for link in (self.device, self.feed_path):
            link.unlink(missing_ok=True)

    def write(self, data: bytes) -> None:
        """Send ``data`` to whoever has :attr:`device` open.

        Raises:
            SandboxError: the pty is not running (the reader is unplugged).
        """
        if self._feed is None or not self.running:
            raise SandboxError(f"the pty {self.device} is not running: start() it first")
        view = memoryview(data)
        while view:
            written = os.write(self._feed, view)
            view = view[written:]

    def is_open_by(self, pid: int) -> bool:
        """Whether process ``pid`` has :attr:`device` open right now (read from /proc)."""
        try:
            target = os.path.realpath(self.device, strict=True)
        except OSError:
            return False
        fd_dir = Path(f"/proc/{pid}/fd")
        try:
            fds = list(fd_dir.iterdir())
        except OSError:
            return False
        for fd in fds:
            try:
                if str(fd.readlink()) == target:
                    return True
            except OSError as exc:
                # A descriptor closed between listing and reading: not ours.
                if exc.errno != errno.ENOENT:
                    raise
        return False
