"""The alert benchmark end to end: servers, the engine process, the pilot load, the alarms.

1. Mosquitto (reference settings), the aiosmtpd server and an SQLite state database; the
   engine as ``pelangi-collector alerts run`` on :func:`.config.write_config`, waited for
   until its session has subscribed.
2. The engine idle for ``idle_s`` (its ticks alone), then the pilot load (:mod:`.pilot`)
   alone for ``load_s``: the engine's CPU and RSS over each.
3. With the load still running, the alarms (:mod:`.alarms`), then their emails waited for.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from pelangi.topics import reading_filter
from sandbox.bench.alerts import report
from sandbox.bench.alerts.alarms import plan, publish_alarms, wait_for_mail
from sandbox.bench.alerts.config import CLIENT_ID, write_config
from sandbox.bench.alerts.pilot import PilotLoad
from sandbox.bench.procfs import cpu_seconds, status_kib
from sandbox.bench.report import BenchResult
from sandbox.processes import ChildProcess, SandboxError, venv_program
from sandbox.servers import Mosquitto
from sandbox.servers.smtp import Smtp
from sandbox.waiting import wait_until

if TYPE_CHECKING:
    from pathlib import Path

    from sandbox.bench.alerts.alarms import Alarm, Outcome

NAME: Final = "alerts"
LOST_AFTER_S: Final = 60.0
"""An email not accepted this long after its alert was due counts as lost."""
START_TIMEOUT_S: Final = 60.0


@dataclass(frozen=True, slots=True)
class Sizes:
    """How big a run is."""

    load_s: float
    """How long the pilot load runs alone while CPU and RSS are measured."""
    speedup: float
    """The pilot load's rate, as a multiple of the real pilot's."""
    threshold: int
    """Alerts of kind (a): a critical port down."""
    held: int
    """Alerts of kind (b): a door held open past its hold time."""
    idle_s: float = 10.0
    """How long the engine's CPU is measured with no load (its ticks and lease alone)."""
    spacing_s: float = 0.4
    """Between two alarms (both kinds interleaved)."""
    held_for_s: float = 3.0
    """The hold time of the held-open doors."""


FULL: Final = Sizes(load_s=60.0, speedup=10.0, threshold=100, held=50)
QUICK: Final = Sizes(load_s=15.0, speedup=10.0, threshold=20, held=10, idle_s=5.0)


@dataclass(frozen=True, slots=True)
class Footprint:
    """The engine process over a window: CPU time used, resident memory."""

    window_s: float
    cpu_s: float
    rss_max_bytes: int
    """The largest VmRSS sampled (once a second) in the window."""
    rss_peak_bytes: int
    """VmHWM at the window's end: the peak since the process started."""

    @property
    def cpu_percent(self) -> float:
        """CPU as a percentage of one core over the window."""
        return 100 * self.cpu_s / self.window_s if self.window_s > 0 else 0.0


@dataclass
class Measured:
    """Everything one run saw."""

    sizes: Sizes
    startup_s: float
    idle: Footprint
    pilot: Footprint
    alarms_phase: Footprint
    alarms: list[Alarm]
    outcome: Outcome
    load_messages: int
    load_readings: int
    load_late_s: float
    problems: list[str]


class _Sampler:
    """Samples the engine's VmRSS once a second from a thread, over one window at a time."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._started = (time.monotonic(), cpu_seconds(pid))
        self._rss: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._main, daemon=True)
        self._thread.start()

    def _main(self) -> None:
        while True:
            self._rss.append((status_kib(self.pid, "VmRSS") or 0) * 1024)
            if self._stop.wait(1.0):  # pacing the samples, not waiting for anything
                return

    def finish(self) -> Footprint:
        self._stop.set()
        self._thread.join(10)
        started, cpu = self._started
        return Footprint(
            window_s=time.monotonic() - started,
            cpu_s=cpu_seconds(self.pid) - cpu,
            rss_max_bytes=max(self._rss, default=0),
            rss_peak_bytes=(status_kib(self.pid, "VmHWM") or 0) * 1024,
        )


def _engine(config: Path, workdir: Path) -> ChildProcess:
    argv = [str(venv_program("pelangi-collector")), "alerts", "run", "--config", str(config)]
    return ChildProcess(argv, log_path=workdir / "engine.log", name="pelangi-collector alerts run")


def measure(workdir: Path, sizes: Sizes) -> Measured:
    """Run the servers, the engine, the pilot load and the alarms (module docstring)."""
    with Mosquitto(workdir / "mosquitto") as broker, Smtp(workdir / "smtp") as smtp:
        config = write_config(
            workdir / "collector.yaml",
            mqtt_port=broker.port,
            smtp_port=smtp.port,
            state_url=f"sqlite:///{workdir / 'state.db'}",
            held_for_s=sizes.held_for_s,
        )
        started = time.monotonic()
        with _engine(config, workdir) as engine:

            def subscribed() -> bool:
                if not engine.running:
                    raise SandboxError(f"the engine {engine.describe_exit()}:\n{engine.log_tail()}")
                return broker.has_subscribed(CLIENT_ID, reading_filter())

            wait_until(subscribed, timeout=START_TIMEOUT_S, what="the engine has subscribed")
            startup_s = time.monotonic() - started
            sampler = _Sampler(engine.pid)
            threading.Event().wait(sizes.idle_s)  # the measuring window itself
            idle = sampler.finish()
            load = PilotLoad(broker.port, sizes.speedup)
            load.start()
            try:
                sampler = _Sampler(engine.pid)
                threading.Event().wait(sizes.load_s)  # the measuring window itself
                pilot = sampler.finish()
                sampler = _Sampler(engine.pid)
                order = plan(sizes.threshold, sizes.held)
                alarms = publish_alarms(
                    broker.port, order, spacing_s=sizes.spacing_s, held_for_s=sizes.held_for_s
                )
                outcome = wait_for_mail(smtp, alarms, LOST_AFTER_S)
                alarms_phase = sampler.finish()
            finally:
                load.stop()
            problems = [] if load.error is None else [f"the pilot load failed: {load.error}"]
            if not engine.running:
                problems.append(f"the engine {engine.describe_exit()} during the run")
    return Measured(
        sizes=sizes,
        startup_s=startup_s,
        idle=idle,
        pilot=pilot,
        alarms_phase=alarms_phase,
        alarms=alarms,
        outcome=outcome,
        load_messages=load.messages,
        load_readings=load.readings,
        load_late_s=load.late_s,
        problems=problems,
    )


def run(workdir: Path, *, quick: bool = False, sizes: Sizes | None = None) -> BenchResult:
    """Run the alert benchmark in ``workdir`` (the servers' folders go there).

    Args:
        workdir: an empty folder; removed by the caller.
        quick: use :data:`QUICK` sizes (ignored when ``sizes`` is given).
        sizes: explicit sizes (the smoke test uses tiny ones).
    """
    sizes = sizes or (QUICK if quick else FULL)
    measured = measure(workdir, sizes)
    return BenchResult(
        name=NAME,
        title=(
            "alert engine: reading or timer expiry to the SMTP server accepting the email, "
            "and its CPU and RSS at pilot load"
        ),
        parameters=report.parameters(sizes),
        tables=report.tables(measured),
        checks=report.checks(measured),
        figures=report.figures(measured),
        notes=tuple(report.notes(measured)),
        lost=tuple(report.lost_lines(measured)),
    )
