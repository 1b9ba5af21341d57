"""The alert engine as real processes, SIGKILLed: no duplicate, no loss, across a takeover.

Two engines (``alerts-1``, ``alerts-2``) share the state database (SQLite, PostgreSQL)
and one MQTT session (``engine.mqtt_session``), as a standby is meant to be set up. With
the mail server down (so what is queued stays queued), the active engine is SIGKILLed
right after a door's alert fired: the standby takes over, restores the state, and the
firing email goes out once the server is back. That engine is SIGKILLed in turn; the
door closes while no engine runs (the reading waits in the shared session), the first
engine comes back, takes the lease, receives the reading and sends the resolution —
with the mail server down again until the resolution is queued, and killed once more
while it is pending. In the end: exactly one firing and one resolved email.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Final

import pytest

from collector.alerts.model import NotificationKind, Phase
from collector.alerts.store import AlertStore
from collector.state import open_state
from pelangi.topics import reading_filter
from sandbox.alerts_scenario import SECURITY, Publisher, engine_config
from sandbox.processes import ChildProcess
from sandbox.waiting import wait_until

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from collector.state import StateSettings
    from sandbox.logbook import LogBook
    from sandbox.servers import InfluxDB, Mosquitto
    from sandbox.servers.smtp import Smtp

REPO: Final = Path(__file__).resolve().parents[1]
SESSION: Final = "pelangi-alerts-shared"
TAKEOVER_S: Final = 20.0
"""Lease TTL (5 s, the least allowed) + a standby's poll + a process start, with room."""


class Engines:
    """Engine processes on one configuration each, their logs in the log book."""

    def __init__(self, tmp_path: Path, log_book: LogBook) -> None:
        self.tmp_path = tmp_path
        self.log_book = log_book
        self.made: list[ChildProcess] = []
        self._removers: list[Callable[[], None]] = []

    def start(self, config: Path, name: str) -> ChildProcess:
        argv = [sys.executable, "-m", "sandbox.alerts_engine_main", str(config)]
        engine = ChildProcess(argv, log_path=self.tmp_path / f"{name}.log", name=name, cwd=REPO)
        self.made.append(engine)
        self._removers.append(self.log_book.add(name, engine))
        return engine.start()

    def close(self) -> None:
        for engine in self.made:
            engine.stop()
        for remove in self._removers:
            remove()


@pytest.fixture
def engines(tmp_path: Path, log_book: LogBook) -> Iterator[Engines]:
    made = Engines(tmp_path, log_book)
    yield made
    made.close()


def test_sigkill_while_firing_and_while_resolution_pending_no_duplicate_no_loss(  # noqa: PLR0917 - fixtures
    tmp_path: Path,
    mosquitto: Mosquitto,
    smtp_server: Callable[..., Smtp],
    influxdb: InfluxDB,
    influx_db: str,
    state_settings: StateSettings,
    engines: Engines,
) -> None:
    smtp = smtp_server()
    configs = {
        holder: engine_config(
            tmp_path / f"{holder}.yaml",
            mqtt_port=mosquitto.port,
            smtp_port=smtp.port,
            state=state_settings,
            influx_url=influxdb.url,
            influx_db=influx_db,
            engine_id=holder,
        )
        for holder in ("alerts-1", "alerts-2")
    }
    with open_state(state_settings) as database:
        store = AlertStore(database)

        def holder_is(name: str) -> bool:
            lease = store.lease()
            return lease is not None and lease.holder == name

        def door_phase(phase: Phase) -> bool:
            return any(a.key.rule == "door_held_open" and a.phase is phase for a in store.alerts())

        def queued(kind: NotificationKind) -> bool:
            return any(e.notification.kind is kind for e in store.outbox())

        first = engines.start(configs["alerts-1"], "alerts-1")
        wait_until(lambda: holder_is("alerts-1"), timeout=15, what="alerts-1 holds the lease")
        wait_until(
            lambda: mosquitto.has_subscribed(SESSION, reading_filter()),
            timeout=15,
            what="the engine session has subscribed",
        )
        standby = engines.start(configs["alerts-2"], "alerts-2")
        wait_until(
            lambda: "standing by" in standby.log_text(), timeout=15, what="alerts-2 stands by"
        )
        publisher = Publisher(mosquitto.port)
        try:
            # 1. The alert fires with the mail server down; the active engine dies.
            smtp.stop()
            publisher.door("open")
            wait_until(lambda: queued(NotificationKind.FIRING), timeout=10, what="firing queued")
            assert door_phase(Phase.FIRING)
            first.kill()
            smtp.start()
            # 2. The standby takes over, restores the state and sends the firing once.
            wait_until(lambda: holder_is("alerts-2"), timeout=TAKEOVER_S, what="takeover")
            smtp.wait_for_messages(1, timeout=TAKEOVER_S)
            wait_until(lambda: not store.outbox(), timeout=10, what="the outbox is empty")
            # 3. It dies too; the door closes while no engine runs.
            standby.kill()
            smtp.stop()
            publisher.door("closed")
            # 4. The first engine comes back: the reading waited in the shared session.
            first.start()
            wait_until(lambda: holder_is("alerts-1"), timeout=TAKEOVER_S, what="alerts-1 again")
            wait_until(
                lambda: queued(NotificationKind.RESOLVED), timeout=10, what="resolution queued"
            )
            assert door_phase(Phase.RESOLVED)
            # 5. Killed while the resolution is pending; back once more, it sends it.
            first.kill()
            smtp.start()
            first.start()
            emails = smtp.wait_for_messages(2, timeout=TAKEOVER_S)
            wait_until(lambda: not store.outbox(), timeout=10, what="the outbox is empty")
        finally:
            publisher.close()
        emails = smtp.messages()
        assert [str(mail["To"]) for mail in emails] == [SECURITY, SECURITY]
        assert len({mail["Message-ID"] for mail in emails}) == 2
        kinds = sorted(d.notification_id.split("-")[0] for d in store.deliveries())
        assert kinds == ["firing", "resolved"]
