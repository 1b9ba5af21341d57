"""The collector against a real Mosquitto and a real InfluxDB.

Good messages become rows, bad ones are counted and acknowledged, and nothing is lost
when the collector, the broker or InfluxDB goes away for a while: the broker keeps the
persistent session's messages, and a message is acknowledged only once it is stored.
Receipts (``pelangi/<site>/<gateway>/stored``) confirm every reading once it, or its dead
letter, is stored: alone, in a shared subscription, and after a SIGKILL and a restart.
"""

from __future__ import annotations

import itertools
import json
import logging
import signal
import subprocess
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import paho.mqtt.client as paho
import pytest
import yaml
from paho.mqtt.enums import CallbackAPIVersion

from collector.config import BatchSettings, CollectorSettings, InfluxV1Settings
from collector.gateways.acl import GatewayAccess
from collector.gateways.files import editing
from collector.gateways.passwd import hash_password
from collector.metrics import Metrics
from collector.service import run
from pelangi.card import em4100
from pelangi.errors import RejectReason
from pelangi.liveness import CollectorState, decode_liveness
from pelangi.mqtt import MqttSettings
from pelangi.payloads import SCHEMA_VERSION, CardRead, DoorReading, Envelope, encode
from pelangi.receipts import CONFIRMS_PROPERTY, PRESENCE_INTERVAL_PROPERTY, decode_receipt
from pelangi.topics import collector_state_topic, stored_topic
from sandbox.logbook import served
from sandbox.processes import ChildProcess, find_program, venv_program
from sandbox.servers import Mosquitto
from sandbox.waiting import wait_until

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sandbox.logbook import LogBook
    from sandbox.servers import InfluxDB

pytestmark = pytest.mark.servers

SITE, GATEWAY = "bukit-pelangi", "gw-test"
TS = time.time_ns() - 3600 * 10**9
"""An hour ago: inside the collector's plausibility window."""
TIMEOUT = 30.0


def topic(device: str = "rfid-lobby") -> str:
    return f"pelangi/{SITE}/{GATEWAY}/reading/{device}"


def envelope(seq: int, device: str = "rfid-lobby") -> Envelope:
    """A one-reading message; ``seq`` also picks the card, so rows tell messages apart."""
    card = em4100(bytes([1]) + seq.to_bytes(4, "big"))
    reading = CardRead(seq=seq, ts=TS + seq, card=card)
    return Envelope(
        v=SCHEMA_VERSION, site=SITE, gateway=GATEWAY, device=device, readings=(reading,)
    )


ACL_FILE = Path(__file__).resolve().parents[1] / "config" / "mosquitto" / "pelangi.acl"


def mqtt_client(broker: Mosquitto, login: MqttSettings | None) -> paho.Client:
    """A plain MQTT v5 client, logged in as ``login`` says (anonymous if None), connected."""
    client = paho.Client(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5)
    if login is not None and login.username is not None:
        password = login.password.get_secret_value() if login.password else None
        client.username_pw_set(login.username, password)
    client.connect(broker.host, broker.port)
    return client


class Publisher:
    """A plain MQTT v5 publisher (QoS 1): returns once the broker holds each message."""

    def __init__(self, broker: Mosquitto, login: MqttSettings | None = None) -> None:
        self.client = mqtt_client(broker, login)
        self.client.loop_start()

    def send(self, topic_name: str, payload: bytes) -> None:
        self.client.publish(topic_name, payload, qos=1).wait_for_publish(timeout=10)

    def cards(self, seqs: range) -> None:
        for seq in seqs:
            self.send(topic(), encode(envelope(seq)))

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def publisher(mosquitto: Mosquitto) -> Iterator[Publisher]:
    client = Publisher(mosquitto)
    yield client
    client.close()


class Watcher:
    """Subscribes to a topic filter (QoS 1) and keeps every message with its user properties."""

    def __init__(
        self, broker: Mosquitto, topic_filter: str, login: MqttSettings | None = None
    ) -> None:
        self.messages: list[tuple[str, bytes, dict[str, str]]] = []
        self.lock = threading.Lock()
        subscribed = threading.Event()
        self.client = mqtt_client(broker, login)
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *_: subscribed.set()
        self.client.loop_start()
        self.client.subscribe(topic_filter, qos=1)
        assert subscribed.wait(TIMEOUT)

    def _on_message(self, _c: paho.Client, _u: object, message: paho.MQTTMessage) -> None:
        props = getattr(message.properties, "UserProperty", [])
        with self.lock:
            self.messages.append((message.topic, bytes(message.payload), dict(props)))

    def received(self) -> list[tuple[str, bytes, dict[str, str]]]:
        with self.lock:
            return list(self.messages)

    def confirmed(self, topic_name: str = stored_topic(SITE, GATEWAY)) -> set[int]:
        """Every seq confirmed on ``topic_name`` so far."""
        seqs: set[int] = set()
        for name, payload, _ in self.received():
            if name == topic_name:
                receipt = decode_receipt(payload)
                seqs |= {s for first, last in receipt.seqs for s in range(first, last + 1)}
        return seqs

    def collectors(self) -> set[str]:
        return {decode_receipt(payload).collector for _, payload, _ in self.received()}

    def wait_confirmed(self, seqs: set[int]) -> None:
        wait_until(
            lambda: self.confirmed() >= seqs, timeout=TIMEOUT, what=f"receipts for {sorted(seqs)}"
        )

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def receipts(mosquitto: Mosquitto) -> Iterator[Watcher]:
    watcher = Watcher(mosquitto, "pelangi/+/+/stored")
    yield watcher
    watcher.close()


def settings_for(
    broker: Mosquitto, influx_url: str, database: str, collector_id: str = "collector-test"
) -> CollectorSettings:
    return CollectorSettings(
        collector_id=collector_id,
        mqtt=MqttSettings(host=broker.host, port=broker.port),
        influxdb=InfluxV1Settings(url=influx_url, database=database, timeout_s=5),
        batch=BatchSettings(max_points=500, max_delay_ms=50),
    )


@contextmanager
def running(settings: CollectorSettings, broker: Mosquitto, metrics: Metrics) -> Iterator[None]:
    """Run the collector on a thread until the block ends; re-raise what it raised."""
    stop = threading.Event()
    failures: list[BaseException] = []

    def main() -> None:
        try:
            run(settings, stop, metrics=metrics, log_interval_s=3600)
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            failures.append(exc)

    thread = threading.Thread(target=main, name="collector-under-test")
    thread.start()
    try:
        wait_until(
            lambda: (
                broker.has_subscribed(settings.client_id, settings.subscription)
                or failures
                or not thread.is_alive()
            ),
            timeout=TIMEOUT,
            what="the collector has subscribed",
        )
        yield
    finally:
        stop.set()
        thread.join(timeout=TIMEOUT)
    assert not thread.is_alive(), "the collector did not stop"
    if failures:
        raise failures[0]


def wait_retrying_with(metrics: Metrics, held: int) -> None:
    """Wait until the collector retries a write with ``held`` messages held."""
    wait_until(
        lambda: metrics.snapshot().storage_retries >= 1 and metrics.snapshot().unacked == held,
        timeout=TIMEOUT,
        what=f"the collector retries with {held} messages held",
    )


def card_count(influx: InfluxDB, database: str) -> int:
    rows = influx.query("SELECT count(uid) FROM card_read", db=database)
    return int(rows[0]["count"]) if rows else 0


def wait_for_cards(influx: InfluxDB, database: str, count: int) -> None:
    wait_until(
        lambda: card_count(influx, database) == count,
        timeout=TIMEOUT,
        what=f"InfluxDB holds {count} card reads",
        interval=0.05,
    )


def test_stores_good_messages_and_rejects_bad_ones_without_stopping(
    mosquitto: Mosquitto,
    influxdb: InfluxDB,
    influx_db: str,
    publisher: Publisher,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    metrics = Metrics()
    with running(settings_for(mosquitto, influxdb.url, influx_db), mosquitto, metrics):
        publisher.cards(range(1, 6))
        good = json.loads(encode(envelope(99)))
        publisher.send(topic(), b"{not json")
        publisher.send(topic(), json.dumps(good | {"v": 2}).encode())
        publisher.send(topic("rfid-side"), encode(envelope(98)))  # payload names rfid-lobby
        good["readings"][0]["card"]["uid"] = "not-hex"
        publisher.send(topic(), json.dumps(good).encode())
        publisher.send(topic("bad device!"), encode(envelope(97)))
        publisher.cards(range(6, 11))

        wait_for_cards(influxdb, influx_db, 10)
        wait_until(
            lambda: metrics.snapshot().rejected_total == 5 and metrics.snapshot().unacked == 0,
            timeout=TIMEOUT,
            what="five rejections counted and nothing left unacked",
        )
    rows = influxdb.query("SELECT * FROM card_read", db=influx_db)
    assert sorted(row["seq"] for row in rows) == list(range(1, 11))
    assert {(row["site"], row["gateway"], row["device"]) for row in rows} == {
        (SITE, GATEWAY, "rfid-lobby")
    }
    assert dict(metrics.snapshot().messages_rejected) == {
        RejectReason.NOT_JSON: 1,
        RejectReason.UNSUPPORTED_VERSION: 1,
        RejectReason.TOPIC_MISMATCH: 1,
        RejectReason.INVALID: 1,
        RejectReason.BAD_TOPIC: 1,
    }
    assert f"rejected message on {topic()} because not_json: not valid JSON" in caplog.text
    assert f"connected to mqtt {mosquitto.address}" in caplog.text


def test_messages_published_while_the_collector_is_away_arrive_when_it_returns(
    mosquitto: Mosquitto,
    influxdb: InfluxDB,
    influx_db: str,
    publisher: Publisher,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    settings = settings_for(mosquitto, influxdb.url, influx_db)
    with running(settings, mosquitto, Metrics()):
        publisher.cards(range(1, 4))
        wait_for_cards(influxdb, influx_db, 3)
    publisher.cards(range(4, 104))
    with running(settings, mosquitto, Metrics()):
        wait_for_cards(influxdb, influx_db, 103)
    assert "(session resumed)" in caplog.text


def test_influxdb_outage_loses_nothing_and_holds_at_most_max_unacked(
    mosquitto: Mosquitto,
    own_influx: InfluxDB,
    publisher: Publisher,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    metrics = Metrics()
    settings = settings_for(mosquitto, own_influx.url, "pelangi")
    settings = settings.model_copy(
        update={"batch": settings.batch.model_copy(update={"max_unacked": 5})}
    )
    with running(settings, mosquitto, metrics):
        publisher.cards(range(1, 21))
        wait_for_cards(own_influx, "pelangi", 20)

        own_influx.kill()
        publisher.cards(range(21, 51))
        wait_retrying_with(metrics, 5)
        own_influx.start()
        wait_for_cards(own_influx, "pelangi", 50)
        wait_until(
            lambda: metrics.snapshot().unacked == 0,
            timeout=TIMEOUT,
            what="every message is acknowledged",
        )
    assert f"InfluxDB at {own_influx.url} unavailable" in caplog.text
    assert "readings waiting" in caplog.text
    assert f"InfluxDB at {own_influx.url} is back" in caplog.text


def test_messages_resent_by_the_broker_while_held_are_taken_once(
    mosquitto: Mosquitto, own_influx: InfluxDB, publisher: Publisher
) -> None:
    """After a reconnect the broker re-sends every unacked message (DUP); we hold them already."""
    metrics = Metrics()
    settings = settings_for(mosquitto, own_influx.url, "pelangi")
    with running(settings, mosquitto, metrics):
        own_influx.kill()
        publisher.cards(range(1, 11))
        wait_until(
            lambda: metrics.snapshot().unacked == 10,
            timeout=TIMEOUT,
            what="10 messages are held while InfluxDB is down",
        )
        mosquitto.restart()
        wait_until(
            lambda: metrics.snapshot().messages_received == 20,
            timeout=TIMEOUT,
            what="the broker has re-sent the 10 held messages",
        )
        assert metrics.snapshot().unacked == 10
        own_influx.start()
        wait_for_cards(own_influx, "pelangi", 10)
        wait_until(
            lambda: metrics.snapshot().unacked == 0,
            timeout=TIMEOUT,
            what="every message is acknowledged",
        )
    # Each of the 10 was taken, stored and confirmed once (the re-sent copies were skipped).
    assert metrics.snapshot().readings_confirmed == 10


def test_broker_restart_is_survived(
    mosquitto: Mosquitto,
    influxdb: InfluxDB,
    influx_db: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    settings = settings_for(mosquitto, influxdb.url, influx_db)
    with running(settings, mosquitto, Metrics()):
        mosquitto.restart()
        wait_until(
            lambda: mosquitto.has_subscribed(settings.client_id, settings.subscription),
            timeout=TIMEOUT,
            what="the collector has subscribed again",
        )
        publisher = Publisher(mosquitto)
        try:
            publisher.cards(range(1, 11))
        finally:
            publisher.close()
        wait_for_cards(influxdb, influx_db, 10)
    assert f"lost connection to mqtt {mosquitto.address}" in caplog.text
    assert "(session resumed)" in caplog.text


def test_cli_acks_only_what_is_stored(
    *,
    mosquitto: Mosquitto,
    influxdb: InfluxDB,
    publisher: Publisher,
    receipts: Watcher,
    tmp_path: Path,
    log_book: LogBook,
) -> None:
    """Killed (SIGKILL) while it cannot store, the collector has acked nothing: rerun, all arrive.

    The database does not exist at first, so every write fails (retryable, 404); then
    ``setup-db`` creates it and the restarted collector stores what the broker kept, and
    confirms it to the gateway.
    """
    database = f"cli_{mosquitto.port}"
    config: dict[str, Any] = {
        "collector_id": "collector-cli",
        "mqtt": {"host": mosquitto.host, "port": mosquitto.port},
        "influxdb": {"url": influxdb.url, "database": database},
        "batch": {"max_points": 100, "max_delay_ms": 20},
    }
    config_path = tmp_path / "collector.yaml"
    config_path.write_text(yaml.safe_dump(config), encoding="utf-8")
    program = venv_program("pelangi-collector")
    collector = ChildProcess(
        [program, "run", "--config", config_path], log_path=tmp_path / "collector.log"
    )
    remove = log_book.add("pelangi-collector", collector)
    client_id, subscription = "pelangi-collector-collector-cli", "pelangi/+/+/reading/+"
    try:
        collector.start()
        wait_until(
            lambda: mosquitto.has_subscribed(client_id, subscription),
            timeout=TIMEOUT,
            what="the collector has subscribed",
        )
        publisher.cards(range(1, 31))
        wait_until(
            lambda: "pelangi-collector setup-db" in collector.log_text(),
            timeout=TIMEOUT,
            what="the collector says the database is missing",
        )
        collector.kill()
        assert receipts.received() == []

        setup = [str(program), "setup-db", "--config", str(config_path)]
        first = subprocess.run(setup, capture_output=True, text=True, timeout=60, check=True)
        again = subprocess.run(setup, capture_output=True, text=True, timeout=60, check=True)
        assert first.stdout.startswith(f"created database '{database}'")
        assert "create retention policy 'raw'" in first.stdout
        assert "already set up as configured; nothing to do" in again.stdout

        collector.start()
        wait_for_cards(influxdb, database, 30)
        receipts.wait_confirmed(set(range(1, 31)))
        publisher.send(topic(), b"garbage")
        wait_until(
            lambda: "rejected message on" in collector.log_text(),
            timeout=TIMEOUT,
            what="the collector logs the rejection",
        )
        collector.signal(signal.SIGTERM)
        assert collector.wait(timeout=TIMEOUT) == 0
    finally:
        collector.stop()
        remove()
        influxdb.drop_database(database)
    log = collector.log_text()
    assert f"connected to mqtt {mosquitto.address} as {client_id} (session resumed)" in log
    assert f"rejected message on {topic()} because not_json" in log
    assert "stopped; " in log
    assert "Traceback" not in log


def test_implausible_timestamps_are_dead_lettered_and_the_rest_of_the_message_stored(
    mosquitto: Mosquitto, influxdb: InfluxDB, influx_db: str, publisher: Publisher
) -> None:
    metrics = Metrics()
    card = em4100(bytes.fromhex("01001293D8"))
    now = time.time_ns()
    readings = (
        CardRead(seq=1, ts=now - 400 * 86_400 * 10**9, card=card),  # a year ago and more
        CardRead(seq=2, ts=now - 10**9, card=card),
        CardRead(seq=3, ts=now + 3600 * 10**9, card=card),  # an hour ahead
    )
    message = Envelope(
        v=SCHEMA_VERSION, site=SITE, gateway=GATEWAY, device="rfid-lobby", readings=readings
    )
    with running(settings_for(mosquitto, influxdb.url, influx_db), mosquitto, metrics):
        publisher.send(topic(), encode(message))
        wait_for_cards(influxdb, influx_db, 1)
        rows = wait_until(
            lambda: len(r := influxdb.query("SELECT * FROM dead_letter", db=influx_db)) == 2 and r,
            timeout=TIMEOUT,
            what="two dead letters",
        )
    assert [(row["reason"], row["seq"]) for row in rows] == [("ts_too_old", 1), ("ts_in_future", 3)]
    assert rows[1]["detail"] == "ts is 3600 s ahead of the collector's clock"
    # The whole reading is kept, card and all, for a replay once the cause is fixed.
    assert [CardRead.model_validate_json(row["reading"]) for row in rows] == [
        readings[0],
        readings[2],
    ]
    assert {(row["topic"], row["historical"]) for row in rows} == {(topic(), False)}
    assert dict(metrics.snapshot().readings_refused) == {"ts_too_old": 1, "ts_in_future": 1}
    assert metrics.snapshot().unacked == 0


def test_a_point_influxdb_refuses_is_dead_lettered_alone_and_its_batch_stored(
    mosquitto: Mosquitto, influxdb: InfluxDB, influx_db: str, publisher: Publisher
) -> None:
    """A real field type conflict: ``door.state_code`` was once written as a string."""
    now = time.time_ns()
    influxdb.write(f'door,device=old,gateway=g,site=s state_code="x" {now - 10**9}', influx_db)
    door = DoorReading(seq=100, ts=now, state="open", change=True)
    door_message = Envelope(
        v=SCHEMA_VERSION, site=SITE, gateway=GATEWAY, device="door-1", readings=(door,)
    )
    metrics = Metrics()
    settings = settings_for(mosquitto, influxdb.url, influx_db)
    settings = settings.model_copy(
        update={"batch": BatchSettings(max_points=500, max_delay_ms=500, writers=1)}
    )
    with running(settings, mosquitto, metrics):
        publisher.cards(range(1, 6))
        publisher.send(topic("door-1"), encode(door_message))
        publisher.cards(range(6, 11))
        wait_for_cards(influxdb, influx_db, 10)
        rows = wait_until(
            lambda: influxdb.query("SELECT * FROM dead_letter", db=influx_db),
            timeout=TIMEOUT,
            what="the refused point is dead-lettered",
        )
        wait_until(lambda: metrics.snapshot().unacked == 0, timeout=TIMEOUT, what="all acked")
    assert [row["reason"] for row in rows] == ["storage_refused"]
    assert "field type conflict" in rows[0]["detail"]
    assert rows[0]["payload"].startswith("door,device=door-1,")
    assert metrics.snapshot().points_rejected == 1


# -- receipts and presence ---------------------------------------------------------------


def test_receipts_confirm_readings_only_once_they_are_stored(
    mosquitto: Mosquitto, own_influx: InfluxDB, publisher: Publisher, receipts: Watcher
) -> None:
    metrics = Metrics()
    with running(settings_for(mosquitto, own_influx.url, "pelangi"), mosquitto, metrics):
        own_influx.kill()
        publisher.cards(range(1, 6))
        wait_retrying_with(metrics, 5)
        assert receipts.received() == []
        own_influx.start()
        receipts.wait_confirmed({1, 2, 3, 4, 5})
        assert card_count(own_influx, "pelangi") == 5  # stored before they were confirmed
    assert receipts.confirmed() == {1, 2, 3, 4, 5}
    assert receipts.collectors() == {"collector-test"}
    assert metrics.snapshot().readings_confirmed == 5


def test_dead_letters_are_confirmed_once_stored_and_unnamed_readings_never(
    mosquitto: Mosquitto,
    influxdb: InfluxDB,
    influx_db: str,
    publisher: Publisher,
    receipts: Watcher,
) -> None:
    now = time.time_ns()
    influxdb.write(f'door,device=old,gateway=g,site=s state_code="x" {now - 10**9}', influx_db)
    bad_uid = json.loads(encode(envelope(10)))
    bad_uid["readings"][0]["card"]["uid"] = "not-hex"
    card = em4100(bytes.fromhex("01001293D8"))
    old_and_new = Envelope(
        v=SCHEMA_VERSION,
        site=SITE,
        gateway=GATEWAY,
        device="rfid-lobby",
        readings=(
            CardRead(seq=12, ts=now - 400 * 86_400 * 10**9, card=card),
            CardRead(seq=13, ts=now - 10**9, card=card),
        ),
    )
    door = Envelope(
        v=SCHEMA_VERSION,
        site=SITE,
        gateway=GATEWAY,
        device="door-1",
        readings=(DoorReading(seq=14, ts=now, state="open", change=True),),
    )
    with running(settings_for(mosquitto, influxdb.url, influx_db), mosquitto, Metrics()):
        publisher.send(topic(), json.dumps(bad_uid).encode())  # invalid: seq 10 still readable
        publisher.send(topic("rfid-side"), encode(envelope(11)))  # topic_mismatch
        publisher.send(topic(), b"{not json")  # names no reading: nothing to confirm
        publisher.send(topic(), encode(old_and_new))  # seq 12 ts_too_old, seq 13 stored
        publisher.send(topic("door-1"), encode(door))  # refused by InfluxDB: type conflict
        publisher.send(topic("bad device!"), encode(envelope(15)))  # not a reading topic
        receipts.wait_confirmed({10, 11, 12, 13, 14})
        wait_until(
            lambda: len(influxdb.query("SELECT * FROM dead_letter", db=influx_db)) == 6,
            timeout=TIMEOUT,
            what="six dead letters",
        )
    assert receipts.confirmed() == {10, 11, 12, 13, 14}


def test_members_of_a_shared_subscription_each_confirm_what_they_stored(
    mosquitto: Mosquitto,
    influxdb: InfluxDB,
    influx_db: str,
    publisher: Publisher,
    receipts: Watcher,
) -> None:
    first, second = (
        settings_for(mosquitto, influxdb.url, influx_db, collector_id).model_copy(
            update={"share_group": "pelangi"}
        )
        for collector_id in ("collector-a", "collector-b")
    )
    with (
        running(first, mosquitto, Metrics()),
        running(second, mosquitto, Metrics()),
    ):
        publisher.cards(range(1, 41))
        receipts.wait_confirmed(set(range(1, 41)))
        wait_for_cards(influxdb, influx_db, 40)
    assert receipts.collectors() == {"collector-a", "collector-b"}


def test_presence_says_it_confirms_and_is_published_afresh_every_interval(
    mosquitto: Mosquitto, influxdb: InfluxDB, influx_db: str
) -> None:
    settings = settings_for(mosquitto, influxdb.url, influx_db).model_copy(
        update={"presence_interval_s": 1.0}
    )
    presence = Watcher(mosquitto, collector_state_topic(settings.collector_id))
    try:
        with running(settings, mosquitto, Metrics()):
            wait_until(
                lambda: len(presence.received()) >= 3,
                timeout=TIMEOUT,
                what="three presence messages, a second apart",
            )
        wait_until(
            lambda: not decode_liveness(presence.received()[-1][1], CollectorState).online,
            timeout=TIMEOUT,
            what="offline at a clean stop",
        )
    finally:
        presence.close()
    messages = presence.received()
    states = [decode_liveness(payload, CollectorState) for _, payload, _ in messages]
    online = [state for state in states if state.online]
    assert len(online) >= 3
    assert all(b.ts - a.ts >= 0.9e9 for a, b in itertools.pairwise(online))
    assert {(p[CONFIRMS_PROPERTY], p[PRESENCE_INTERVAL_PROPERTY]) for *_, p in messages} == {
        ("1", "1")
    }


def broker_with_logins(tmp_path: Path, acl: Path, log_book: LogBook) -> Iterator[Mosquitto]:
    """A broker that needs a login (pelangi-collector, gw-test, gw-other), with ``acl``.

    The gateways are added to the files as ``gateway add`` adds them (with a known password).
    """
    passwords = tmp_path / "passwd"
    subprocess.run(
        [find_program("mosquitto_passwd"), "-b", "-c", passwords, "pelangi-collector", SECRET],
        check=True,
    )
    with editing(passwords, acl) as files:
        for user in (GATEWAY, "gw-other"):
            files.passwd = files.passwd.with_user(user, hash_password(SECRET))
            files.acl = files.acl.with_gateway(GatewayAccess(SITE, user, user))
    broker = Mosquitto.with_logins(tmp_path / "broker", passwords, acl)
    yield from served(broker, "mosquitto (with an ACL)", log_book)


SECRET = "secret-for-a-private-test-broker"  # noqa: S105 - a throwaway test broker's


def login(broker: Mosquitto, user: str) -> MqttSettings:
    return MqttSettings(host=broker.host, port=broker.port, username=user, password=SECRET)


@pytest.fixture
def acl_broker(tmp_path: Path, log_book: LogBook) -> Iterator[Mosquitto]:
    acl = tmp_path / "pelangi.acl"
    acl.write_text(ACL_FILE.read_text(encoding="utf-8"), encoding="utf-8")
    yield from broker_with_logins(tmp_path, acl, log_book)


@pytest.fixture
def old_acl_broker(tmp_path: Path, log_book: LogBook) -> Iterator[Mosquitto]:
    """The shipped ACL without the line that lets collectors write receipts."""
    old = tmp_path / "old.acl"
    lines = ACL_FILE.read_text(encoding="utf-8").splitlines()
    old.write_text("\n".join(x for x in lines if not x.endswith("/stored")) + "\n")
    yield from broker_with_logins(tmp_path, old, log_book)


def send_cards(broker: Mosquitto, seqs: range) -> None:
    sender = Publisher(broker, login(broker, GATEWAY))
    try:
        sender.cards(seqs)
    finally:
        sender.close()


def test_the_shipped_acl_lets_collectors_confirm_to_gateways_and_no_one_else(
    acl_broker: Mosquitto, influxdb: InfluxDB, influx_db: str
) -> None:
    settings = settings_for(acl_broker, influxdb.url, influx_db).model_copy(
        update={"mqtt": login(acl_broker, "pelangi-collector")}
    )
    gateway = Watcher(acl_broker, stored_topic(SITE, GATEWAY), login(acl_broker, GATEWAY))
    other = Watcher(acl_broker, "pelangi/+/+/stored", login(acl_broker, "gw-other"))
    try:
        with running(settings, acl_broker, Metrics()):
            send_cards(acl_broker, range(1, 4))
            gateway.wait_confirmed({1, 2, 3})
            wait_for_cards(influxdb, influx_db, 3)
        assert other.received() == []  # another gateway reads no one else's receipts
    finally:
        gateway.close()
        other.close()


def test_an_acl_that_refuses_receipts_costs_one_connection_not_one_per_write(
    old_acl_broker: Mosquitto,
    influxdb: InfluxDB,
    influx_db: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Mosquitto drops a client whose PUBLISH its ACL denies: receipts are withheld then."""
    settings = settings_for(old_acl_broker, influxdb.url, influx_db).model_copy(
        update={"mqtt": login(old_acl_broker, "pelangi-collector")}
    )
    connected = f"as {settings.client_id} ("
    with running(settings, old_acl_broker, Metrics()):
        for round_ in range(4):
            send_cards(old_acl_broker, range(10 * round_ + 1, 10 * round_ + 11))
            wait_for_cards(influxdb, influx_db, 10 * round_ + 10)
        assert old_acl_broker.log_text().count(connected) == 2  # first, and after the refusal
    assert "receipts are withheld for 60 s" in caplog.text
    assert "write pelangi/+/+/stored" in caplog.text


def test_a_qos0_message_arriving_while_full_is_counted_as_lost(
    mosquitto: Mosquitto, own_influx: InfluxDB, publisher: Publisher
) -> None:
    metrics = Metrics()
    settings = settings_for(mosquitto, own_influx.url, "pelangi")
    settings = settings.model_copy(
        update={"batch": settings.batch.model_copy(update={"max_unacked": 2})}
    )
    with running(settings, mosquitto, metrics):
        own_influx.kill()
        publisher.cards(range(1, 3))
        wait_retrying_with(metrics, 2)
        publisher.client.publish(topic(), encode(envelope(3)), qos=0)
        wait_until(
            lambda: metrics.snapshot().messages_rejected.get("qos0_while_full") == 1,
            timeout=TIMEOUT,
            what="the lost QoS 0 message counted",
        )
        own_influx.start()
        wait_for_cards(own_influx, "pelangi", 2)
