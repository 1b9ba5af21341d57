"""The broker-outage scenario: readers keep tapping while Mosquitto is stopped, then back.

The whole chain runs for real (:class:`sandbox.deployment.Deployment`: the
``pelangi-agent`` and ``pelangi-collector`` commands, a private Mosquitto, InfluxDB and
two socat ptys as RDM6300 readers). Every tap is a card never tapped before, so InfluxDB's
rows can be checked one by one: each tap stored exactly once, each reader's taps in the
order they were made. ``tests/test_agent_store_forward.py`` runs it with a 20 s outage
(``make test`` stays short); ``make bench`` runs it with the issue's 2 minutes.
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from sandbox.card_frames import card_uid, rdm6300_frame
from sandbox.deployment import Deployment, DeploymentSettings, Reader
from sandbox.servers import Mosquitto, SerialPty
from sandbox.waiting import wait_until

if TYPE_CHECKING:
    from pathlib import Path

    from sandbox.servers import InfluxDB

READERS: Final = ("rfid-lobby", "rfid-side")
PILOT_READINGS_PER_S: Final = 1.8
"""The pilot gateway's whole output (2 readers, 10 doors, two 48-port switches polled every
60 s: ~107 readings a minute, plus ~1,300 events a day)."""
TAPS_PER_S_PER_READER: Final = 10.0
"""2 readers x 10 taps/s = 20 readings/s: more than 10x the pilot's whole rate."""
RECONNECT_MAX_S: Final = 2.0
"""Short for the run (the default 30 s would only lengthen it)."""


@dataclass
class OutageReport:
    """What one run tapped and what InfluxDB holds."""

    outage_s: float
    tapped: dict[str, list[str]] = field(default_factory=dict)
    """Reader -> uids in tap order."""
    tapped_during_outage: int = 0
    stored_rows: int = 0
    missing: list[str] = field(default_factory=list)
    duplicated: dict[str, int] = field(default_factory=dict)
    out_of_order: list[str] = field(default_factory=list)
    """Readers whose stored rows, by time, are not in tap order."""
    catch_up_s: float = 0.0
    """From the broker's restart until InfluxDB held every tap."""

    @property
    def taps(self) -> int:
        """Taps made, both readers."""
        return sum(len(uids) for uids in self.tapped.values())

    @property
    def ok(self) -> bool:
        """Every tap stored exactly once, in order."""
        return not (self.missing or self.duplicated or self.out_of_order)

    def problems(self) -> list[str]:
        """What went wrong, one line each."""
        lines = []
        if self.missing:
            lines.append(
                f"{len(self.missing)} of {self.taps} taps never stored: {self.missing[:5]}"
            )
        if self.duplicated:
            lines.append(f"stored more than once: {dict(list(self.duplicated.items())[:5])}")
        if self.out_of_order:
            lines.append(f"taps stored out of order for {self.out_of_order}")
        return lines


class _Tapper:
    """Taps a new card on every reader at a steady pace, in a thread (pacing, not waiting)."""

    def __init__(self, ptys: dict[str, SerialPty], taps_per_s: float) -> None:
        self._ptys = ptys
        self._interval = 1.0 / taps_per_s
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.tapped: dict[str, list[str]] = {reader: [] for reader in ptys}
        self._thread = threading.Thread(target=self._run, name="tapper", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop tapping (idempotent)."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def count(self) -> int:
        with self._lock:
            return sum(len(uids) for uids in self.tapped.values())

    def _run(self) -> None:
        n = 0
        while not self._stop.wait(self._interval):
            n += 1
            for index, (reader, pty) in enumerate(self._ptys.items()):
                data_hex = f"01{index + 0xA0:02X}{n:06X}"
                pty.write(rdm6300_frame(data_hex))
                with self._lock:
                    self.tapped[reader].append(card_uid(data_hex))


@dataclass(frozen=True)
class OutagePlan:
    """The phases of one run, in seconds, and the tapping rate."""

    outage_s: float
    before_s: float = 3.0
    after_s: float = 3.0
    taps_per_s: float = TAPS_PER_S_PER_READER
    timeout_s: float = 120.0
    """Longest wait, after the last tap, for InfluxDB to hold every tap."""


def run_outage(workdir: Path, influx: InfluxDB, plan: OutagePlan) -> OutageReport:
    """Tap, stop the broker for ``plan.outage_s``, start it again, tap on; check InfluxDB."""
    report = OutageReport(outage_s=plan.outage_s)
    database = f"outage_{uuid.uuid4().hex[:12]}"
    with (
        Mosquitto(workdir / "mosquitto") as broker,
        SerialPty(workdir / "pty", "ttyLOBBY") as lobby,
        SerialPty(workdir / "pty", "ttySIDE") as side,
    ):
        ptys = dict(zip(READERS, (lobby, side), strict=True))
        mqtt: dict[str, Any] = {
            "host": broker.host,
            "port": broker.port,
            "reconnect_min_s": 0.2,
            "reconnect_max_s": RECONNECT_MAX_S,
        }
        deployment = Deployment(
            workdir / "deployment",
            broker=broker,
            influx=influx,
            database=database,
            readers=[Reader(reader, pty, hold_gap_ms=100) for reader, pty in ptys.items()],
            settings=DeploymentSettings(
                gateway="gw-outage", agent_extra={"mqtt": mqtt}, collector_extra={"mqtt": mqtt}
            ),
        )
        tapper = _Tapper(ptys, plan.taps_per_s)
        stop = threading.Event()  # never set: paces the scenario's phases
        try:
            deployment.start()
            tapper.start()
            stop.wait(plan.before_s)
            broker.stop()
            before_outage = tapper.count()
            stop.wait(plan.outage_s)
            report.tapped_during_outage = tapper.count() - before_outage
            broker.start()
            restarted = time.monotonic()
            stop.wait(plan.after_s)
            tapper.stop()
            report.tapped = tapper.tapped
            expected = report.taps

            def stored() -> bool:
                rows = influx.query('SELECT count("uid") FROM card_read', db=database)
                return bool(rows) and rows[0]["count"] >= expected

            with contextlib.suppress(TimeoutError):  # reported below, tap by tap
                wait_until(stored, timeout=plan.timeout_s, what=f"InfluxDB holds {expected} taps")
            report.catch_up_s = time.monotonic() - restarted
            _check(report, influx.query("SELECT uid, device, seq FROM card_read", db=database))
        finally:
            tapper.stop()
            deployment.stop()
            if influx.running:
                influx.query(f'DROP DATABASE "{database}"')
    return report


def _check(report: OutageReport, rows: list[dict[str, Any]]) -> None:
    report.stored_rows = len(rows)
    counts = Counter(row["uid"] for row in rows)
    report.duplicated = {uid: n for uid, n in counts.items() if n > 1}
    for reader, uids in report.tapped.items():
        report.missing += [uid for uid in uids if uid not in counts]
        stored = [row for row in rows if row["device"] == reader]
        by_time = [row["uid"] for row in sorted(stored, key=lambda row: row["time"])]
        by_seq = [row["uid"] for row in sorted(stored, key=lambda row: row["seq"])]
        expected = [uid for uid in uids if uid in counts]
        if by_time != expected or by_seq != expected:
            report.out_of_order.append(reader)
