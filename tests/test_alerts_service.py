"""The alert engine process end to end: real Mosquitto, InfluxDB, SMTP server, state database.

The engine runs in a thread here (:func:`collector.alerts.service.run_engine`, as the CLI
calls it); ``test_alerts_service_faults.py`` runs it as a real process and kills it.
"""

from __future__ import annotations

import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from collector.alerts.model import Phase
from collector.alerts.service import run_engine
from collector.alerts.store import AlertStore
from collector.config import CollectorSettings
from collector.state import open_state
from pelangi.configfile import load
from pelangi.topics import reading_filter
from sandbox.alerts_scenario import DAY_NS, IT, SECURITY, Publisher, engine_config
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
