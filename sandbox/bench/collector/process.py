"""The real ``pelangi-collector run`` as a child process, draining its session into InfluxDB."""

from __future__ import annotations

import re
import subprocess
import time
from typing import TYPE_CHECKING, Final

import yaml

from collector.config import CollectorSettings, InfluxV1Settings
from sandbox.bench.collector.runs import wait_progress
from sandbox.bench.collector.stored import (
    COUNT_POLL_S,
    count_points,
    points_written,
    verify_stored,
)
from sandbox.bench.procfs import cpu_seconds, status_kib
from sandbox.processes import ChildProcess, SandboxError, venv_program
from sandbox.waiting import wait_until

if TYPE_CHECKING:
    from pathlib import Path

    from sandbox.bench.collector.runs import Run
    from sandbox.servers import InfluxDB, Mosquitto

STATS_POLL_S: Final = 0.025
"""How often the collector's progress is read from InfluxDB's write counters (cheap)."""


def collector_available() -> str | None:
    """None if ``pelangi-collector run`` can be started here, else why not."""
    try:
        program = venv_program("pelangi-collector")
    except SandboxError as exc:
        return str(exc)
    done = subprocess.run(
        [str(program), "run", "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    if done.returncode != 0:
        return f"`pelangi-collector run --help` exited with {done.returncode}: {done.stderr[-300:]}"
    return None


def collector_settings(
    broker: Mosquitto, influx: InfluxDB, collector_id: str, db: str
) -> CollectorSettings:
    """The collector's configuration: defaults everywhere except the servers' addresses."""
    return CollectorSettings.model_validate(
        {
            "collector_id": collector_id,
            "mqtt": {"host": broker.host, "port": broker.port},
            "influxdb": {"backend": "influxdb1", "url": influx.url, "database": db},
            "log_level": "info",
        }
    )


def run_collector(
    broker: Mosquitto, influx: InfluxDB, settings: CollectorSettings, workdir: Path, run: Run
) -> None:
    """Drain the collector's session with ``pelangi-collector run``; time and verify it."""
    assert isinstance(settings.influxdb, InfluxV1Settings)  # noqa: S101 - built so above
    db = settings.influxdb.database
    config_path = workdir / f"{settings.collector_id}.yaml"
    config_path.write_text(
        yaml.safe_dump(settings.model_dump(mode="json", exclude_none=True), sort_keys=False),
        encoding="utf-8",
    )
    program = str(venv_program("pelangi-collector"))
    setup = subprocess.run(
        [program, "setup-db", "--config", str(config_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if setup.returncode != 0:
        run.error = (
            f"setup-db exited with {setup.returncode}: {(setup.stdout + setup.stderr)[-300:]}"
        )
        return
    process = ChildProcess(
        [program, "run", "--config", config_path],
        log_path=workdir / f"{settings.collector_id}.log",
        name="pelangi-collector",
    )
    before = points_written(influx, db)

    def alive() -> None:
        if not process.running:
            raise SandboxError(
                f"pelangi-collector {process.describe_exit()}; its log ends with:\n"
                f"{process.log_tail(15)}"
            )

    def connections() -> int:
        # The session was created by the same client id: count connections, not "has connected".
        pattern = rf"New client connected from \S+ as {re.escape(settings.client_id)} \("
        return len(re.findall(pattern, broker.log_text()))

    earlier = connections()

    def connected() -> bool:
        alive()
        return connections() > earlier

    def written() -> int:
        alive()
        return points_written(influx, db) - before

    spawned = time.perf_counter()
    process.start()
    try:
        wait_until(connected, timeout=60, what="the collector has connected", interval=0.002)
        started = time.perf_counter()
        run.startup_s = started - spawned
        wait_progress(written, run.readings, "pelangi-collector", STATS_POLL_S)
        # The write counters also count a batch written twice (a write retried after a
        # timeout that InfluxDB had in fact stored): they can reach the backlog while some
        # messages still wait in the collector. The count decides when it is done; stopping
        # earlier would leave those with the broker and show them as lost.
        wait_progress(
            lambda: count_points(influx, db), run.readings, "pelangi-collector", COUNT_POLL_S
        )
        run.elapsed_s = time.perf_counter() - started
        run.rss_peak_bytes = (status_kib(process.pid, "VmHWM") or 0) * 1024 or None
        run.cpu_s = cpu_seconds(process.pid)
    except (TimeoutError, SandboxError) as exc:
        run.error = str(exc)
    finally:
        status = process.stop(timeout=30)
    if run.error is None and status != 0:
        run.error = f"exited with status {status} when stopped; log:\n{process.log_tail(15)}"
    run.stored = verify_stored(influx, db, run.readings)
    warnings = [line for line in process.log_text().splitlines() if " WARNING " in line]
    if warnings:  # a retried write, a reconnect: worth seeing beside the figures
        print(f"  collector logged {len(warnings)} warning(s); the first:", warnings[0])  # noqa: T201
