"""Fixtures that start real servers on free loopback ports, and show their logs on failure.

- ``mosquitto`` (function): a fresh broker in the test's tmp_path.
- ``influxdb`` (session): one influxd for the whole run (starting it per test is slow).
- ``own_influx`` (function): a private InfluxDB with database ``pelangi``, free to stop or
  kill (the session's server is shared).
- ``influx_db`` (function): a fresh, uniquely named database on it, dropped afterwards.
- ``snmpd`` (function): a Net-SNMP agent on a free loopback UDP port (a "switch").
- ``make_pty`` (function): a factory of simulated serial readers; ``serial_pty`` is one.
- ``log_book`` (session): where fixtures register logs; when a test fails, the tail of
  every registered log is added to its report.
- ``postgres`` (session): one private PostgreSQL cluster for the whole run.
- ``state_settings`` (function, parametrised ``sqlite`` / ``postgresql``): a fresh, empty
  state database on each backend (an SQLite file in tmp_path; a new database on the
  session's PostgreSQL, dropped afterwards); ``state_db`` opens it (schema at head).
- ``clock`` (function): a :class:`sandbox.outboxes.FakeClock`; ``open_outbox`` opens
  outboxes on it in tmp_path (:class:`sandbox.outboxes.Outboxes`), all closed after.
- ``smtp_server`` (function): a factory of real aiosmtpd servers (plain, STARTTLS, TLS,
  AUTH, refused recipients) on ``smtp_certificate`` (session), recording what they accept.
- ``webhook_server`` (function): a real HTTP server recording JSON POSTs.
- ``alerts_servers`` (function): what an alert engine runs against (broker, an SMTP server,
  InfluxDB, a state database): :class:`sandbox.alerts_scenario.EngineServers`.
"""

from __future__ import annotations

import itertools
import os
from typing import TYPE_CHECKING, Any

import pytest
from pydantic import SecretStr

from collector.state import StateDatabase, StateSettings, open_state
from sandbox.alerts_scenario import EngineServers
from sandbox.logbook import LogBook, served
from sandbox.outboxes import FakeClock, Outboxes
from sandbox.servers import InfluxDB, Mosquitto, PostgreSQL, SerialPty
from sandbox.servers.postgres import PASSWORD
from sandbox.servers.smtp import Certificate, Smtp, make_certificate
from sandbox.servers.webhook import Webhook
from sandbox.snmpd import Snmpd

if TYPE_CHECKING:
    from collections.abc import Callable, Generator, Iterator
    from pathlib import Path

LOG_TAIL_LINES = 40

_LOG_BOOK = pytest.StashKey[LogBook]()


def _log_book(config: pytest.Config) -> LogBook:
    return config.stash.setdefault(_LOG_BOOK, LogBook())


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Attach the tail of every registered server log to a failed test's report."""
    del call
    report = yield
    if report.failed and report.when in {"setup", "call"}:
        for label, tail in _log_book(item.config).tails(LOG_TAIL_LINES):
            report.sections.append((f"log tail: {label}", tail or "(empty)"))
    return report


@pytest.fixture(scope="session")
def log_book(pytestconfig: pytest.Config) -> LogBook:
    """Register logs to be shown when a test fails."""
    return _log_book(pytestconfig)


@pytest.fixture
def mosquitto(tmp_path: Path, log_book: LogBook) -> Iterator[Mosquitto]:
    """A fresh Mosquitto broker on a free loopback port, with its data in tmp_path."""
    yield from served(Mosquitto(tmp_path / "mosquitto"), "mosquitto", log_book)


@pytest.fixture(scope="session")
def influxdb(tmp_path_factory: pytest.TempPathFactory, log_book: LogBook) -> Iterator[InfluxDB]:
    """One InfluxDB server for the whole session; tests use their own database on it."""
    yield from served(InfluxDB(tmp_path_factory.mktemp("influxdb")), "influxd", log_book)


@pytest.fixture
def own_influx(tmp_path: Path, log_book: LogBook) -> Iterator[InfluxDB]:
    """A private InfluxDB with database ``pelangi``, free to stop or kill."""
    influx = InfluxDB(tmp_path / "influxdb")
    remove = log_book.add("influxd (own)", influx)
    try:
        with influx:
            influx.create_database("pelangi")
            yield influx
    finally:
        remove()


_database_numbers = itertools.count(1)


@pytest.fixture
def influx_db(influxdb: InfluxDB, request: pytest.FixtureRequest) -> Iterator[str]:
    """The name of a fresh database on the session's InfluxDB, dropped after the test."""
    name = unique_database_name(request.node.name)
    influxdb.create_database(name)
    yield name
    if influxdb.running:
        influxdb.drop_database(name)


def unique_database_name(hint: str) -> str:
    """A database name no other test of this run uses, readable in influxd's log."""
    stem = "".join(c if c.isalnum() else "_" for c in hint)[:40]
    return f"t{os.getpid()}_{next(_database_numbers)}_{stem}"


@pytest.fixture
def make_pty(tmp_path: Path, log_book: LogBook) -> Iterator[Callable[[str], SerialPty]]:
    """A factory: ``make_pty("ttyLOBBY")`` starts a simulated serial reader and returns it.

    Every pty it made is stopped after the test.
    """
    made: list[tuple[SerialPty, Callable[[], None]]] = []

    def make(name: str = "ttyRFID0") -> SerialPty:
        pty = SerialPty(tmp_path / "pty", name)
        made.append((pty, log_book.add(f"socat {name}", pty)))
        return pty.start()

    try:
        yield make
    finally:
        for pty, remove in made:
            pty.stop()
            remove()


@pytest.fixture
def serial_pty(make_pty: Callable[[str], SerialPty]) -> SerialPty:
    """One simulated serial reader (see ``make_pty``)."""
    return make_pty("ttyRFID0")


@pytest.fixture
def snmpd(tmp_path: Path, log_book: LogBook) -> Iterator[Snmpd]:
    """A real snmpd on a free loopback UDP port, serving this machine's interfaces."""
    yield from served(Snmpd(tmp_path / "snmpd"), "snmpd", log_book)


@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory, log_book: LogBook) -> Iterator[PostgreSQL]:
    """One PostgreSQL server for the whole session; tests use their own database on it."""
    yield from served(PostgreSQL(tmp_path_factory.mktemp("postgres")), "postgres", log_book)


@pytest.fixture(params=["sqlite", "postgresql"])
def state_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateSettings]:
    """Settings of a fresh, empty state database: an SQLite file, or a PostgreSQL database."""
    if request.param == "sqlite":
        yield StateSettings(url=f"sqlite:///{tmp_path / 'state.db'}")
        return
    server: PostgreSQL = request.getfixturevalue("postgres")
    name = unique_database_name(request.node.name).lower()
    server.create_database(name)
    yield StateSettings(url=server.url(name), password=SecretStr(PASSWORD))
    if server.running:
        server.drop_database(name)


@pytest.fixture
def state_db(state_settings: StateSettings) -> Iterator[StateDatabase]:
    """The fresh state database of ``state_settings``, opened (schema at head)."""
    with open_state(state_settings) as database:
        yield database


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def open_outbox(tmp_path: Path, clock: FakeClock) -> Iterator[Outboxes]:
    outboxes = Outboxes(tmp_path, clock)
    yield outboxes
    outboxes.close_all()


# -- notifications (issue 11): a real SMTP server and a webhook receiver ------------------


@pytest.fixture(scope="session")
def smtp_certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    """One throwaway self-signed certificate (127.0.0.1, localhost) for the whole run."""
    return make_certificate(tmp_path_factory.mktemp("smtp-cert"))


@pytest.fixture
def smtp_server(
    tmp_path: Path, log_book: LogBook, smtp_certificate: Certificate
) -> Iterator[Callable[..., Smtp]]:
    """A factory: ``smtp_server(security="starttls", user="u", password="p", refuse=[...])``.

    Starts a real aiosmtpd process on a free loopback port (on the session's certificate
    unless ``security`` is ``none``) and returns it; every server it made is stopped after
    the test, and their logs are shown if the test fails.
    """
    made: list[tuple[Smtp, Callable[[], None]]] = []

    def make(**options: Any) -> Smtp:
        if options.get("security", "none") != "none":
            options.setdefault("certificate", smtp_certificate)
        server = Smtp(tmp_path / f"smtp-{len(made) + 1}", **options)
        made.append((server, log_book.add("smtp", server)))
        return server.start()

    try:
        yield make
    finally:
        for server, remove in made:
            server.stop()
            remove()


@pytest.fixture
def webhook_server(tmp_path: Path, log_book: LogBook) -> Iterator[Webhook]:
    """A real HTTP server on a free loopback port recording JSON POSTs (answers 200)."""
    yield from served(Webhook(tmp_path / "webhook"), "webhook", log_book)


@pytest.fixture
def alerts_servers(
    mosquitto: Mosquitto,
    smtp_server: Callable[..., Smtp],
    influxdb: InfluxDB,
    influx_db: str,
    state_settings: StateSettings,
) -> EngineServers:
    """A broker, a plain SMTP server, a database on the session's InfluxDB, a state database."""
    return EngineServers(mosquitto, smtp_server(), state_settings, influxdb, influx_db)
