"""Whether the devices, ports and gateways the alert rules name exist. Pure.

The settings (:mod:`collector.alerts.settings`) name devices as ``gateway/device`` in
``doors`` and ``switches``, ports in ``switches[].critical_ports`` and gateways in
``buildings``. Loading cannot tell whether they exist: only the gateways know their
devices. So they are checked while the engine runs, against an :class:`Inventory` that
:class:`ReferenceWatch` folds from what the engine is fed anyway:

- a gateway's birth (and heartbeat: the same certificate, fresh) lists its devices;
- a switch's interface readings name its ports: one envelope per switch and poll
  carries every port the poll saw (:mod:`edge_agent.snmp.service`);
- any message from a gateway (a reading, a birth, its Will) says the gateway exists.

:func:`check_references` reports only what those facts prove, because a false "unknown
device" teaches people to ignore the line:

- a device is unknown only when a birth of its gateway lists devices and lacks it. A
  gateway not heard from yet, offline (its Will lists nothing), or whose birth lists no
  devices at all (an older agent) says nothing about its devices; a birth listing the
  contract's maximum may have been cut short, so it proves no absence either. The
  newest birth counts (a later configuration may add the device); a Will leaves the
  last birth's list standing.
- a port is unknown only when the switch's interface readings were seen and none named
  it. The ports seen are kept together (a port missing from one poll is not gone).
- a gateway is unknown only when it was never heard from while the engine listened
  long enough: births are retained, so an engine usually hears every live gateway at
  once, but a standby taking over gets no retained births its predecessor already took
  and waits for heartbeats, and a gateway that is off has left only its retained Will,
  or nothing if its broker lost it. :data:`GRACE` covers several heartbeats (1 min by
  default); until then, buildings are not checked.

:class:`ReferenceWatch` answers each change of the inventory with the problems that are
new, each once: a problem that goes away (the gateway's new birth lists the device) and
comes back is said again. The engine logs them (:func:`log_problems`); they are not
stored, so a restarted engine says the current ones again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Final

from collector.alerts.observations import GatewaySeen, PortChanged, PortSeen
from pelangi.liveness import GatewayStatus

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from datetime import datetime

    from collector.alerts.observations import Observation
    from collector.alerts.settings import AlertSettings

log = logging.getLogger(__name__)

GRACE: Final = timedelta(minutes=10)
"""How long the engine listens before a gateway never heard from is unknown."""
SHOWN: Final = 12
"""Names listed as evidence at most (a birth may list 1024 devices)."""
_BIRTH_LIMIT: Final[int] = next(
    limit
    for rule in GatewayStatus.model_fields["devices"].metadata
    if (limit := getattr(rule, "max_length", None)) is not None
)
"""The contract's most devices a birth lists (an agent with more lists that many)."""

Gateway = tuple[str, str]
"""(site, gateway)."""
Switch = tuple[str, str, str]
"""(site, gateway, switch)."""


@dataclass(frozen=True, slots=True)
class Inventory:
    """What is known to exist (module docstring: what each part proves).

    Attributes:
        devices: per (site, gateway), the devices its newest birth lists (a gateway whose
            birth listed none is left out).
        ports: per (site, gateway, switch), the ports its interface readings named; a
            switch left out is not checked.
        heard: the (site, gateway) heard from at all; None: not listened long enough to
            say a gateway is missing, so buildings are not checked.
    """

    devices: Mapping[Gateway, frozenset[str]] = field(default_factory=dict)
    ports: Mapping[Switch, frozenset[str]] = field(default_factory=dict)
    heard: frozenset[Gateway] | None = None


@dataclass(frozen=True, slots=True)
class ReferenceProblem:
    """A setting naming what does not exist.

    Attributes:
        line: the key and what it names (``doors[0].door: unknown device 'gw-1/pintu-x'
            on site bukit-pelangi``): the same while the problem lasts.
        evidence: what the inventory holds instead, in words (it may change meanwhile).
    """

    line: str
    evidence: str

    def __str__(self) -> str:
        """The line with its evidence in brackets."""
        return f"{self.line} ({self.evidence})"


def reference_problems(settings: AlertSettings, inventory: Inventory) -> list[ReferenceProblem]:
    """The devices, ports and gateways ``settings`` name that ``inventory`` proves missing."""
    problems = []
    for index, guard in enumerate(settings.doors):
        problems += _device(inventory, f"doors[{index}].door", guard.site, guard.door)
        for number, reader in enumerate(guard.readers):
            key = f"doors[{index}].readers[{number}]"
            problems += _device(inventory, key, guard.site, reader)
    for index, entry in enumerate(settings.switches):
        problems += _device(inventory, f"switches[{index}].switch", entry.site, entry.switch)
        problems += _ports(inventory, index, entry.site, entry.switch, entry.critical_ports)
    if inventory.heard is not None:
        problems += _gateways(settings, inventory.heard)
    return problems


def check_references(settings: AlertSettings, inventory: Inventory) -> list[str]:
    """:func:`reference_problems` as lines, each starting with the key it is about."""
    return [str(problem) for problem in reference_problems(settings, inventory)]


def _listed(names: Iterable[str]) -> str:
    ordered = sorted(names)
    shown = ", ".join(ordered[:SHOWN])
    return shown if len(ordered) <= SHOWN else f"{shown} and {len(ordered) - SHOWN} more"


def _on(sites: Iterable[str]) -> str:
    ordered = sorted(sites)
    return f"site{'s' if len(ordered) > 1 else ''} {', '.join(ordered)}"


def _device(inventory: Inventory, key: str, site: str | None, ref: str) -> list[ReferenceProblem]:
    gateway, _, device = ref.partition("/")
    births = {
        on_site: devices
        for (on_site, on_gateway), devices in inventory.devices.items()
        if on_gateway == gateway and site in {None, on_site}
    }
    if not births or any(
        device in devices or len(devices) >= _BIRTH_LIMIT for devices in births.values()
    ):
        return []
    if len(births) == 1:
        (devices,) = births.values()
        evidence = f"gateway {gateway}'s birth lists: {_listed(devices)}"
    else:
        each = "; ".join(f"on {s}: {_listed(births[s])}" for s in sorted(births))
        evidence = f"gateway {gateway}'s births list {each}"
    return [ReferenceProblem(f"{key}: unknown device {ref!r} on {_on(births)}", evidence)]


def _ports(
    inventory: Inventory, index: int, site: str | None, ref: str, ports: Iterable[str]
) -> list[ReferenceProblem]:
    gateway, _, switch = ref.partition("/")
    seen = frozenset().union(
        *(
            names
            for (on_site, on_gateway, on_switch), names in inventory.ports.items()
            if (on_gateway, on_switch) == (gateway, switch) and site in {None, on_site}
        )
    )
    if not seen:
        return []
    evidence = f"its interface readings name: {_listed(seen)}"
    return [
        ReferenceProblem(
            f"switches[{index}].critical_ports[{number}]: switch {ref!r} has no port {port!r}",
            evidence,
        )
        for number, port in enumerate(ports)
        if port not in seen
    ]


def _gateways(settings: AlertSettings, heard: frozenset[Gateway]) -> list[ReferenceProblem]:
    problems = []
    for name, building in settings.buildings.items():
        here = {g for s, g in heard if building.site in {None, s}}
        where = f" on site {building.site}" if building.site else ""
        evidence = f"never heard from; heard from: {_listed(here) or 'no gateway'}"
        problems += [
            ReferenceProblem(
                f"buildings.{name}.gateways[{index}]: unknown gateway {gateway!r}{where}",
                evidence,
            )
            for index, gateway in enumerate(building.gateways)
            if gateway not in here
        ]
    return problems


@dataclass(slots=True)
class _Birth:
    bdseq: int
    at: datetime
    devices: frozenset[str]


class ReferenceWatch:
    """Folds observations into an :class:`Inventory`; says each new problem once."""

    def __init__(
        self, settings: AlertSettings, started: datetime, grace: timedelta = GRACE
    ) -> None:
        """Check ``settings``; the engine started listening at ``started``."""
        self._settings = settings
        self._grace_ends = started + grace
        self._births: dict[Gateway, _Birth] = {}
        self._ports: dict[Switch, set[str]] = {}
        self._heard: set[Gateway] = set()
        self._graced = False
        self._said: frozenset[str] = frozenset()

    def observe(self, observations: Iterable[Observation], now: datetime) -> list[ReferenceProblem]:
        """Take what one message said; the problems that are new since the last change."""
        changed = False
        for observation in observations:
            changed |= self._fold(observation)
        return self._check(now) if changed else self.tick(now)

    def tick(self, now: datetime) -> list[ReferenceProblem]:
        """The gateways never heard from once the grace has passed (else nothing)."""
        if self._graced or now < self._grace_ends:
            return []
        self._graced = True
        return self._check(now)

    def inventory(self) -> Inventory:
        """What is known so far (``heard`` None until the grace has passed)."""
        return Inventory(
            devices={key: birth.devices for key, birth in self._births.items()},
            ports={key: frozenset(ports) for key, ports in self._ports.items()},
            heard=frozenset(self._heard) if self._graced else None,
        )

    def _fold(self, observation: Observation) -> bool:
        source = observation.source
        gateway = (source.site, source.gateway)
        changed = gateway not in self._heard
        self._heard.add(gateway)
        if isinstance(observation, GatewaySeen):
            changed |= self._birth(gateway, observation)
        elif isinstance(observation, PortSeen | PortChanged):
            ports = self._ports.setdefault((*gateway, source.device), set())
            changed |= observation.port not in ports
            ports.add(observation.port)
        return changed

    def _birth(self, gateway: Gateway, seen: GatewaySeen) -> bool:
        # A Will lists nothing, and neither does an agent from before `devices`.
        if not seen.online or not seen.devices:
            return False
        known = self._births.get(gateway)
        # A message delivered again after a newer birth must not bring the old list back.
        if known is not None and (seen.bdseq, seen.source.at) < (known.bdseq, known.at):
            return False
        devices = frozenset(seen.devices)
        self._births[gateway] = _Birth(seen.bdseq, seen.source.at, devices)
        return known is None or known.devices != devices

    def _check(self, now: datetime) -> list[ReferenceProblem]:
        if not self._graced and now >= self._grace_ends:
            self._graced = True
        problems = reference_problems(self._settings, self.inventory())
        new = [problem for problem in problems if problem.line not in self._said]
        self._said = frozenset(problem.line for problem in problems)
        return new


def log_problems(problems: Iterable[ReferenceProblem]) -> None:
    """Log each problem as an error of the alert configuration."""
    for problem in problems:
        log.error("alerts config: %s", problem)


__all__ = [
    "GRACE",
    "Inventory",
    "ReferenceProblem",
    "ReferenceWatch",
    "check_references",
    "log_problems",
    "reference_problems",
]
