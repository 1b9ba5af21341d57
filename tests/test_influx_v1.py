"""The InfluxDB 1.x backend against a real influxd: what each answer becomes."""

from __future__ import annotations

import socket
import time
from typing import TYPE_CHECKING

import pytest

from collector.config import InfluxV1Settings, RetentionSettings
from collector.encoding import LineEncoder
from collector.errors import DatabaseNotFound, PointsRejected, StorageUnavailable
from collector.storage.influx_v1 import InfluxV1Writer
from collector.storage.setup_v1 import ROLLUPS, RetentionPolicy, continuous_queries
from pelangi.card import em4100
from pelangi.payloads import SCHEMA_VERSION, AgentHealth, CardRead, Envelope, decode, encode
from sandbox.servers import LOOPBACK, free_port

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sandbox.servers import InfluxDB

pytestmark = pytest.mark.servers


@pytest.fixture
def writer(influxdb: InfluxDB, influx_db: str) -> Iterator[InfluxV1Writer]:
    backend = InfluxV1Writer(InfluxV1Settings(url=influxdb.url, database=influx_db))
    yield backend
    backend.close()


def test_writes_lines_and_pings(writer: InfluxV1Writer, influxdb: InfluxDB, influx_db: str) -> None:
    writer.write(["m,t=a f=1i 1000", "m,t=b f=2i 2000"])
    rows = influxdb.query("SELECT * FROM m", db=influx_db)
    assert [(row["t"], row["f"], row["time"]) for row in rows] == [("a", 1, 1000), ("b", 2, 2000)]
    assert writer.ping().startswith("1.")


def test_clock_corrected_readings_are_stored_marked_and_others_unmarked(
    writer: InfluxV1Writer, influxdb: InfluxDB, influx_db: str
) -> None:
    now = time.time_ns()
    card = em4100(bytes.fromhex("01001293D8"))
    readings = (
        CardRead(seq=1, ts=now, card=card),
        CardRead(seq=2, ts=now + 1, card=card, clock_corrected=True),
        AgentHealth(
            seq=3,
            ts=now + 2,
            uptime_s=1.0,
            clock_offset_ms=-86_400_000,
            ntp_synchronized=False,
            clock_corrected=True,
        ),
    )
    envelope = Envelope(v=SCHEMA_VERSION, site="s", gateway="g", device="d", readings=readings)
    lines, refused = LineEncoder().encode(decode(encode(envelope)))  # as the collector would
    assert refused == []
    writer.write(lines)
    cards = influxdb.query("SELECT seq, clock_corrected FROM card_read", db=influx_db)
    assert [(row["seq"], row["clock_corrected"]) for row in cards] == [(1, None), (2, True)]
    (health,) = influxdb.query("SELECT * FROM agent_health", db=influx_db)
    assert (health["clock_offset_ms"], health["ntp_synchronized"]) == (-86_400_000, False)
    assert health["clock_corrected"] is True


def test_gzip_and_retention_policy(influxdb: InfluxDB, influx_db: str) -> None:
    settings = InfluxV1Settings(
        url=influxdb.url + "/", database=influx_db, retention_policy="autogen", gzip=True
    )
    backend = InfluxV1Writer(settings)
    try:
        backend.write([f"m f={n}i {n}" for n in range(1, 501)])
    finally:
        backend.close()
    assert influxdb.query("SELECT count(f) FROM m", db=influx_db)[0]["count"] == 500


def test_refused_data_carries_influxdb_message(writer: InfluxV1Writer) -> None:
    writer.write(["m f=1i 1"])
    with pytest.raises(PointsRejected, match="field type conflict") as caught:
        writer.write(['m f="text" 2'])
    assert 'input field "f" on measurement "m" is type string' in caught.value.message


def test_unparsable_line_is_refused(writer: InfluxV1Writer) -> None:
    with pytest.raises(PointsRejected, match="unable to parse"):
        writer.write(["m f=1i 1", "not line protocol"])


def test_missing_database_says_how_to_create_it(influxdb: InfluxDB) -> None:
    backend = InfluxV1Writer(InfluxV1Settings(url=influxdb.url, database="no_such_database"))
    try:
        with pytest.raises(DatabaseNotFound, match="pelangi-collector setup-db") as caught:
            backend.write(["m f=1i 1"])
    finally:
        backend.close()
    # Retryable: the readings wait in the broker until someone creates it.
    assert isinstance(caught.value, StorageUnavailable)


def test_setup_creates_database_retention_and_rollups_idempotently(influxdb: InfluxDB) -> None:
    name = f"setup_{free_port()}"
    backend = InfluxV1Writer(InfluxV1Settings(url=influxdb.url, database=name))
    retention = RetentionSettings(raw_days=90, rollup_days=1825, rollup_interval="5m")
    try:
        done = backend.setup(retention)
        assert done[0] == f"created database {name!r}"
        assert "create retention policy 'raw'" in done
        assert "create retention policy 'rollup'" in done
        assert sum(x.startswith("create continuous query") for x in done) == len(ROLLUPS)
        assert backend.setup(retention) == []  # idempotent

        policies = backend.retention_policies()
        assert policies["raw"] == RetentionPolicy("raw", "2160h0m0s", default=True)
        assert policies["rollup"].duration == "43800h0m0s"
        assert len(backend.continuous_queries()) == len(ROLLUPS)

        # Another interval replaces the rollups rather than adding to them.
        hourly = retention.model_copy(update={"rollup_interval": "1h", "raw_days": 30})
        changed = backend.setup(hourly)
        assert "alter retention policy 'raw'" in changed
        assert sum(x.startswith("drop continuous query") for x in changed) == len(ROLLUPS)
        assert len(backend.continuous_queries()) == len(ROLLUPS)
        assert backend.setup(hourly) == []
    finally:
        backend.close()
        influxdb.drop_database(name)


PORT = "interface,device=sw,gateway=g,port=p1,site=s"


def test_every_rollup_query_runs_and_fills_the_rollup_policy(influxdb: InfluxDB) -> None:
    """Each continuous query's SELECT ... INTO, run once by hand over the last hour."""
    name = f"rollup_{free_port()}"
    backend = InfluxV1Writer(InfluxV1Settings(url=influxdb.url, database=name))
    retention = RetentionSettings()
    now = time.time_ns() - 60 * 10**9
    try:
        backend.setup(retention)
        backend.write(
            [
                f"{PORT} if_index=1i,in_bps=10.0,out_bps=4.0,oper_up=1i,seq=1i {now}",
                f"{PORT} if_index=1i,in_bps=30.0,out_bps=6.0,oper_up=0i,seq=2i {now + 1}",
                f'card_read,device=r,gateway=g,site=s uid="00000001",seq=3i {now}',
            ]
        )
        for statement in continuous_queries(name, "raw", retention).values():
            select = statement.split(" BEGIN ")[1].removesuffix(" END")
            influxdb.query(
                select.replace(" GROUP BY", " WHERE time > now() - 1h GROUP BY"), db=name
            )
        rows = influxdb.query('SELECT * FROM "rollup"."interface"', db=name)
        assert len(rows) == 1
        assert rows[0]["in_bps"] == 20
        assert rows[0]["in_bps_max"] == 30
        assert rows[0]["oper_up_min"] == 0
        assert rows[0]["port"] == "p1"
        reads = influxdb.query('SELECT reads FROM "rollup"."card_read"', db=name)
        assert [row["reads"] for row in reads] == [1]
    finally:
        backend.close()
        influxdb.drop_database(name)


def test_nothing_listening_is_unavailable() -> None:
    url = f"http://{LOOPBACK}:{free_port()}"
    backend = InfluxV1Writer(InfluxV1Settings(url=url, timeout_s=2))
    try:
        with pytest.raises(StorageUnavailable, match="cannot connect: Connection refused"):
            backend.write(["m f=1i 1"])
        with pytest.raises(StorageUnavailable):
            backend.ping()
    finally:
        backend.close()


def test_silent_server_is_unavailable_after_the_timeout() -> None:
    # The kernel completes the handshake for a listening socket nobody accepts from.
    with socket.socket() as silent:
        silent.bind((LOOPBACK, 0))
        silent.listen()
        port = silent.getsockname()[1]
        backend = InfluxV1Writer(InfluxV1Settings(url=f"http://{LOOPBACK}:{port}", timeout_s=0.2))
        try:
            with pytest.raises(StorageUnavailable, match=r"no answer within 0\.2 s"):
                backend.write(["m f=1i 1"])
        finally:
            backend.close()
