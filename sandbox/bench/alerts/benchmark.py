"""The alert benchmark end to end: servers, the engine process, the pilot load, the alarms.

1. Mosquitto (reference settings), the aiosmtpd server and an SQLite state database; the
   engine as ``pelangi-collector alerts run`` on :func:`.config.write_config`, waited for
   until its session has subscribed.
2. The engine idle for ``idle_s`` (its ticks alone), then the pilot load (:mod:`.pilot`)
   at ``speedup`` x its rate alone for ``load_s``: the engine's CPU and RSS over each.
3. With the pilot load at its real rate, the threshold alarms, then the held-open ones
   (:mod:`.alarms`), then their emails waited for.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from pelangi.topics import reading_filter
from sandbox.bench.alerts import report
from sandbox.bench.alerts.alarms import offsets, publish_alarms, wait_for_mail
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
HELD_GAP_S: Final = (1.0, 2.0)
"""Between two held-open alarms, drawn at random (see :mod:`.alarms`)."""


@dataclass(frozen=True, slots=True)
class Sizes:
    """How big a run is.

    Attributes:
        load_s: how long the pilot load runs alone while CPU and RSS are measured.
        speedup: the pilot load's rate, as a multiple of the real pilot's.
        threshold: alerts of kind (a), a critical port down.
        held: alerts of kind (b), a door held open past its hold time.
        idle_s: how long the engine is measured with no load (its ticks and lease alone).
        spacing_s: between two threshold alarms.
        held_for_s: the hold time of the held-open doors.
    """

    load_s: float
    speedup: float
    threshold: int
    held: int
    idle_s: float = 10.0
    spacing_s: float = 0.4
    held_for_s: float = 3.0


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


@dataclass(frozen=True, slots=True)
class LoadStats:
    """What the pilot load published, and the most it fell behind its schedule."""

    messages: int
    readings: int
    late_s: float

    @classmethod
    def of(cls, load: PilotLoad) -> LoadStats:
        """The figures of ``load``, once it has stopped."""
        return cls(load.messages, load.readings, load.late_s)


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
    loads: tuple[LoadStats, LoadStats]
    """The pilot load at ``speedup`` (CPU window), then at the real rate (the alarms)."""
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


def _window(pid: int, seconds: float) -> Footprint:
    sampler = _Sampler(pid)
    threading.Event().wait(seconds)  # the measuring window itself, not a synchronisation
    return sampler.finish()


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
            idle = _window(engine.pid, sizes.idle_s)
            fast = PilotLoad(broker.port, sizes.speedup)
            fast.start()
            try:
                pilot = _window(engine.pid, sizes.load_s)
            finally:
                fast.stop()
            # The latencies at the real rate: every message also advances the engine's
            # timers (not only its tick), so a faster load would shorten (b) below what the
            # pilot would see.
            real = PilotLoad(broker.port, 1.0)
            real.start()
            try:
                sampler = _Sampler(engine.pid)
                pace = (sizes.spacing_s, sizes.spacing_s)
                alarms = publish_alarms(
                    broker.port,
                    "threshold",
                    offsets(sizes.threshold, gap_s=pace),
                    held_for_s=sizes.held_for_s,
                )
                alarms += publish_alarms(
                    broker.port,
                    "held",
                    offsets(sizes.held, gap_s=HELD_GAP_S),
                    held_for_s=sizes.held_for_s,
                )
                outcome = wait_for_mail(smtp, alarms, LOST_AFTER_S)
                alarms_phase = sampler.finish()
            finally:
                real.stop()
            problems = [f"the pilot load failed: {x.error}" for x in (fast, real) if x.error]
            if not engine.running:
                problems.append(f"the engine {engine.describe_exit()} during the run")
    loads = (LoadStats.of(fast), LoadStats.of(real))
    return Measured(sizes, startup_s, idle, pilot, alarms_phase, alarms, outcome, loads, problems)


def run(workdir: Path, *, quick: bool = False, sizes: Sizes | None = None) -> BenchResult:
    """Measure the engine in ``workdir``, an empty folder the caller removes afterwards.

    ``quick`` picks :data:`QUICK` over :data:`FULL`; ``sizes``, when given, wins over both
    (the smoke test's tiny run).
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
