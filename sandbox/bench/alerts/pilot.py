"""The pilot's telemetry as the engine receives it, published on a timed schedule from a thread.

The pilot (the brief's estimate; the field notes give no counts): one site, 10 gateways,
each with 3 doors, one card reader and one switch (five of 48 ports, five of 24) polled
every 30 s, the busier end of 30-60 s. Per gateway the agent also sends its birth again
every 30 s (the heartbeat) and its health every 60 s, and re-states every door every 60 s.
Across the site: 300 card taps an hour and 75 door openings (150 changes), each door
closing again after 10 s, far within the hold time. That is about 1.3 messages and
13 readings a second at the real rate; :class:`PilotLoad` plays it ``speedup`` times
faster (every interval divided by it).
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from sandbox.alerts_scenario import Place, Publisher
from sandbox.bench.alerts.config import PILOT_SITE
from sandbox.load import card_message

if TYPE_CHECKING:
    from collections.abc import Callable

GATEWAYS: Final = 10
DOORS_PER_GATEWAY: Final = 3
SWITCH_PORTS: Final = (48, 48, 48, 48, 48, 24, 24, 24, 24, 24)
POLL_S: Final = 30.0
HEARTBEAT_S: Final = 30.0
HEALTH_S: Final = 60.0
RESTATE_S: Final = 60.0
TAPS_PER_HOUR: Final = 300
OPENINGS_PER_HOUR: Final = 75
OPEN_FOR_S: Final = 10.0
HORIZON_S: Final = 3600.0
"""Real-time length of the schedule: at any speed-up, longer than a benchmark runs."""


def gateway(index: int) -> str:
    """The id of pilot gateway ``index``."""
    return f"gw-{index + 1:02d}"


def door(index: int) -> str:
    """The id of door ``index`` of a gateway."""
    return f"pintu-{index + 1}"


@dataclass(frozen=True, slots=True, order=True)
class Event:
    """One message of the schedule: when (real-rate seconds from the start), what, where."""

    at_s: float
    kind: str
    gateway: int
    item: int = 0


def _every(period_s: float, kind: str, items: int = 1) -> list[Event]:
    """``kind`` for every gateway (and item) each ``period_s``, the gateways staggered."""
    return [
        Event(phase + n * period_s, kind, g, item)
        for g in range(GATEWAYS)
        for item in range(items)
        for phase in [period_s * (g * items + item) / (GATEWAYS * items)]
        for n in range(int((HORIZON_S - phase) // period_s) + 1)
    ]


def schedule(seed: int = 1) -> list[Event]:
    """The pilot's messages over :data:`HORIZON_S` at the real rate, in time order."""
    rng = random.Random(seed)  # noqa: S311 - a load pattern, not secrets
    events = _every(POLL_S, "poll") + _every(HEARTBEAT_S, "status") + _every(HEALTH_S, "health")
    events += _every(RESTATE_S, "restate", DOORS_PER_GATEWAY)
    events += [
        Event(rng.uniform(0, HORIZON_S), "tap", rng.randrange(GATEWAYS))
        for _ in range(int(TAPS_PER_HOUR * HORIZON_S / 3600))
    ]
    for _ in range(int(OPENINGS_PER_HOUR * HORIZON_S / 3600)):
        at, g = rng.uniform(0, HORIZON_S - OPEN_FOR_S), rng.randrange(GATEWAYS)
        d = rng.randrange(DOORS_PER_GATEWAY)
        events += [Event(at, "open", g, d), Event(at + OPEN_FOR_S, "close", g, d)]
    return sorted(events)


def _interfaces(ports: int, ts: int) -> list[dict[str, Any]]:
    """One switch poll: every port up, lightly used, no errors (nothing to alert on)."""
    return [
        {
            "kind": "interface",
            "ts": ts,
            "if_index": n + 1,
            "port": f"ge-0/0/{n}",
            "admin": "up",
            "oper": "up",
            "speed_mbps": 1000,
            "in_bps": 2_000_000.0,
            "out_bps": 1_000_000.0,
            "in_errors_ps": 0.0,
            "out_errors_ps": 0.0,
            "in_discards_ps": 0.0,
            "out_discards_ps": 0.0,
        }
        for n in range(ports)
    ]


class PilotLoad:
    """Publishes :func:`schedule` at ``speedup`` x the real rate until :meth:`stop`."""

    def __init__(self, mqtt_port: int, speedup: float) -> None:
        """Connect a publisher; nothing is sent until :meth:`start`."""
        self.speedup = speedup
        self.messages = 0
        self.readings = 0
        self.late_s = 0.0
        """The most a message went out after its scheduled time (the publisher kept up?)."""
        self.error: str | None = None
        self._publisher = Publisher(mqtt_port)
        self._doors: dict[tuple[int, int], str] = {}
        self._cards = itertools.count(1)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._main, name="pilot-load", daemon=True)

    def start(self) -> None:
        """Start publishing (every gateway's birth first, as agents would have sent)."""
        for g in range(GATEWAYS):
            self._send("status", g, 0, time.time_ns())
        self._thread.start()

    def stop(self) -> None:
        """Stop publishing and disconnect."""
        self._stop.set()
        self._thread.join(30)
        self._publisher.close()

    def _main(self) -> None:
        started = time.monotonic()
        try:
            for event in schedule():
                delay = started + event.at_s / self.speedup - time.monotonic()
                if self._stop.wait(max(delay, 0.0)):
                    return
                self.late_s = max(self.late_s, -delay)
                self._send(event.kind, event.gateway, event.item, time.time_ns())
        except Exception as exc:  # noqa: BLE001 - reported as the run's failure
            self.error = f"{type(exc).__name__}: {exc}"

    def _send(self, kind: str, g: int, item: int, ts: int) -> None:
        senders: dict[str, Callable[[], int]] = {
            "poll": lambda: self._reading("sw-1", _interfaces(SWITCH_PORTS[g], ts), g),
            "health": lambda: self._reading(
                "agent", [{"kind": "agent_health", "ts": ts, "uptime_s": 3600.0}], g
            ),
            "tap": lambda: self._reading("rfid-1", [self._tap(g, ts)], g),
            "status": lambda: self._status(g),
            "restate": lambda: self._door(g, item, ts, change=False),
            "open": lambda: self._door(g, item, ts, change=True, state="open"),
            "close": lambda: self._door(g, item, ts, change=True, state="closed"),
        }
        self.readings += senders[kind]()
        self.messages += 1

    def _reading(self, device: str, readings: list[dict[str, Any]], g: int) -> int:
        self._publisher.reading(device, readings, site=PILOT_SITE, gateway=gateway(g))
        return len(readings)

    def _tap(self, g: int, ts: int) -> dict[str, Any]:
        message = card_message(
            next(self._cards), site=PILOT_SITE, gateway=gateway(g), device="rfid-1", ts=ts
        )
        return message.readings[0].model_dump(mode="json", exclude={"seq"})

    def _status(self, g: int) -> int:
        devices = ("sw-1", "rfid-1", *(door(d) for d in range(DOORS_PER_GATEWAY)))
        self._publisher.status(online=True, devices=devices, site=PILOT_SITE, gateway=gateway(g))
        return 0

    def _door(self, g: int, d: int, ts: int, *, change: bool, state: str | None = None) -> int:
        if state is not None:
            self._doors[g, d] = state
        current = self._doors.get((g, d), "closed")
        where = Place(door(d), PILOT_SITE, gateway(g))
        self._publisher.door(current, ts=ts, change=change, where=where)
        return 1


def real_rates() -> tuple[float, float]:
    """(messages/s, readings/s) of the pilot at the real rate, from :func:`schedule`."""
    events = schedule()
    sizes = {"poll": SWITCH_PORTS, "status": (0,) * GATEWAYS}
    readings = sum(sizes.get(e.kind, (1,) * GATEWAYS)[e.gateway] for e in events)
    return len(events) / HORIZON_S, readings / HORIZON_S
