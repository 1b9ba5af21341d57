"""The alert engine process end to end: real Mosquitto, InfluxDB, SMTP server, state database.

The engine runs in a thread here (:func:`collector.alerts.service.run_engine`, as the CLI
calls it); ``test_alerts_service_faults.py`` runs it as a real process and kills it.
"""

from __future__ import annotations

import threading
import time
from contextlib import ExitStack, closing
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import time as dt_time
from typing import TYPE_CHECKING, Any

import pytest

from collector.alerts.model import Phase
from collector.alerts.service import run_engine
from collector.alerts.store import AlertStore, Delivery
from collector.attendance.model import WITA
from collector.attendance.taps import epoch_ns
from collector.config import CollectorSettings, InfluxV1Settings
from collector.state import open_state
from collector.storage.influx_v1 import InfluxV1Writer
from pelangi.configfile import load
from pelangi.topics import reading_filter
from sandbox.alerts_scenario import (
    DAY_NS,
    DOOR,
    GATEWAY,
    IT,
    SECURITY,
    SITE,
    Publisher,
    engine_config,
)
from sandbox.alerts_worker import step
from sandbox.waiting import wait_until

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from email.message import EmailMessage
    from pathlib import Path

    from collector.state import StateSettings
    from sandbox.servers import InfluxDB, Mosquitto
    from sandbox.servers.smtp import Smtp
    from sandbox.servers.webhook import Webhook

SESSION = "pelangi-alerts-shared"


@dataclass
class Scenario:
    """A running engine and what the test talks to."""

    mosquitto: Mosquitto
    smtp: Smtp
    store: AlertStore
    publish: Publisher
    influx: InfluxDB
    database: str

    def emails(self) -> list[EmailMessage]:
        return self.smtp.messages()

    def settled(self, count: int, timeout: float = 15.0) -> list[EmailMessage]:
        """``count`` emails accepted and nothing left in the outbox: then no more come."""
        found = self.smtp.wait_for_messages(count, timeout)
        wait_until(lambda: not self.store.outbox(), timeout=timeout, what="the outbox is empty")
        return found

    def alert(self, rule: str) -> Phase | None:
        phases = [a.phase for a in self.store.alerts() if a.key.rule == rule]
        return phases[0] if phases else None


@pytest.fixture
def start_scenario(  # noqa: PLR0917 - pytest hands fixtures over as arguments
    tmp_path: Path,
    mosquitto: Mosquitto,
    smtp_server: Callable[..., Smtp],
    influxdb: InfluxDB,
    influx_db: str,
    state_settings: StateSettings,
) -> Iterator[Callable[..., Scenario]]:
    """A factory: ``start_scenario(smtp_options, **config_options)`` runs an engine."""
    with ExitStack() as stack:

        def start(smtp_options: dict[str, Any] | None = None, **options: Any) -> Scenario:
            smtp = smtp_server(**(smtp_options or {}))
            config = engine_config(
                tmp_path / "collector.yaml",
                mqtt_port=mosquitto.port,
                smtp_port=smtp.port,
                state=state_settings,
                influx_url=influxdb.url,
                influx_db=influx_db,
                **options,
            )
            settings = load(config, CollectorSettings)
            stop = threading.Event()
            engine = threading.Thread(
                target=run_engine,
                args=(settings, stop),
                kwargs={"config_path": config},
                daemon=True,
            )
            engine.start()
            stack.callback(_joined, engine)
            stack.callback(stop.set)
            wait_until(
                lambda: mosquitto.has_subscribed(SESSION, reading_filter()),
                timeout=15,
                what="the engine has subscribed",
            )
            publisher = Publisher(mosquitto.port)
            stack.callback(publisher.close)
            database = stack.enter_context(open_state(state_settings))
            return Scenario(mosquitto, smtp, AlertStore(database), publisher, influxdb, influx_db)

        yield start


def _joined(engine: threading.Thread) -> None:
    engine.join(30)
    assert not engine.is_alive(), "run_engine did not return after stop"


@pytest.fixture
def scenario(start_scenario: Callable[..., Scenario]) -> Scenario:
    """The engine on the scenario's default configuration."""
    return start_scenario()


sqlite_only = pytest.mark.parametrize("state_settings", ["sqlite"], indirect=True)


@sqlite_only
def test_door_held_open_gives_one_email_and_closing_one_resolved(scenario: Scenario) -> None:
    scenario.publish.door("open")
    (fired,) = scenario.settled(1)
    assert fired["To"] == SECURITY
    assert scenario.alert("door_held_open") is Phase.FIRING
    scenario.publish.door("closed")
    _, resolved = scenario.settled(2)
    assert resolved["Message-ID"] != fired["Message-ID"]
    assert scenario.alert("door_held_open") is Phase.RESOLVED
    assert [d.channel for d in scenario.store.deliveries()] == ["email", "email"]

    def annotations() -> list[str] | None:
        rows = scenario.influx.query(
            "SELECT state, device FROM alert WHERE rule = 'door_held_open'", scenario.database
        )
        return [row["state"] for row in rows] if len(rows) == 2 else None

    assert wait_until(annotations, timeout=10, what="two alert annotations") == [
        "firing",
        "resolved",
    ]


@sqlite_only
def test_fifty_ports_down_give_one_grouped_email(scenario: Scenario) -> None:
    for port in range(50):
        scenario.publish.port_down(f"ge-0/0/{port}")
    (grouped,) = scenario.settled(1)
    assert grouped["To"] == IT
    body = grouped.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert all(f"ge-0/0/{port}" in text for port in range(50))
    firing = [a for a in scenario.store.alerts(Phase.FIRING) if a.key.rule == "port_down"]
    assert len(firing) == 50


@sqlite_only
def test_gateway_will_gives_one_email_and_suppresses_its_devices(scenario: Scenario) -> None:
    scenario.publish.status(online=True, devices=("sw-core", "pintu-utama"))
    scenario.publish.status(online=False)
    scenario.publish.port_down("uplink")

    def suppressed() -> bool:
        ports = [a for a in scenario.store.alerts(Phase.FIRING) if a.key.rule == "port_down"]
        return bool(ports) and all(a.suppressed_by is not None for a in ports)

    wait_until(suppressed, timeout=10, what="the port alert fires, suppressed by the gateway")
    (offline,) = scenario.settled(1)
    assert offline["To"] == IT
    assert scenario.alert("gateway_offline") is Phase.FIRING
    assert "gw-1" in str(offline["Subject"]) or "gw-1" in str(offline.get_body(("plain",)))


@sqlite_only
def test_a_day_old_backlog_replayed_raises_no_alarm(scenario: Scenario) -> None:
    day_ago = time.time_ns() - DAY_NS
    scenario.publish.door("open", ts=day_ago, historical=True)
    for port in range(5):
        scenario.publish.port_down(f"ge-0/0/{port}", ts=day_ago + 10**9, historical=True)
    scenario.publish.door("closed", ts=day_ago + 900 * 1_000_000_000, historical=True)
    scenario.publish.door("open", ts=day_ago + 1000 * 1_000_000_000, historical=True)
    # A live marker behind the backlog, published last (one publisher, one subscriber:
    # delivered in order): opened and closed again at once, it leaves a resolved alert
    # that never fired.
    now = time.time_ns()
    scenario.publish.door("open", ts=now)
    scenario.publish.door("closed", ts=now + 100_000_000)

    def marker_seen() -> bool:
        return scenario.alert("door_held_open") is Phase.RESOLVED

    wait_until(marker_seen, timeout=10, what="the engine has taken the backlog and the marker")
    # Nothing fired (an alarm is a firing: its message is queued in the same transaction).
    assert [a.key for a in scenario.store.alerts() if a.fired_at is not None] == []
    assert scenario.store.outbox() == []
    assert scenario.store.deliveries() == []
    assert scenario.emails() == []


@sqlite_only
def test_smtp_down_mid_stream_mail_waits_and_goes_out_when_it_returns(
    scenario: Scenario,
) -> None:
    scenario.smtp.stop()
    scenario.publish.door("open")

    def retried() -> bool:
        return any(entry.attempts >= 1 for entry in scenario.store.outbox())

    wait_until(retried, timeout=15, what="a delivery attempt failed and was put back")
    (entry,) = scenario.store.outbox()
    assert entry.last_error is not None
    assert "email" in entry.last_error
    scenario.smtp.start()
    (fired,) = scenario.settled(1, timeout=20)
    scenario.publish.door("closed")
    scenario.settled(2)
    assert fired["Message-ID"] == f"<{entry.notification.id}@pelangi>"


@sqlite_only
def test_refused_address_and_failing_webhook_the_rest_delivered_nothing_twice(
    start_scenario: Callable[..., Scenario], webhook_server: Webhook
) -> None:
    refused = "tidak-ada@kutaitimurkab.go.id"
    webhook_server.status = 500
    scenario = start_scenario(
        {"refuse": [refused]}, security=(SECURITY, refused), webhook_url=webhook_server.url()
    )
    scenario.publish.door("open")
    (mail,) = scenario.smtp.wait_for_messages(1)
    webhook_server.wait_for_requests(2, timeout=15)  # the 500, then a retry
    (entry,) = scenario.store.outbox()
    assert entry.last_error is not None
    assert "HTTP 500" in entry.last_error
    webhook_server.status = 200
    wait_until(lambda: not scenario.store.outbox(), timeout=20, what="the outbox is empty")
    assert len(scenario.smtp.messages()) == 1  # the retries did not mail again
    assert mail["Message-ID"] == f"<{entry.notification.id}@pelangi>"
    posts = webhook_server.requests()
    assert {p["headers"].get("Idempotency-Key") for p in posts} == {entry.notification.id}
    replies = {d.recipient: d.reply for d in scenario.store.deliveries(entry.notification.id)}
    assert replies[refused].startswith("refused: 5")
    assert replies[webhook_server.url()] == "HTTP 200"
    assert set(replies) == {SECURITY, refused, webhook_server.url()}


@sqlite_only
def test_the_daily_digest_reaches_each_audience_once_with_the_night_and_yesterday(
    start_scenario: Callable[..., Scenario], influxdb: InfluxDB, influx_db: str
) -> None:
    today = datetime.now(WITA).date()
    yesterday = today - timedelta(days=1)
    door_open = epoch_ns(datetime.combine(yesterday, dt_time(20), WITA))
    midnight = epoch_ns(datetime.combine(yesterday, dt_time(), WITA))
    lines = [
        f'door,site={SITE},gateway={GATEWAY},device={DOOR} state="open",change=true {door_open}',
        f'attendance_day,status=TK,unit=setda employee="e1",tl=0i {midnight}',
    ]
    with closing(InfluxV1Writer(InfluxV1Settings(url=influxdb.url, database=influx_db))) as db:
        db.write(lines)
    # Due since midnight: the engine makes it as soon as it runs.
    scenario = start_scenario(digest={"at": "00:00", "night_from": "18:00"})
    mails = scenario.settled(2)
    assert sorted(m["To"] for m in mails) == sorted([IT, SECURITY])
    for mail in mails:
        assert mail["Subject"].startswith("Ringkasan harian Pelangi")
        body = mail.get_body(preferencelist=("plain",))
        assert body is not None
        text = body.get_content()
        assert "== Pintu terbuka semalam: 1 ==" in text
        assert f"{DOOR}: dibuka " in text
        assert "masih terbuka" in text
        assert "* setda: Hadir 0, Terlambat 0, Tidak hadir 1" in text
    ids = {d.notification_id for d in scenario.store.deliveries()}
    assert ids == {f"digest-{today.isoformat()}-it", f"digest-{today.isoformat()}-security"}


@sqlite_only
def test_resolved_alerts_and_the_sent_log_past_keep_days_are_pruned(
    start_scenario: Callable[..., Scenario], state_settings: StateSettings
) -> None:
    old = datetime.now(WITA) - timedelta(days=91)
    fresh = datetime.now(WITA) - timedelta(days=89)
    with open_state(state_settings) as database:
        store = AlertStore(database)
        for at, device in ((old, "pintu-lama"), (fresh, "pintu-baru")):
            store.apply(*step({}, {device: True}, at))
            store.apply(*step(store.load_state(), {device: False}, at + timedelta(minutes=5)))
            for entry in store.outbox():
                store.delivered(Delivery(entry.notification.id, "email", IT, at, "250 Ok"))
        assert len(store.deliveries()) == 4
    scenario = start_scenario()  # keep_days 90 (the default)

    def pruned() -> bool:
        return len(scenario.store.deliveries()) == 2

    wait_until(pruned, timeout=15, what="the engine pruned the alert history")
    assert [a.key.device for a in scenario.store.alerts()] == ["pintu-baru"]
