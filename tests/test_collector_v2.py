"""The v2 write API backend (influxdb-client) against real servers.

No InfluxDB 2.x/3.x can run here; VictoriaMetrics (Debian's package) accepts the same
``/api/v2/write`` requests, so writes, errors and a whole collector run are tested
against it. Against InfluxDB 1.6 (no v2 API), the backend must say so rather than
pretend (influxdb-client's own ``ping()`` answers True there).
"""

from __future__ import annotations

import threading
import time
from importlib.metadata import version
from typing import TYPE_CHECKING

import pytest
import urllib3

from collector.config import BatchSettings, CollectorSettings, InfluxV2Settings
from collector.errors import StorageUnavailable
from collector.metrics import Metrics
from collector.service import run
from collector.storage.influx_v2 import InfluxV2Writer
from pelangi.mqtt import MqttSettings
from sandbox.load import Load
from sandbox.servers import VictoriaMetrics, free_port
from sandbox.waiting import wait_until

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from sandbox.logbook import LogBook
    from sandbox.servers import InfluxDB, Mosquitto

pytestmark = pytest.mark.servers

TIMEOUT = 30.0


@pytest.fixture
def victoria(tmp_path: Path, log_book: LogBook) -> Iterator[VictoriaMetrics]:
    server = VictoriaMetrics(tmp_path / "victoria")
    remove = log_book.add("victoria-metrics", server)
    try:
        with server:
            yield server
    finally:
        remove()


def v2(url: str, timeout_s: float = 5) -> InfluxV2Settings:
    return InfluxV2Settings(
        backend="influxdb2", url=url, org="pelangi", bucket="pelangi", timeout_s=timeout_s
    )


def test_writes_through_the_v2_api_and_pings(victoria: VictoriaMetrics) -> None:
    writer = InfluxV2Writer(v2(victoria.url))
    now = time.time_ns()
    try:
        assert writer.ping()
        writer.write([f"card_read,site=s,device=d seq={k}i {now + k * 10**6}" for k in range(50)])
        wait_until(
            lambda: victoria.count("card_read_seq") == 50, timeout=TIMEOUT, what="50 samples"
        )
    finally:
        writer.close()


def test_influxdb_1x_is_not_taken_for_a_v2_server(influxdb: InfluxDB) -> None:
    writer = InfluxV2Writer(v2(influxdb.url))
    try:
        with pytest.raises(StorageUnavailable, match="HTTP 404"):
            writer.ping()
        with pytest.raises(StorageUnavailable, match="HTTP 404"):
            writer.write(["m f=1i 1"])
    finally:
        writer.close()


def test_nothing_listening_is_unavailable() -> None:
    writer = InfluxV2Writer(v2(f"http://127.0.0.1:{free_port()}", timeout_s=2))
    try:
        with pytest.raises(StorageUnavailable, match="request failed"):
            writer.write(["m f=1i 1"])
    finally:
        writer.close()


def test_influxdb_client_and_urllib3_share_one_environment() -> None:
    # grafana-client's urllib3-future replaced urllib3 for everyone (ENV-NOTES): check
    # that the urllib3 influxdb-client uses is the real one the v1 backend uses.
    from influxdb_client._sync import rest  # noqa: PLC0415 - the point is what it imports

    assert rest.urllib3 is urllib3  # type: ignore[attr-defined]
    assert version("urllib3").startswith("2.")
    assert "urllib3_future" not in urllib3.__file__


def test_the_collector_stores_through_the_v2_backend(
    mosquitto: Mosquitto, victoria: VictoriaMetrics
) -> None:
    settings = CollectorSettings(
        collector_id="collector-v2",
        mqtt=MqttSettings(host=mosquitto.host, port=mosquitto.port),
        influxdb=v2(victoria.url),
        batch=BatchSettings(max_points=100, max_delay_ms=50),
        stats_interval_s=0.5,
    )
    stop = threading.Event()
    thread = threading.Thread(target=run, args=(settings, stop), kwargs={"metrics": Metrics()})
    thread.start()
    try:
        wait_until(
            lambda: mosquitto.has_subscribed(settings.client_id, settings.subscription),
            timeout=TIMEOUT,
            what="the collector has subscribed",
        )
        with Load(mosquitto, messages=300, rate_per_s=2000) as load:
            load.wait(TIMEOUT)
        wait_until(
            lambda: victoria.count("card_read_seq") == 300,
            timeout=TIMEOUT,
            what="VictoriaMetrics holds the 300 card reads",
        )
        wait_until(
            lambda: victoria.count("collector_stats_messages_in") > 0,
            timeout=TIMEOUT,
            what="the collector's own metrics arrive too",
        )
    finally:
        stop.set()
        thread.join(TIMEOUT)
    assert not thread.is_alive()
