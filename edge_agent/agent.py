"""Wires the agent together: devices -> drivers -> readings -> emitter -> sink.

::

    readers (edge_agent.readers: serial thread -> decoder -> hold filter)  \
    doors   (edge_agent.doors: GPIO, serial controller, Zigbee2MQTT)        >-> Emitter -> sink
    switches (edge_agent.snmp: one asyncio task per switch)                /
    the agent's own health (every health_interval_s)                      /

The emitter stamps each reading (sequence number, per-device clock) into an envelope;
the sink is the store-and-forward uplink (:mod:`edge_agent.uplink`): a reading is on the
gateway's disk when ``submit`` returns. Everything is built here, in one place.
"""

from __future__ import annotations

import logging
import os
import time
from collections import Counter
from typing import TYPE_CHECKING, Final

from edge_agent import ntp
from edge_agent.clock import DeviceClock
from edge_agent.clockanchor import AnchorFile
from edge_agent.config import HEALTH_DEVICE
from edge_agent.doors.service import DoorService
from edge_agent.emitter import Emitter
from edge_agent.health import HealthSampler
from edge_agent.readers.service import ReaderService
from edge_agent.sequence import SequenceCounter
from edge_agent.snmp.service import SwitchService
from edge_agent.timebase import TimeBase
from edge_agent.toolkit.statusfile import StatusWriter, build_status, status_path
from edge_agent.uplink.publisher import MqttPublisher
from pelangi.payloads import AgentHealth
from pelangi.version import package_version

if TYPE_CHECKING:
    import threading

    from edge_agent.config import AgentSettings
    from edge_agent.sink import ReadingSink
    from edge_agent.timebase import ClockStatus

log = logging.getLogger(__name__)

TICK_S: Final = 1.0
"""How often the main thread wakes to flush rate-limited log summaries."""
STATS_INTERVAL_S: Final = 300.0
"""How often a statistics line is logged."""
SINK_CLOSE_TIMEOUT_S: Final = 5.0
"""How long to wait at shutdown for the broker to acknowledge what was sent."""
MAX_COUNTERS: Final = 256
MAX_PROBLEMS: Final = 16
"""The contract's limits on a health reading's counters and problems."""


class Agent:
    """The running agent: card readers, doors, switches and its own health, one sink."""

    def __init__(self, settings: AgentSettings, sink: ReadingSink | None = None) -> None:
        """Prepare the agent; ``sink`` defaults to an MQTT publisher for ``settings.mqtt``.

        Raises:
            AgentError: the state directory cannot be used, or a door source is misconfigured.
        """
        self.settings = settings
        self.sequence = SequenceCounter(settings.state_dir)  # first: fail before building more
        self.anchor_file = AnchorFile(settings.state_dir)
        self.timebase = TimeBase(
            settings.clock_tolerance_s,
            boot_id=self.anchor_file.boot_id,
            anchor=self.anchor_file.load(),
            on_anchor=self.anchor_file.save,
            synchronized=ntp.synchronized,
        )
        self.sink = sink or MqttPublisher.build(
            settings,
            time_signal=self.timebase.observe_signal,
            rewrite=self.timebase.correct,
            clock_status=self.timebase.status,
            clock_known=lambda: self.timebase.known,
            wall_ns=self.timebase.age_clock_ns,
        )
        try:
            self._build(settings)
        except BaseException:
            self.sink.close(0)  # the outbox's threads and lock file
            raise

    def _build(self, settings: AgentSettings) -> None:
        self.emitter = Emitter(
            site=settings.site,
            gateway=settings.gateway,
            sink=self.sink,
            next_seq=self.sequence.next,
            clock_factory=lambda: DeviceClock(self.timebase.stamp),
        )
        self.readers = ReaderService(settings.readers, self.emitter)
        self.doors = DoorService(
            settings.doors, settings.door_options, self.emitter, client_id=settings.client_id
        )
        self.switches = SwitchService(settings.switches, self.emitter)
        self.health = HealthSampler(settings.state_dir)
        self._next_health = 0.0
        self.status_file = StatusWriter(status_path(settings.state_dir))
        self._started = time.monotonic()

    def start(self) -> None:
        """Connect the sink and start every device source; returns at once."""
        settings = self.settings
        log.info(
            "agent %s/%s starting: %s; mqtt %s",
            settings.site,
            settings.gateway,
            settings.inventory(),
            settings.mqtt.address,
        )
        if not settings.device_ids:
            log.warning("no devices are configured: there is nothing to read")
        self.sink.start()
        self.readers.start()
        self.doors.start()
        self.switches.start()

    def tick(self, now: float) -> None:
        """Housekeeping (call about once a second): log summaries, doors, health."""
        self.readers.tick(now)
        self.doors.tick()
        if now >= self._next_health:
            self._next_health = now + self.settings.health_interval_s
            self.publish_health()
        if self.status_file.due(now):
            self.write_status(now)

    def publish_health(self) -> None:
        """Publish the agent's health, delivery's and every driver's counters as one reading.

        Delivery comes first (outbox size, evictions by class and reason, fallback, MQTT):
        if the contract's 256 counters are not enough, drivers' counters are cut, not those.
        """
        sample = self.health.sample()
        names, problems, clock = self.health_parts()
        self.emitter.emit(
            HEALTH_DEVICE,
            [
                lambda seq, ts: AgentHealth(
                    seq=seq,
                    ts=ts,
                    cpu_percent=sample.cpu_percent,
                    rss_bytes=sample.rss_bytes,
                    disk_free_bytes=sample.disk_free_bytes,
                    uptime_s=sample.uptime_s,
                    counters=dict(list(names.items())[:MAX_COUNTERS]),
                    problems=tuple(problems[:MAX_PROBLEMS]),
                    clock_offset_ms=clock.offset_ms,
                    ntp_synchronized=clock.synchronized,
                )
            ],
        )

    def health_parts(self) -> tuple[dict[str, int], list[str], ClockStatus]:
        """The health reading's counters, problems and clock (also the status file's)."""
        delivery = self.sink.health()
        counters: Counter[str] = Counter(delivery.counters)
        counters.update(self.readers.counters)
        counters.update(self.doors.counters)
        counters.update(self.switches.counters)
        clock = self.timebase.status()
        counters["clock.correcting"] = int(clock.correcting)
        counters["clock.known"] = int(clock.offset_ms is not None)
        problems = [*delivery.problems]
        if clock.correcting and clock.offset_ms is not None:
            # Second: a problem of delivery may say why readings are held back.
            problems.insert(min(1, len(problems)), _clock_problem(clock.offset_ms))
        if self.anchor_file.problem:
            problems.append(self.anchor_file.problem)
        return {_counter_name(k): v for k, v in counters.items()}, problems, clock

    def write_status(self, now: float, *, running: bool = True) -> None:
        """Replace the status file ``pelangi-agent status`` reads (never raises OSError)."""
        counters, problems, _ = self.health_parts()
        wall = time.time()
        settings = self.settings
        identity = {"site": settings.site, "gateway": settings.gateway, "pid": os.getpid()}
        identity |= {"version": package_version(), "mqtt": settings.mqtt.address}
        document = build_status(
            identity=identity,
            counters=counters,
            problems=problems,
            wall_s=wall,
            uptime_s=now - self._started,
            last_delivery_s=self.status_file.last_delivery(counters, wall),
            running=running,
        )
        self.status_file.write(document, now)

    def summary(self) -> str:
        """One statistics line: every reader, then delivery."""
        parts = self.readers.describe()
        if self.settings.doors:
            parts.append("doors " + ", ".join(f"{d} {s}" for d, s in self.doors.states().items()))
        return "; ".join([*parts, self.sink.summary()])

    def stop(self) -> None:
        """Stop every source, then give the sink a bounded time to deliver what it holds."""
        self.readers.stop()
        self.doors.stop()
        self.switches.stop()
        self.sink.close(SINK_CLOSE_TIMEOUT_S)
        self.write_status(time.monotonic(), running=False)  # status: "stopped", not "stuck"


def _clock_problem(offset_ms: int) -> str:
    side = "behind" if offset_ms > 0 else "ahead of"
    return (
        f"the gateway's clock is {abs(offset_ms) / 1000:.1f} s {side} the collectors': "
        "readings are stamped with the collectors' time (clock_corrected); check NTP"
    )


def _counter_name(name: str) -> str:
    """Counter names become field keys: keep them to the contract's character set."""
    return "".join(c if c.isalnum() or c in "_." else "_" for c in name.lower())[:64]


def run(settings: AgentSettings, stop: threading.Event) -> None:
    """Run the agent until ``stop`` is set.

    Raises:
        AgentError: the agent cannot start (e.g. the state directory is not writable).
    """
    agent = Agent(settings)
    try:
        agent.start()
        next_stats = time.monotonic() + STATS_INTERVAL_S
        while not stop.wait(TICK_S):
            now = time.monotonic()
            agent.tick(now)
            if now >= next_stats:
                log.info("stats: %s", agent.summary())
                next_stats = now + STATS_INTERVAL_S
    finally:
        log.info("agent %s/%s stopping", settings.site, settings.gateway)
        agent.stop()
        log.info("agent stopped; totals: %s", agent.summary())
