"""Figures for the outbox's targets: durable appends/s, replay rate, size of a week.

:func:`run_benchmark` measures, on the disk holding ``workdir``:

- ``appends_per_s_1_thread``: one thread appending one reading at a time, each waiting for
  its own commit (``sync: full``: one fsync each) — the floor.
- ``appends_per_s_8_threads``: eight threads appending one reading at a time (group
  commit shares fsyncs) — many readers and pollers at once.
- ``appends_per_s_polls``: readings/s appended as whole polls (48 readings per call).
- ``replay_readings_per_s``: take + payload + ack of a 1-hour pilot backlog found on disk at
  start, until the deletes are committed (the broker is simulated by acking at once).
- ``replay_readings_per_s_paced``: the same with the default pacing of the backlog.
- ``live_take_p50_ms`` / ``_p99_ms`` / ``_max_ms``: during a replay of a 2-day backlog, a
  card tap every 10 ms: time from calling append() until take() hands it out (default
  pacing; ``live_take_unpaced_*``: replaying flat out). This is the outbox's share of
  "tap -> PUBACK"; the MQTT client, the network and the broker come on top.
- ``bytes_per_reading``: database file size (WAL checkpointed) / readings, for the pilot
  mix, all SQLite overhead included; ``json_bytes_per_reading`` for comparison.
- ``week_readings`` and ``week_bytes``: one week of the pilot gateway, from the mix below.

The pilot gateway: 2 RFID readers, 10 doors, two 48-port switches polled every 60 s.
"""

from __future__ import annotations

import json
import random
import shutil
import sqlite3
import sys
import threading
import time
from pathlib import Path
from statistics import quantiles
from typing import Final

from edge_agent.outbox.settings import OutboxSettings
from edge_agent.outbox.store import Outbox, OutboxEntry

MINUTE_NS: Final = 60 * 10**9
SWITCHES: Final = 2
PORTS: Final = 48
DOORS: Final = 10
# Per day, events of the pilot (office hours, estimated): taps, door changes, port flaps.
CARD_READS_PER_DAY: Final = 800
DOOR_CHANGES_PER_DAY: Final = 500
PORT_CHANGES_PER_DAY: Final = 20
# Per minute, telemetry: one interface reading per port, agent health, door re-statements.
TELEMETRY_PER_MINUTE: Final = SWITCHES * PORTS + 1 + DOORS
EVENTS_PER_DAY: Final = CARD_READS_PER_DAY + DOOR_CHANGES_PER_DAY + PORT_CHANGES_PER_DAY
READINGS_PER_WEEK: Final = 7 * (1440 * TELEMETRY_PER_MINUTE + EVENTS_PER_DAY)
TIMED_S: Final = 2.0


class _Mix:
    """Readings shaped like the pilot's, with realistic JSON lengths."""

    def __init__(self, seed: int = 1) -> None:
        self._rng = random.Random(seed)  # noqa: S311 - sample data, not secrets
        self._seq = 0

    @property
    def seq(self) -> int:
        """The seq of the reading made last."""
        return self._seq

    def _head(self, kind: str, ts: int) -> dict[str, object]:
        self._seq += 1
        return {"kind": kind, "seq": self._seq, "ts": ts}

    def interface(self, port: int, ts: int) -> bytes:
        r = self._rng
        return self._json(
            {
                **self._head("interface", ts),
                "index": port,
                "name": f"GigabitEthernet1/0/{port}",
                "alias": f"Ruang {r.randrange(100, 400)} Lt.{r.randrange(1, 4)}",
                "admin": "up",
                "oper": r.choice(["up", "up", "up", "down"]),
                "speed_mbps": 1000,
                "in_bps": r.random() * 1e7,
                "out_bps": r.random() * 1e8,
                "in_errors_ps": 0.0,
                "out_errors_ps": 0.0,
                "in_discards_ps": r.choice([0.0, 0.016666666666666666]),
                "out_discards_ps": 0.0,
                "discarded": [],
            }
        )

    def health(self, ts: int) -> bytes:
        r = self._rng
        return self._json(
            {
                **self._head("health", ts),
                "cpu_percent": r.random() * 10,
                "rss_bytes": r.randrange(30_000_000, 60_000_000),
                "disk_free_bytes": r.randrange(10**9, 10**10),
                "uptime_s": r.random() * 1e6,
                "outbox_readings": r.randrange(0, 10**6),
                "outbox_bytes": r.randrange(0, 10**9),
                "outbox_evicted": 0,
            }
        )

    def door(self, door: int, ts: int, *, change: bool) -> bytes:
        state = self._rng.choice(["open", "closed"])
        fields = {"door": f"pintu-{door}", "state": state, "change": change}
        return self._json({**self._head("door", ts), **fields})

    def card(self, ts: int) -> bytes:
        uid = f"{self._rng.randrange(2**32):08X}"
        card = {"raw": "01" + uid, "uid": uid, "bits": 32}
        return self._json({**self._head("card_read", ts), "card": card})

    def port_change(self, ts: int) -> bytes:
        port = self._rng.randrange(1, PORTS + 1)
        name = f"GigabitEthernet1/0/{port}"
        fields = {"index": port, "name": name, "previous": "up", "current": "down"}
        return self._json({**self._head("port_change", ts), **fields})

    @staticmethod
    def _json(value: dict[str, object]) -> bytes:
        return json.dumps(value, separators=(",", ":")).encode()

    def _entry(self, device: str, body: bytes, *, is_event: bool, ts: int) -> OutboxEntry:
        """The entry of the reading just made (``body``: its seq is the latest)."""
        return OutboxEntry(device, body, is_event=is_event, ts=ts, seq=self._seq)

    def minute(self, start_ns: int) -> list[list[OutboxEntry]]:
        """One minute of the pilot gateway, as the commits the agent would make."""
        commits = [
            [
                self._entry(f"sw-{s}", self.interface(p, start_ns), is_event=False, ts=start_ns)
                for p in range(1, PORTS + 1)
            ]
            for s in range(SWITCHES)
        ]
        commits.append([self._entry("gw", self.health(start_ns), is_event=False, ts=start_ns)])
        commits += [
            [
                self._entry(
                    f"door-{d}", self.door(d, start_ns, change=False), is_event=False, ts=start_ns
                )
            ]
            for d in range(DOORS)
        ]
        rng = self._rng
        for n, make, device in (
            (CARD_READS_PER_DAY, self.card, "rfid-lobby"),
            (DOOR_CHANGES_PER_DAY, None, "door-0"),
            (PORT_CHANGES_PER_DAY, self.port_change, "sw-0"),
        ):
            if rng.random() < n / 1440:  # about n a day, at most one a minute each
                ts = start_ns + rng.randrange(MINUTE_NS)
                body = self.door(0, ts, change=True) if make is None else make(ts)
                commits.append([self._entry(device, body, is_event=True, ts=ts)])
        return commits


def _settings(**overrides: object) -> OutboxSettings:
    return OutboxSettings.model_validate({"sync": "full", **overrides})


def _timed_appends(path: Path, threads: int, *, batch: int) -> float:
    """Readings/s appended by ``threads`` threads for TIMED_S seconds, ``batch`` per call."""
    mix = _Mix(seed=threads)
    body = mix.interface(1, time.time_ns())
    count = [0] * threads
    stop = threading.Event()
    with Outbox.open(path, _settings()) as outbox:

        def work(i: int) -> None:
            entries = [
                OutboxEntry(f"sw-{i}", body, is_event=False, ts=time.time_ns(), seq=0)
            ] * batch
            while not stop.is_set():
                outbox.append_many(entries)
                count[i] += batch

        workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
        started = time.perf_counter()
        for worker in workers:
            worker.start()
        stop.wait(TIMED_S)
        stop.set()
        for worker in workers:
            worker.join()
        elapsed = time.perf_counter() - started
    return sum(count) / elapsed


def build_backlog(path: Path, minutes: int, *, sync: str = "full") -> int:
    """Fill the outbox at ``path`` with ``minutes`` of the pilot gateway's readings.

    The readings end now and are committed as the agent would commit them (one switch
    poll, one health reading, one door re-statement per commit; events now and then), with
    realistic JSON sizes, so a replay of the file behaves like a gateway's own backlog.

    Args:
        path: the outbox database (created if missing).
        minutes: how much of the pilot's telemetry to store (60: an hour, ~6,500 readings).
        sync: the outbox's ``sync`` setting while filling (``"normal"`` is much faster
            and enough for a backlog nobody crashes during).

    Returns:
        How many readings were stored.
    """
    mix = _Mix()
    start = time.time_ns() - minutes * MINUTE_NS
    stored = 0
    with Outbox.open(path, _settings(sync=sync)) as outbox:
        for minute in range(minutes):
            for commit in mix.minute(start + minute * MINUTE_NS):
                outbox.append_many(commit)
                stored += len(commit)
    return stored


def _file_bytes(path: Path) -> tuple[int, int]:
    """(database file size after a checkpoint, total JSON bytes of the readings)."""
    db = sqlite3.connect(path)
    try:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        json_bytes = int(
            db.execute("SELECT coalesce(sum(length(body)), 0) FROM reading").fetchone()[0]
        )
    finally:
        db.close()
    return path.stat().st_size, json_bytes


def _replay(outbox: Outbox, backlog: int, seen: dict[int, float] | None = None) -> int:
    """Take, build payloads and ack until the backlog is sent; return readings sent.

    The broker is simulated by acknowledging at once. With ``seen``, note when each live
    reading was handed out.
    """
    sent = 0
    while True:
        batches = outbox.take()
        if not batches:
            outbox.flush()  # acknowledged rows are excluded until their delete commits
            if sent >= backlog or outbox.stats().readings == 0:
                break
            continue
        now = time.perf_counter()
        for batch in batches:
            batch.payload("bukit-pelangi", "gw-bench")
            if seen is not None and not batch.historical:
                for row in batch.reading_ids:
                    seen.setdefault(row, now)
        sent += sum(len(b) for b in batches)
        outbox.ack(b.id for b in batches)
    outbox.flush()
    return sent


def _replay_rate(path: Path, backlog: int, *, paced: bool) -> float:
    """Readings/s replayed from ``path`` (default pacing, or none)."""
    overrides = {} if paced else {"replay_max_readings_per_s": None}
    with Outbox.open(path, _settings(**overrides)) as outbox:
        started = time.perf_counter()
        sent = _replay(outbox, backlog)
        elapsed = time.perf_counter() - started
    return sent / elapsed


def _live_latency(path: Path, backlog: int, *, paced: bool) -> tuple[list[float], float]:
    """Milliseconds from append() to take() for taps every 10 ms during a replay.

    Returns the latencies and the replay's readings/s.
    """
    seen: dict[int, float] = {}
    called: dict[int, float] = {}
    mix = _Mix(seed=7)
    stop = threading.Event()
    overrides = {} if paced else {"replay_max_readings_per_s": None}
    with Outbox.open(path, _settings(**overrides)) as outbox:

        def tap() -> None:
            while not stop.wait(0.01):
                before = time.perf_counter()
                now_ns = time.time_ns()
                body = mix.card(now_ns)
                row = outbox.append("rfid-lobby", body, is_event=True, ts=now_ns, seq=mix.seq)
                called[row] = before

        tapper = threading.Thread(target=tap)
        tapper.start()
        started = time.perf_counter()
        try:
            sent = _replay(outbox, backlog, seen)
        finally:
            stop.set()
            tapper.join()
        elapsed = time.perf_counter() - started
    return [(seen[row] - t) * 1000 for row, t in called.items() if row in seen], sent / elapsed


def _latency_figures(figures: dict[str, float], name: str, latencies: list[float]) -> None:
    figures[f"{name}_taps"] = len(latencies)
    if len(latencies) >= 2:
        figures[f"{name}_p50_ms"] = quantiles(latencies, n=100, method="inclusive")[49]
        figures[f"{name}_p99_ms"] = quantiles(latencies, n=100, method="inclusive")[98]
        figures[f"{name}_max_ms"] = max(latencies)


def run_benchmark(workdir: Path) -> dict[str, float]:
    """Measure the outbox on the disk holding ``workdir``; see the module docstring."""
    workdir.mkdir(parents=True, exist_ok=True)
    figures: dict[str, float] = {}
    figures["appends_per_s_1_thread"] = _timed_appends(workdir / "a1.db", 1, batch=1)
    figures["appends_per_s_8_threads"] = _timed_appends(workdir / "a8.db", 8, batch=1)
    figures["appends_per_s_polls"] = _timed_appends(workdir / "ap.db", 1, batch=PORTS)

    hour = workdir / "hour.db"
    readings = build_backlog(hour, minutes=60)
    file_bytes, json_bytes = _file_bytes(hour)
    figures["hour_readings"] = readings
    figures["bytes_per_reading"] = file_bytes / readings
    figures["json_bytes_per_reading"] = json_bytes / readings
    figures["week_readings"] = READINGS_PER_WEEK
    figures["week_bytes"] = READINGS_PER_WEEK * file_bytes / readings
    shutil.copyfile(hour, workdir / "hour-paced.db")
    figures["replay_readings_per_s"] = _replay_rate(hour, readings, paced=False)
    figures["replay_readings_per_s_paced"] = _replay_rate(
        workdir / "hour-paced.db", readings, paced=True
    )

    days = workdir / "days.db"
    backlog = build_backlog(days, minutes=48 * 60, sync="normal")  # ~310k readings, fast
    _file_bytes(days)  # checkpointed, so the copy is whole
    shutil.copyfile(days, workdir / "days-paced.db")
    latencies, rate = _live_latency(days, backlog, paced=False)
    figures["replay_2_days_readings_per_s"] = rate
    _latency_figures(figures, "live_take_unpaced", latencies)
    latencies, rate = _live_latency(workdir / "days-paced.db", backlog, paced=True)
    figures["replay_2_days_readings_per_s_paced"] = rate
    _latency_figures(figures, "live_take", latencies)
    return figures


def main() -> None:
    """``python -m sandbox.bench.outbox WORKDIR``: print the figures as JSON."""
    workdir = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("bench-outbox")
    sys.stdout.write(json.dumps(run_benchmark(workdir), indent=2) + "\n")


if __name__ == "__main__":
    main()
