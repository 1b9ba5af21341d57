"""Store and forward, accepted end to end: outages, SIGKILLs, a full outbox, a full disk.

Real processes throughout: Mosquitto started, stopped and killed by the tests, the
``pelangi-agent`` command run as a child process where a crash must be real (SIGKILL),
socat ptys as RDM6300 readers, InfluxDB behind the real collector.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import subprocess
import threading
import time
from typing import TYPE_CHECKING, Final, Self

import pytest

from edge_agent.agent import Agent
from edge_agent.config import AgentSettings
from edge_agent.outbox import Outbox, OutboxEntry, OutboxSettings
from pelangi.card import em4100
from pelangi.payloads import AgentHealth, CardRead, InterfaceReading
from sandbox.bench.outage import OutagePlan, run_outage
from sandbox.card_frames import card_uid, rdm6300_frame
from sandbox.probes import AgentProcess, ReadingSubscriber, announce_collector
from sandbox.waiting import wait_until

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from sandbox.servers import InfluxDB, Mosquitto, SerialPty

pytestmark = pytest.mark.servers

OUTAGE_S: Final = 20.0
"""The broker outage in ``make test``; ``make bench`` runs the same scenario for 2 minutes
(``sandbox.bench.agent``)."""
KILLS: Final = 20
SITE: Final = "test-site"
GATEWAY: Final = "gw-test"
TIMEOUT: Final = 30.0


def test_a_broker_outage_loses_nothing_and_keeps_order(tmp_path: Path, influxdb: InfluxDB) -> None:
    report = run_outage(tmp_path, influxdb, OutagePlan(outage_s=OUTAGE_S))
    assert report.tapped_during_outage >= OUTAGE_S * 10  # the readers kept reading
    assert report.ok, report.problems()
    assert report.stored_rows == report.taps


# -- SIGKILL -----------------------------------------------------------------------------

BACKLOG: Final = 40_000
REPLAY_RATE: Final = 4_000
"""Paced, so the replay of the backlog spans many of the kills."""
_READ_LINE = re.compile(r"reader (\S+): card ([0-9A-F]{8}) .*read, seq \d+")


class _Tapper:
    """Taps new cards on the readers at a steady pace until stopped (pacing, not waiting)."""

    def __init__(self, ptys: list[SerialPty], interval_s: float) -> None:
        self._ptys = ptys
        self._interval = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        n = 0
        while not self._stop.wait(self._interval):
            n += 1
            for index, pty in enumerate(self._ptys):
                with contextlib.suppress(OSError):
                    pty.write(rdm6300_frame(f"01{0xB0 + index:02X}{n:06X}"))


def _seed_backlog(path: Path, devices: list[str]) -> set[str]:
    """Readings found on disk at start: what an earlier outage left behind."""
    uids: set[str] = set()
    ts = time.time_ns() - 3600 * 10**9
    with Outbox.open(path, OutboxSettings()) as outbox:
        for start in range(0, BACKLOG, 1000):
            entries = []
            for n in range(start, start + 1000):
                data = bytes.fromhex(f"01C{n:07X}")
                read = CardRead(seq=10**9 + n, ts=ts + n, card=em4100(data))
                uids.add(read.card.uid)
                entries.append(
                    OutboxEntry(
                        devices[n % 2],
                        read.model_dump_json().encode(),
                        is_event=True,
                        ts=ts + n,
                        seq=read.seq,
                    )
                )
            outbox.append_many(entries)
    return uids


def test_twenty_sigkills_while_publishing_and_replaying_lose_nothing(
    tmp_path: Path, mosquitto: Mosquitto, make_pty: Callable[[str], SerialPty]
) -> None:
    ptys = [make_pty("ttyLOBBY"), make_pty("ttySIDE")]
    devices = ["rfid-lobby", "rfid-side"]
    state_dir = tmp_path / "agent-state"
    seeded = _seed_backlog(state_dir / "outbox.db", devices)
    agent = AgentProcess(
        tmp_path / "agent",
        {
            "site": SITE,
            "gateway": GATEWAY,
            "mqtt": {"host": mosquitto.host, "port": mosquitto.port, "reconnect_max_s": 0.5},
            "readers": [
                {"id": device, "port": str(pty.device), "hold_gap_ms": 50}
                for device, pty in zip(devices, ptys, strict=True)
            ],
            "state_dir": str(state_dir),
            "outbox": {"replay_max_readings_per_s": REPLAY_RATE},
        },
    )
    rng = random.Random(20)  # noqa: S311 - test timing, not secrets
    accepted: set[str] = set()
    with ReadingSubscriber(mosquitto) as subscriber:
        with _Tapper(ptys, interval_s=0.05):
            for _ in range(KILLS):
                agent.start(mosquitto)
                # A random moment of the run: publishing live taps, and replaying.
                threading.Event().wait(rng.uniform(0.1, 1.5))
                assert agent.kill() == -9
                accepted |= {uid for _, uid in _READ_LINE.findall(agent.log_text())}
        # Everything accepted must arrive now: the backlog found on disk and every tap the
        # agent logged as read (it logs a tap only once the outbox has committed it).
        wanted = seeded | accepted
        agent.start(mosquitto)
        try:
            wait_until(
                lambda: wanted <= {read.card.uid for read in subscriber.of(CardRead)},
                timeout=120,
                what=f"all {len(wanted)} accepted readings have arrived",
                interval=0.5,
            )
        finally:
            status = agent.stop()
    assert status == 0
    assert len(accepted) > KILLS  # taps were read and accepted between the kills
    log = (tmp_path / "agent" / "agent.log").read_text()
    assert "Traceback" not in log


# -- A full outbox -----------------------------------------------------------------------


def test_a_full_outbox_keeps_events_evicts_the_oldest_telemetry_and_says_so(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    announce_collector(mosquitto, "collector-1", online=False)  # hold everything
    settings = AgentSettings.model_validate(
        {
            "site": SITE,
            "gateway": GATEWAY,
            "mqtt": {"host": mosquitto.host, "port": mosquitto.port, "reconnect_max_s": 0.5},
            "state_dir": str(tmp_path / "state"),
            "outbox": {"max_bytes": 1_000_000},
        }
    )
    agent = Agent(settings)
    card = em4100(bytes.fromhex("01001293D8"))
    telemetry_seqs: list[int] = []
    events = 0
    with ReadingSubscriber(mosquitto) as subscriber:
        agent.start()
        try:
            for poll in range(150):  # ~2 MB of interface readings: twice the limit
                envelope = agent.emitter.emit(
                    "sw-1",
                    [
                        lambda seq, ts, port=port: InterfaceReading(
                            seq=seq,
                            ts=ts,
                            if_index=port,
                            port=f"GigabitEthernet1/0/{port}",
                            alias="Ruang rapat lantai 2, Kantor Bupati " * 3,
                        )
                        for port in range(1, 49)
                    ],
                )
                assert envelope is not None
                telemetry_seqs += [r.seq for r in envelope.readings]
                if poll % 3 == 0:
                    agent.emitter.emit(
                        "rfid-lobby", [lambda seq, ts: CardRead(seq=seq, ts=ts, card=card)]
                    )
                    events += 1
            agent.publish_health()
            stats = agent.sink.outbox.stats()  # type: ignore[attr-defined]
            assert stats.evicted_telemetry_size > 0
            assert stats.evicted_event_size == 0
            announce_collector(mosquitto, "collector-1", online=True)
            wait_until(
                lambda: subscriber.of(AgentHealth),
                timeout=TIMEOUT,
                what="the health reading arrives",
            )
            wait_until(
                lambda: len(subscriber.of(CardRead)) >= events,
                timeout=TIMEOUT,
                what="every card read arrives",
            )
            outbox = agent.sink.outbox  # type: ignore[attr-defined]
            wait_until(lambda: outbox.stats().readings == 0, timeout=TIMEOUT, what="all sent")
            final = outbox.stats()
        finally:
            agent.stop()
    (health,) = subscriber.of(AgentHealth)
    evicted = health.counters["outbox.evicted.telemetry.size"]
    assert evicted > 0
    assert health.counters["outbox.evicted.event.size"] == 0
    assert health.counters["outbox.events"] == events
    assert len(subscriber.of(CardRead)) == events
    received = sorted(r.seq for r in subscriber.of(InterfaceReading))
    assert received == telemetry_seqs[len(telemetry_seqs) - len(received) :]  # the newest
    # The health reading's own append may have evicted a few more.
    assert len(received) + final.evicted_telemetry_size == len(telemetry_seqs)


# -- A full disk -------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs: a disk that really fills up (needs root; skipped otherwise)."""
    mount_point = tmp_path / "small-disk"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount_point)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=True)


def _fill(folder: Path) -> Path:
    """Take every free byte of ``folder``'s file system."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        with contextlib.suppress(OSError):  # ENOSPC: full
            while True:
                os.write(fd, b"\0" * 4096)
    finally:
        os.close(fd)
    return filler


def test_a_full_disk_is_reported_without_a_crash_and_storing_resumes(
    tmp_path: Path, small_disk: Path, mosquitto: Mosquitto, serial_pty: SerialPty
) -> None:
    agent = AgentProcess(
        tmp_path / "agent",
        {
            "site": SITE,
            "gateway": GATEWAY,
            "mqtt": {"host": mosquitto.host, "port": mosquitto.port, "reconnect_max_s": 0.5},
            "readers": [{"id": "rfid-lobby", "port": str(serial_pty.device), "hold_gap_ms": 50}],
            "state_dir": str(tmp_path / "state"),
            "outbox": {"path": str(small_disk / "outbox.db")},
            "health_interval_s": 5,
        },
    )
    n = 0

    def tap() -> str:
        nonlocal n
        n += 1
        data_hex = f"01D{n:07X}"
        serial_pty.write(rdm6300_frame(data_hex))
        return card_uid(data_hex)

    def problems(subscriber: ReadingSubscriber) -> list[tuple[str, ...]]:
        return [h.problems for h in subscriber.of(AgentHealth)]

    with ReadingSubscriber(mosquitto) as subscriber:
        agent.start(mosquitto)
        try:
            subscriber.wait_for_uid(tap())
            filler = _fill(small_disk)
            # Taps go on: each is sent (from memory), and the disk's state is reported.
            full = wait_until(
                lambda: (
                    any("disk is full" in p for ps in problems(subscriber) for p in ps)
                    and subscriber.uids()
                ),
                timeout=TIMEOUT,
                what="a health reading reports the full disk",
                interval=0.2,
            )
            del full
            uid = tap()
            subscriber.wait_for_uid(uid)
            assert agent.process.running  # no crash, no restart loop
            assert "disk is full" in agent.log_text()

            filler.unlink()  # space returns
            seen = len(problems(subscriber))
            uid = tap()
            subscriber.wait_for_uid(uid)
            wait_until(
                lambda: any(ps == () for ps in problems(subscriber)[seen:]),
                timeout=TIMEOUT,
                what="a health reading with no problem",
            )
            assert "stores readings again" in agent.log_text()
        finally:
            status = agent.stop()
    assert status == 0
    assert "Traceback" not in agent.log_text()
