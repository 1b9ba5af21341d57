"""Lossless whatever the broker does: a reading leaves the gateway only once it is stored.

Everything is real: ``pelangi-agent`` and ``pelangi-collector`` run as child processes
(:class:`sandbox.deployment.Deployment`) against a private Mosquitto and the session's
InfluxDB, with a socat pty standing in for a card reader. Each test taps distinct cards
while it breaks the broker, and then counts what InfluxDB holds: every card exactly once.

The central crash: the collector freezes (SIGSTOP: its connection and its retained
"online" stay, so the agent goes on sending into the broker), cards are tapped, then the
collector and the broker are killed with SIGKILL, and the broker comes back without what
it acknowledged (persistence off; Debian's default config, saving every 30 minutes; the
reference config with its files wiped). With PUBACKs trusted those taps are gone; with
receipts the agent still holds them and sends them again after the confirm timeout.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any, Final, Literal

import pytest
import yaml

from sandbox.card_frames import card_uid, rdm6300_frame
from sandbox.deployment import Deployment, DeploymentSettings, Reader, faketime_env
from sandbox.probes import ReadingSubscriber
from sandbox.processes import ChildProcess, venv_program
from sandbox.servers import InfluxDB, Mosquitto, SerialPty
from sandbox.waiting import wait_until

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from sandbox.logbook import LogBook

pytestmark = pytest.mark.servers

TIMEOUT: Final = 60.0
READER: Final = "rfid-lobby"
AGENT_OPTIONS: Final[dict[str, Any]] = {
    # Short waits, so a lost receipt is noticed within seconds rather than 30 s.
    "outbox": {"confirm_timeout_s": 2, "confirm_timeout_max_s": 4},
    "health_interval_s": 5,  # the clock test reads the offset from a health reading
}
BrokerMode = Literal["persistence-off", "debian", "wiped"]


def cards(first: int, count: int) -> list[str]:
    """``count`` distinct RDM6300 data strings (10 hex characters each)."""
    return [f"01{n:08X}" for n in range(first, first + count)]


def tap(pty: SerialPty, data: list[str]) -> None:
    """Tap every card once (distinct cards: the hold filter lets each through)."""
    for card in data:
        pty.write(rdm6300_frame(card))


class Site:
    """The running chain and how to look at what InfluxDB holds."""

    def __init__(self, deployment: Deployment, influx: InfluxDB, database: str) -> None:
        self.deployment = deployment
        self.influx = influx
        self.database = database

    @property
    def receipt_flag(self) -> Path:
        """The agent's memory that a collector confirms (``state_dir/receipts``)."""
        return self.deployment.agent_settings.state_dir / "receipts"

    def uids(self) -> list[str]:
        rows = self.influx.query("SELECT uid FROM card_read", db=self.database)
        return [str(row["uid"]) for row in rows]

    def wait_stored(self, data: list[str], timeout: float = TIMEOUT) -> None:
        """Wait until InfluxDB holds exactly these cards, each exactly once."""
        want = sorted(card_uid(card) for card in data)

        def done() -> bool:
            have = self.uids()
            assert len(have) == len(set(have)), "a card was stored twice (different ts)"
            return sorted(have) == want

        wait_until(done, timeout=timeout, what=f"InfluxDB holds exactly {len(want)} cards")

    def wait_receipt_mode(self) -> None:
        wait_until(
            self.receipt_flag.exists,
            timeout=TIMEOUT,
            what="the agent has seen a collector that confirms (state_dir/receipts)",
        )


def _deployment(
    work: Path,
    broker: Mosquitto,
    influx: InfluxDB,
    pty: SerialPty,
    *,
    agent_env: dict[str, str] | None = None,
    **collector: str,
) -> Site:
    database = f"lossless_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    deployment = Deployment(
        work / "deployment",
        broker=broker,
        influx=influx,
        database=database,
        readers=[Reader(READER, pty, hold_gap_ms=100)],
        settings=DeploymentSettings(
            gateway="gw-lossless",
            batch_max_delay_ms=50,
            agent_extra={
                **AGENT_OPTIONS,
                "mqtt": {"host": broker.host, "port": broker.port, "reconnect_max_s": 1},
            },
            collector_id=collector.pop("collector_id", "collector-1"),
            agent_env=agent_env or {},
            collector_extra={
                "mqtt": {"host": broker.host, "port": broker.port, "reconnect_max_s": 1},
                **collector,
            },
        ),
    )
    return Site(deployment, influx, database)


@pytest.fixture
def pty(tmp_path: Path, log_book: LogBook) -> Iterator[SerialPty]:
    with SerialPty(tmp_path / "pty", "ttyLOBBY") as device:
        remove = log_book.add("socat ttyLOBBY", device)
        yield device
        remove()


@contextlib.contextmanager
def _run(site: Site, broker: Mosquitto, log_book: LogBook) -> Iterator[Site]:
    removers = [
        log_book.add("pelangi-agent", site.deployment.agent),
        log_book.add("pelangi-collector", site.deployment.collector),
        log_book.add("mosquitto", broker),
    ]
    try:
        site.deployment.start()
        yield site
    finally:
        site.deployment.stop()
        if site.influx.running:
            site.influx.drop_database(site.database)
        for remove in removers:
            remove()


BROKERS: Final[dict[BrokerMode, dict[str, Any]]] = {
    "persistence-off": {"settings": "reference", "persistence": False},
    "debian": {"settings": "debian"},
    "wiped": {"settings": "reference"},
}


@pytest.mark.parametrize("mode", list(BROKERS))
def test_a_central_crash_loses_no_tap_whatever_the_broker_keeps(
    mode: BrokerMode, tmp_path: Path, influxdb: InfluxDB, pty: SerialPty, log_book: LogBook
) -> None:
    broker = Mosquitto(tmp_path / "mosquitto", **BROKERS[mode])
    with broker, _run(_deployment(tmp_path, broker, influxdb, pty), broker, log_book) as site:
        before = cards(0, 50)
        tap(pty, before)
        site.wait_stored(before)
        site.wait_receipt_mode()

        collector = site.deployment.collector
        collector.signal(signal.SIGSTOP)  # frozen: still "online", takes nothing
        during = cards(1000, 200)
        with ReadingSubscriber(broker) as taps:
            tap(pty, during)
            want = {card_uid(card) for card in during}
            wait_until(  # the broker took them all (and acknowledged them)
                lambda: want <= set(taps.uids()),
                timeout=TIMEOUT,
                what="the broker has every tap made while the collector is frozen",
            )
        collector.kill()
        broker.kill()
        if mode == "wiped":
            shutil.rmtree(broker.data_dir)
            broker.data_dir.mkdir()
        broker.start()
        site.deployment.start_collector()

        after = cards(5000, 50)
        tap(pty, after)
        site.wait_stored(before + during + after)


def test_broker_and_collector_killed_under_load_broker_back_empty_loses_no_tap(
    tmp_path: Path, influxdb: InfluxDB, pty: SerialPty, log_book: LogBook
) -> None:
    broker = Mosquitto(tmp_path / "mosquitto", settings="reference", persistence=False)
    with broker, _run(_deployment(tmp_path, broker, influxdb, pty), broker, log_book) as site:
        first = cards(0, 20)
        tap(pty, first)
        site.wait_stored(first)
        site.wait_receipt_mode()
        load = cards(100, 600)
        tapping = threading.Thread(target=tap_paced, args=(pty, load, 200.0))
        tapping.start()
        wait_until(lambda: len(site.uids()) > 150, timeout=TIMEOUT, what="taps flowing")
        # Mid-stream: what the collector took but had not written, what the broker
        # queued, and every PUBACK the agent had: all gone at once.
        site.deployment.collector.kill()
        broker.kill()
        broker.start()
        site.deployment.start_collector()
        tapping.join()
        site.wait_stored(first + load)


def test_a_broker_that_refuses_the_readings_for_a_while_loses_none_of_them(
    tmp_path: Path, influxdb: InfluxDB, pty: SerialPty, log_book: LogBook
) -> None:
    acl = tmp_path / "pelangi.acl"
    acl.write_text(ACL_WITHOUT_READINGS, encoding="utf-8")
    broker = Mosquitto(tmp_path / "mosquitto", extra_conf=f"acl_file {acl}")
    with broker, _run(_deployment(tmp_path, broker, influxdb, pty), broker, log_book) as site:
        refused = cards(0, 30)
        tap(pty, refused)
        agent = site.deployment.agent
        wait_until(
            lambda: (
                "refused a message on pelangi/sandbox-site/gw-lossless/reading/"
                f"{READER} because: Not authorized" in agent.log_text()
            ),
            timeout=TIMEOUT,
            what="the agent logs the broker's refusal",
        )
        assert site.uids() == []
        acl.write_text(ACL_WITHOUT_READINGS + "topic write pelangi/+/+/reading/#\n")
        broker.process.signal(signal.SIGHUP)  # Mosquitto reloads its ACL file
        site.wait_stored(refused)
        assert "the readings stay in the outbox" in agent.log_text()


ACL_WITHOUT_READINGS: Final = """\
# Everything Pelangi needs except the gateways' reading topics (one forgotten line).
topic readwrite pelangi-host/#
topic readwrite pelangi/+/+/status
topic readwrite pelangi/+/+/stored
topic readwrite pelangi/+/+/cmd/#
topic read pelangi/#
"""


def tap_paced(pty: SerialPty, data: list[str], per_s: float) -> None:
    """Tap ``data`` at about ``per_s`` cards a second (the pace of input, not a wait)."""
    started = time.monotonic()
    for n, card in enumerate(data):
        pty.write(rdm6300_frame(card))
        pause = started + (n + 1) / per_s - time.monotonic()
        if pause > 0:
            time.sleep(pause)


def test_a_shared_subscription_member_that_never_returns_costs_no_tap(
    tmp_path: Path, influxdb: InfluxDB, pty: SerialPty, log_book: LogBook
) -> None:
    """Mosquitto keeps a dead member's share queued for it; receipts send it elsewhere.

    Two collectors share the subscription; c2 is killed for good. Messages the broker
    routes to c2's session wait there (Mosquitto does not fail a share over), so without
    receipts those taps would wait for c2 forever. Unconfirmed, they go out again after
    the confirm timeout, and any member that stores them (c1) confirms them.
    """
    broker = Mosquitto(tmp_path / "mosquitto")
    site = _deployment(tmp_path, broker, influxdb, pty, collector_id="c1", share_group="pelangi")
    second = site.deployment.collector_config() | {"collector_id": "c2"}
    config = tmp_path / "collector-c2.yaml"
    config.write_text(yaml.safe_dump(second), encoding="utf-8")
    c2 = ChildProcess(
        [venv_program("pelangi-collector"), "run", "--config", config],
        log_path=tmp_path / "collector-c2.log",
        name="pelangi-collector c2",
    )
    with broker, _run(site, broker, log_book), c2:
        remove = log_book.add(c2.name, c2)
        wait_until(
            lambda: broker.has_subscribed("pelangi-collector-c2"),
            timeout=TIMEOUT,
            what="c2 has joined the shared subscription",
        )
        first = cards(0, 10)
        tap(pty, first)
        site.wait_stored(first)
        site.wait_receipt_mode()
        c2.kill()  # its session stays: the broker queues c2's share for it
        later = cards(100, 100)
        tap_paced(pty, later, 50.0)  # one message per tap or so: both members get some
        site.wait_stored(first + later)
        remove()


@pytest.mark.parametrize("offset", ["-365d", "+1d"])
def test_a_gateway_clock_a_year_behind_or_a_day_ahead_stores_every_tap_at_the_right_time(
    offset: str, tmp_path: Path, influxdb: InfluxDB, pty: SerialPty, log_book: LogBook
) -> None:
    """The agent runs under libfaketime, NTP absent: its wall clock is wrong from the start.

    Taps made before any time signal are stamped with the wrong clock (provisional) and
    corrected from the first signal of the boot before they leave; taps after it are
    stamped with the corrected clock. Every one is stored with the true time (this
    machine's clock), marked ``clock_corrected``, and none is dead-lettered.
    """
    broker = Mosquitto(tmp_path / "mosquitto")
    site = _deployment(tmp_path, broker, influxdb, pty, agent_env=faketime_env(offset))
    with broker, _run(site, broker, log_book):
        started = time.time_ns()
        early = cards(0, 20)  # before the first time signal: provisional
        tap(pty, early)
        agent = site.deployment.agent
        wait_until(
            lambda: "first time signal of this boot" in agent.log_text(),
            timeout=TIMEOUT,
            what="the agent has heard a collector's clock",
        )
        later = cards(100, 20)
        tap(pty, later)
        site.wait_stored(early + later)
        rows = site.influx.query(
            "SELECT uid, clock_corrected FROM card_read", db=site.database, epoch="ns"
        )
        finished = time.time_ns()
        assert all(started - 5 * S <= row["time"] <= finished for row in rows), rows[:3]
        assert all(row["clock_corrected"] is True for row in rows)
        assert site.influx.query("SELECT * FROM dead_letter", db=site.database) == []
        health = wait_until(
            lambda: site.influx.query(
                "SELECT last(clock_offset_ms) AS off_ms FROM agent_health", db=site.database
            ),
            timeout=TIMEOUT,
            what="a health reading with the clock's offset",
        )
        days = health[0]["off_ms"] / 86_400_000
        assert days == pytest.approx(365 if offset == "-365d" else -1, abs=0.01)


S: Final = 1_000_000_000
