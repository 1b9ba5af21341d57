"""Builders for the alert rules' tests: observations, settings, a registry, a recording engine.

Times are engine times on Monday 2026-04-06 (a working day, not Ramadan, no holiday):
:data:`T0` is 10:00 WITA. Gateway ``gw-1`` of ``bukit-pelangi`` has door ``pintu-utama``
guarded by reader ``rfid-lobby``, and switch ``sw-core`` with critical port ``uplink``.
The registry: ``E1`` (active) holds card ``001293D8``; ``E2`` left the office on
2026-01-31 and holds ``AABBCCDD``; ``E1``'s old card ``11111111`` expired at the end of 2025.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from collector.alerts.engine import Engine
from collector.alerts.observations import (
    CardSeen,
    DoorSeen,
    GatewaySeen,
    HealthSeen,
    PortChanged,
    PortSeen,
    ReachabilitySeen,
    Source,
)
from collector.alerts.settings import AlertSettings
from collector.attendance.model import CardAssignment, Employee
from collector.attendance.rules import RegistryValues
from sandbox.attendance_rules import office_calendar, wita

if TYPE_CHECKING:
    from collector.alerts.model import Alert, Transition
    from collector.alerts.observations import Observation
    from pelangi.payloads import PortStatus

SITE: Final = "bukit-pelangi"
GATEWAY: Final = "gw-1"
DOOR: Final = "pintu-utama"
READER: Final = "rfid-lobby"
SWITCH: Final = "sw-core"
VALID_CARD: Final = "001293D8"
LEAVER_CARD: Final = "AABBCCDD"
EXPIRED_CARD: Final = "11111111"
STRANGER_CARD: Final = "DEADBEEF"
T0: Final = wita(date(2026, 4, 6), 10)

REGISTRY: Final = RegistryValues(
    employees=(
        Employee("E1", "Siti Rahma", "diskominfo"),
        Employee("E2", "Budi Santoso", "diskominfo", active_to=date(2026, 1, 31)),
    ),
    cards=(
        CardAssignment(VALID_CARD, "E1", date(2026, 1, 1)),
        CardAssignment(EXPIRED_CARD, "E1", date(2025, 1, 1), date(2025, 12, 31)),
        CardAssignment(LEAVER_CARD, "E2", date(2024, 1, 1)),
    ),
)


def seconds(n: float) -> timedelta:
    """``n`` seconds."""
    return timedelta(seconds=n)


def settings(rules: dict[str, Any] | None = None, **sections: Any) -> AlertSettings:  # noqa: ANN401
    """The test site's settings: its door guard and critical port, ``rules`` and ``sections``."""
    values: dict[str, Any] = {
        "doors": [{"door": f"{GATEWAY}/{DOOR}", "readers": [f"{GATEWAY}/{READER}"]}],
        "switches": [{"switch": f"{GATEWAY}/{SWITCH}", "critical_ports": ["uplink"]}],
        "rules": rules or {},
    }
    return AlertSettings.model_validate(values | sections)


def source(
    device: str, at: datetime, *, gateway: str = GATEWAY, historical: bool = False
) -> Source:
    """Where an observation comes from."""
    return Source(SITE, gateway, device, at, historical)


def door(
    state: str, at: datetime, *, change: bool = True, historical: bool = False, device: str = DOOR
) -> DoorSeen:
    """A door reading."""
    return DoorSeen(source(device, at, historical=historical), state, change)


def card(uid: str, at: datetime, *, historical: bool = False, device: str = READER) -> CardSeen:
    """A card read."""
    return CardSeen(source(device, at, historical=historical), uid, 32)


def port(  # noqa: PLR0913 - the fields a test may set
    name: str,
    at: datetime,
    *,
    oper: PortStatus = "up",
    admin: PortStatus = "up",
    errors_ps: float | None = 0.0,
    in_bps: float | None = 0.0,
    speed_mbps: int = 1000,
    historical: bool = False,
    gateway: str = GATEWAY,
) -> PortSeen:
    """One port of ``sw-core`` after a poll."""
    return PortSeen(
        source(SWITCH, at, historical=historical, gateway=gateway),
        name,
        admin=admin,
        oper=oper,
        speed_mbps=speed_mbps,
        in_bps=in_bps,
        out_bps=0.0,
        errors_ps=errors_ps,
        discards_ps=0.0,
    )


def port_change(name: str, at: datetime, current: PortStatus) -> PortChanged:
    """A port-change event of ``sw-core``."""
    return PortChanged(source(SWITCH, at), name, "up" if current != "up" else "down", current)


def reach(reachable: bool, at: datetime) -> ReachabilitySeen:  # noqa: FBT001 - as the reading
    """``sw-core`` stopped answering, or answers again."""
    return ReachabilitySeen(source(SWITCH, at), reachable, None if reachable else "timeout")


def health(
    at: datetime,
    *,
    problems: tuple[str, ...] = (),
    lost: int = 0,
    oldest_age_s: float | None = 0.0,
    historical: bool = False,
) -> HealthSeen:
    """The agent's health report."""
    return HealthSeen(source("agent", at, historical=historical), problems, lost, oldest_age_s)


def birth(at: datetime, bdseq: int = 1, heartbeat_s: float | None = 60) -> GatewaySeen:
    """The gateway's birth or heartbeat."""
    return GatewaySeen(source("", at), True, bdseq, heartbeat_s)  # noqa: FBT003


def death(at: datetime, bdseq: int = 1) -> GatewaySeen:
    """The gateway's death certificate."""
    return GatewaySeen(source("", at), False, bdseq)  # noqa: FBT003


def engine(alert_settings: AlertSettings | None = None) -> Engine:
    """An engine on the test site's settings, the 2026 calendar and :data:`REGISTRY`."""
    return Engine(alert_settings or settings(), office_calendar(), REGISTRY)


@dataclass
class Run:
    """An engine and every transition it gave, fed at engine times."""

    engine: Engine
    moved: list[Transition] = field(default_factory=list)

    def feed(self, obs: Observation, at: datetime | None = None) -> list[Transition]:
        """Observe ``obs`` at ``at`` (default: its reading time)."""
        step = self.engine.observe(obs, at or obs.source.at)
        self.moved += step
        return step

    def tick(self, at: datetime) -> list[Transition]:
        """Let time pass to ``at``."""
        step = self.engine.tick(at)
        self.moved += step
        return step

    def phases(self, rule: str | None = None) -> list[tuple[str, str | None, str]]:
        """(rule, previous phase, phase) of each transition (of ``rule`` only, if given)."""
        return [
            (t.alert.key.rule, t.previous and t.previous.value, t.alert.phase.value)
            for t in self.moved
            if rule is None or t.alert.key.rule == rule
        ]

    def notified(self) -> list[Transition]:
        """The transitions people hear of."""
        return [t for t in self.moved if t.notifies]

    def active(self, rule: str) -> list[Alert]:
        """The active alerts of ``rule``."""
        return [a for a in self.engine.alerts() if a.key.rule == rule]


def run(rules: dict[str, Any] | None = None, **sections: Any) -> Run:  # noqa: ANN401
    """A recording engine on :func:`settings` (``rules``, ``sections``)."""
    return Run(engine(settings(rules, **sections)))
