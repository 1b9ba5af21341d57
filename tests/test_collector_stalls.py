"""The watchdog watches progress, with real servers: what ends the collector, what does not.

An error *answer* from InfluxDB that persists (a real HTTP 500, refused credentials, a
missing database) ends ``pelangi-collector run`` with status 70 after ``stall_timeout_s``,
the answer in words on stderr. No answer at all (nothing listens) is waited out, however
long. A stuck MQTT network thread is a stall too.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any, Final

import pytest
import urllib3
import yaml

import collector.service
from collector.config import BatchSettings, CollectorSettings, InfluxV1Settings
from collector.subscriber import Subscriber
from pelangi.mqtt import MqttSettings
from sandbox.load import Load
from sandbox.processes import ChildProcess, venv_program
from sandbox.servers import InfluxDB, free_port
from sandbox.waiting import wait_until

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from sandbox.logbook import LogBook
    from sandbox.servers import Mosquitto

pytestmark = pytest.mark.servers

STALL_S: Final = 3.0
"""The smallest stall_timeout_s the configuration allows with a 1 s InfluxDB timeout."""
EXIT_STALLED: Final = 70
TIMEOUT: Final = 30.0


class TinyCacheInflux(InfluxDB):
    """InfluxDB whose write cache holds nothing: every write is answered HTTP 500."""

    def conf_text(self) -> str:
        return (
            super()
            .conf_text()
            .replace(
                "query-log-enabled = false",
                "query-log-enabled = false\n  cache-max-memory-size = 1",
            )
        )


class AuthInflux(InfluxDB):
    """InfluxDB with authentication on and one admin user (``admin``/``admin-secret``)."""

    def conf_text(self) -> str:
        return (
            super()
            .conf_text()
            .replace("log-enabled = false", "log-enabled = false\n  auth-enabled = true")
        )

    def _after_start(self) -> None:
        # The first admin may be created without credentials; everything else needs them.
        urllib3.PoolManager().request(
            "POST",
            f"{self.url}/query",
            fields={"q": "CREATE USER admin WITH PASSWORD 'admin-secret' WITH ALL PRIVILEGES"},
            encode_multipart=False,
        )


def run_cli(
    tmp_path: Path, log_book: LogBook, broker: Mosquitto, influx: dict[str, Any]
) -> ChildProcess:
    """Start ``pelangi-collector run`` (watchdog at STALL_S) and send it one reading."""
    config = {
        "collector_id": "stall",
        "mqtt": {"host": broker.host, "port": broker.port},
        "influxdb": {"timeout_s": 1, **influx},
        "stall_timeout_s": STALL_S,
    }
    path = tmp_path / "collector.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    process = ChildProcess(
        [venv_program("pelangi-collector"), "run", "--config", path],
        log_path=tmp_path / "collector.log",
    )
    remove = log_book.add("pelangi-collector", process)
    process.start()
    try:
        wait_until(
            lambda: broker.has_subscribed("pelangi-collector-stall"),
            timeout=TIMEOUT,
            what="the collector has subscribed",
        )
        with Load(broker, messages=1, rate_per_s=10) as load:
            load.wait(TIMEOUT)
    except BaseException:
        process.stop()
        remove()
        raise
    return process


def assert_exits_stalled(process: ChildProcess, cause: str) -> None:
    started = time.monotonic()
    try:
        status = process.wait(timeout=TIMEOUT)
    finally:
        process.stop()
    assert status == EXIT_STALLED
    assert time.monotonic() - started < STALL_S + 10
    log = process.log_text()
    assert "pelangi-collector: stalled (storage has refused every write for" in log
    assert cause in log


def serving(
    server: InfluxDB, label: str, log_book: LogBook, database: str | None = None
) -> Iterator[InfluxDB]:
    """Run ``server`` for one test (with ``database`` created), its log shown on failure."""
    remove = log_book.add(label, server)
    try:
        with server:
            if database is not None:
                server.create_database(database)
            yield server
    finally:
        remove()


@pytest.fixture
def tiny_cache_influx(tmp_path: Path, log_book: LogBook) -> Iterator[InfluxDB]:
    yield from serving(
        TinyCacheInflux(tmp_path / "influx-500"), "influxd (500)", log_book, "pelangi"
    )


@pytest.fixture
def auth_influx(tmp_path: Path, log_book: LogBook) -> Iterator[InfluxDB]:
    yield from serving(AuthInflux(tmp_path / "influx-auth"), "influxd (auth)", log_book)


def test_a_permanent_http_500_ends_the_collector_with_the_answer_in_words(
    mosquitto: Mosquitto, tiny_cache_influx: InfluxDB, tmp_path: Path, log_book: LogBook
) -> None:
    process = run_cli(tmp_path, log_book, mosquitto, {"url": tiny_cache_influx.url})
    assert_exits_stalled(process, "HTTP 500: engine: cache-max-memory-size exceeded")


def test_refused_credentials_end_the_collector_with_the_answer_in_words(
    mosquitto: Mosquitto, auth_influx: InfluxDB, tmp_path: Path, log_book: LogBook
) -> None:
    login = {"url": auth_influx.url, "username": "admin", "password": "wrong"}
    process = run_cli(tmp_path, log_book, mosquitto, login)
    assert_exits_stalled(process, "credentials refused (HTTP 401: authorization failed)")


def test_a_missing_database_ends_the_collector_saying_how_to_create_it(
    mosquitto: Mosquitto, influxdb: InfluxDB, tmp_path: Path, log_book: LogBook
) -> None:
    missing = {"url": influxdb.url, "database": f"missing_{mosquitto.port}"}
    process = run_cli(tmp_path, log_book, mosquitto, missing)
    assert_exits_stalled(process, "does not exist; create it with `pelangi-collector setup-db")


def test_storage_that_does_not_answer_at_all_is_waited_out(
    mosquitto: Mosquitto, tmp_path: Path, log_book: LogBook
) -> None:
    port = free_port()
    process = run_cli(tmp_path, log_book, mosquitto, {"url": f"http://127.0.0.1:{port}"})
    try:
        wait_until(
            lambda: process.log_text().count("readings waiting") >= 3,
            timeout=TIMEOUT,
            what="the collector retries",
        )
        deadline = time.monotonic() + 3 * STALL_S
        wait_until(
            lambda: not process.running or time.monotonic() > deadline,
            timeout=TIMEOUT,
            what="three stall timeouts have passed",
        )
        assert process.running, process.log_tail()
        late = InfluxDB(tmp_path / "influx-late", port=port)
        for _ in serving(late, "influxd (late)", log_book, "pelangi"):
            wait_until(
                lambda: late.query("SELECT count(uid) FROM card_read", db="pelangi"),
                timeout=TIMEOUT,
                what="the waiting reading is stored",
            )
    finally:
        process.stop()
    assert "stalled" not in process.log_text()


def test_a_stuck_mqtt_network_thread_is_a_stall(
    mosquitto: Mosquitto,
    influxdb: InfluxDB,
    influx_db: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The network thread blocks on a lock a message needs: the watchdog says so."""
    made: list[Subscriber] = []

    class Recorded(Subscriber):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(collector.service, "Subscriber", Recorded)
    settings = CollectorSettings(
        collector_id="stuck",
        mqtt=MqttSettings(host=mosquitto.host, port=mosquitto.port),
        influxdb=InfluxV1Settings(url=influxdb.url, database=influx_db, timeout_s=1),
        batch=BatchSettings(max_points=10, max_delay_ms=20),
        stall_timeout_s=STALL_S,
    )
    stop = threading.Event()
    stalls: list[str] = []

    def stalled(reason: str) -> None:
        stalls.append(reason)
        stop.set()

    thread = threading.Thread(
        target=collector.service.run, args=(settings, stop), kwargs={"on_stall": stalled}
    )
    thread.start()
    try:
        wait_until(
            lambda: mosquitto.has_subscribed(settings.client_id),
            timeout=TIMEOUT,
            what="subscribed",
        )
        with made[0]._lock:  # the next message's handling waits for this lock
            with Load(mosquitto, messages=1, rate_per_s=10) as load:
                load.wait(TIMEOUT)
            wait_until(lambda: stalls, timeout=TIMEOUT, what="the watchdog's verdict")
    finally:
        stop.set()
        thread.join(TIMEOUT)
    assert not thread.is_alive()
    assert stalls[0].startswith("the MQTT network thread has been stuck for ")
