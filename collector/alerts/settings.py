"""The alert rules' settings (the rules part of ``config/alerts.example.yaml``).

:class:`AlertSettings` holds:

- ``rules``: one entry per rule (:mod:`collector.alerts.rule_settings`); keys left out keep
  the rule's defaults.
- ``buildings``: which gateways stand in which building (messages name the building, and
  overrides may be per building).
- ``overrides``: per site and/or building, rule keys that differ there. A building's
  override wins over its site's, a later override over an earlier one of the same kind.
- ``doors``: which card readers guard which door (``door_forced_open`` needs it).
- ``switches``: the critical ports of each switch (``port_down`` watches only those by
  default).
- ``dependencies.settle_s``: how long symptoms stay suppressed after their cause cleared.

Devices are written ``gateway/device``; an entry without ``site`` applies on every site.
Whether the devices, ports and gateways named exist cannot be known at load: the alert
engine checks them while it runs, each time a gateway's birth or a switch's interface
readings tell it something new, and logs each one missing as an error
(:mod:`collector.alerts.references`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Final, TypeAlias, TypeVar

from pydantic import BaseModel, Field, ValidationError, create_model, model_validator

from collector.alerts.rule_settings import (
    DEFAULTS,
    AfterHoursSettings,
    CardWindowSettings,
    ForcedOpenSettings,
    GatewayOfflineSettings,
    PortDownSettings,
    RuleName,
    RuleSettings,
    Seconds,
    ThresholdSettings,
)
from pelangi.configfile import StrictModel, describe
from pelangi.payloads import Ident
from pelangi.topics import IDENT_PATTERN

if TYPE_CHECKING:
    from pydantic.fields import FieldInfo

_PART: Final = IDENT_PATTERN.strip("^$")
DeviceRef = Annotated[str, Field(pattern=f"^{_PART}/{_PART}$")]
"""A device as ``gateway/device`` (``gw-kantor-bupati/pintu-utama``)."""
BuildingName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]
R = TypeVar("R", bound=RuleSettings)


def _default(name: RuleName, kind: type[R]) -> R:
    rule = DEFAULTS[name]
    assert isinstance(rule, kind)  # noqa: S101 - DEFAULTS is written beside the classes
    return rule


def _field(name: RuleName, kind: type[R]) -> Any:  # noqa: ANN401 - a pydantic Field
    return Field(default_factory=lambda: _default(name, kind))


class RuleSet(StrictModel):
    """Every rule's settings; a rule given in the file changes only the keys it names."""

    door_held_open: RuleSettings = _field(RuleName.DOOR_HELD_OPEN, RuleSettings)
    door_held_open_prealarm: RuleSettings = _field(RuleName.DOOR_HELD_OPEN_PREALARM, RuleSettings)
    door_after_hours: AfterHoursSettings = _field(RuleName.DOOR_AFTER_HOURS, AfterHoursSettings)
    door_forced_open: ForcedOpenSettings = _field(RuleName.DOOR_FORCED_OPEN, ForcedOpenSettings)
    door_sensor_unknown: RuleSettings = _field(RuleName.DOOR_SENSOR_UNKNOWN, RuleSettings)
    card_unknown: CardWindowSettings = _field(RuleName.CARD_UNKNOWN, CardWindowSettings)
    card_inactive: CardWindowSettings = _field(RuleName.CARD_INACTIVE, CardWindowSettings)
    port_down: PortDownSettings = _field(RuleName.PORT_DOWN, PortDownSettings)
    port_errors: ThresholdSettings = _field(RuleName.PORT_ERRORS, ThresholdSettings)
    port_discards: ThresholdSettings = _field(RuleName.PORT_DISCARDS, ThresholdSettings)
    port_utilisation: ThresholdSettings = _field(RuleName.PORT_UTILISATION, ThresholdSettings)
    switch_unreachable: RuleSettings = _field(RuleName.SWITCH_UNREACHABLE, RuleSettings)
    gateway_offline: GatewayOfflineSettings = _field(
        RuleName.GATEWAY_OFFLINE, GatewayOfflineSettings
    )
    outbox_evicting: RuleSettings = _field(RuleName.OUTBOX_EVICTING, RuleSettings)
    outbox_backlog: ThresholdSettings = _field(RuleName.OUTBOX_BACKLOG, ThresholdSettings)
    agent_problems: RuleSettings = _field(RuleName.AGENT_PROBLEMS, RuleSettings)

    @model_validator(mode="before")
    @classmethod
    def _over_defaults(cls, data: object) -> object:
        # Pydantic would fill a half-written rule with its class's defaults, not the rule's.
        if not isinstance(data, dict):
            return data
        return {
            key: {**DEFAULTS[RuleName(key)].model_dump(), **value}
            if key in RuleName.__members__.values() and isinstance(value, dict)
            else value
            for key, value in data.items()
        }

    def get(self, name: RuleName) -> RuleSettings:
        """The settings of rule ``name``."""
        rule: RuleSettings = getattr(self, name.value)
        return rule


def _optional(info: FieldInfo) -> Any:  # noqa: ANN401 - a type built at run time
    kind: Any = Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
    return kind | None


def _partial(kind: type[RuleSettings]) -> type[BaseModel]:
    """``kind`` with every key optional and no cross-key checks: what an override may name."""
    fields: dict[str, Any] = {
        name: (_optional(info), None) for name, info in kind.model_fields.items()
    }
    return create_model(f"{kind.__name__}Override", __base__=StrictModel, **fields)


_PARTIALS: Final = {name: _partial(type(rule)) for name, rule in DEFAULTS.items()}
if TYPE_CHECKING:
    RuleOverrides: TypeAlias = BaseModel
else:
    RuleOverrides = create_model(
        "RuleOverrides",
        __base__=StrictModel,
        **{name.value: (partial | None, None) for name, partial in _PARTIALS.items()},
    )


class Override(StrictModel):
    """Rule keys that differ on a site, in a building, or in a building of a site."""

    site: Ident | None = None
    building: BuildingName | None = None
    rules: RuleOverrides

    @model_validator(mode="after")
    def _says_where(self) -> Override:
        if self.site is None and self.building is None:
            raise ValueError("an override needs `site`, `building` or both (where it applies)")
        return self

    def changes(self, name: RuleName) -> dict[str, Any]:
        """The keys this override sets for rule ``name`` (empty: none)."""
        partial: BaseModel | None = getattr(self.rules, name.value)
        return {} if partial is None else partial.model_dump(exclude_unset=True)


class Building(StrictModel):
    """A building and the gateways in it."""

    site: Ident | None = Field(default=None, description="None: the gateways on every site")
    gateways: tuple[Ident, ...] = Field(min_length=1)


class DoorGuard(StrictModel):
    """The card readers whose valid badge lets ``door`` open (``door_forced_open``)."""

    site: Ident | None = None
    door: DeviceRef
    readers: tuple[DeviceRef, ...] = Field(min_length=1)


class SwitchPorts(StrictModel):
    """A switch's critical ports (ifName, e.g. uplinks): ``port_down`` watches them."""

    site: Ident | None = None
    switch: DeviceRef
    critical_ports: tuple[Annotated[str, Field(min_length=1, max_length=255)], ...] = ()


class DependencySettings(StrictModel):
    """How alert dependencies (a cause suppressing its symptoms) behave."""

    settle_s: Seconds = Field(
        default=60,
        description="symptoms stay suppressed this long after their cause cleared, so the "
        "gateway's fresh readings can clear them before anyone is told",
    )


class AlertSettings(StrictModel):
    """The rules part of the alert configuration (module docstring)."""

    rules: RuleSet = Field(default_factory=RuleSet)
    buildings: dict[BuildingName, Building] = Field(default_factory=dict)
    overrides: tuple[Override, ...] = ()
    doors: tuple[DoorGuard, ...] = ()
    switches: tuple[SwitchPorts, ...] = ()
    dependencies: DependencySettings = Field(default_factory=DependencySettings)

    @model_validator(mode="after")
    def _consistent(self) -> AlertSettings:
        problems = [*self._building_problems(), *self._override_problems()]
        problems += _duplicates("doors", [(g.site, g.door) for g in self.doors], "door")
        problems += _duplicates("switches", [(s.site, s.switch) for s in self.switches], "switch")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _building_problems(self) -> list[str]:
        seen: dict[tuple[str | None, str], str] = {}
        problems = []
        for name, building in self.buildings.items():
            for index, gateway in enumerate(building.gateways):
                where = (building.site, gateway)
                if where in seen:
                    problems.append(
                        f"buildings.{name}.gateways[{index}]: {gateway!r} is already in "
                        f"building {seen[where]!r}"
                    )
                seen[where] = name
        return problems

    def _override_problems(self) -> list[str]:
        problems = []
        for index, override in enumerate(self.overrides):
            if override.building is not None and override.building not in self.buildings:
                known = ", ".join(sorted(self.buildings)) or "none"
                problems.append(
                    f"overrides[{index}].building: unknown building {override.building!r} "
                    f"(known: {known})"
                )
        if problems:
            return problems
        # Cross-key checks (clear_below <= raise_above...) on each place's merged rules.
        places = {(o.site, o.building) for o in self.overrides}
        for site, building in sorted(places, key=str):
            for name in RuleName:
                try:
                    self.rule(name, site or "", building)
                except ValidationError as exc:
                    where = "/".join(part for part in (site, building) if part)
                    for line in describe(exc):
                        key, _, why = line.partition(": ")
                        key = "" if key == "(top level)" else f".{key}"
                        problems.append(f"overrides ({where}).rules.{name}{key}: {why}")
        return problems

    def building_of(self, site: str, gateway: str) -> str | None:
        """The building ``gateway`` of ``site`` stands in (None: not said)."""
        for name, building in self.buildings.items():
            if building.site in {None, site} and gateway in building.gateways:
                return name
        return None

    def rule(self, name: RuleName, site: str, building: str | None) -> RuleSettings:
        """Rule ``name``'s settings on ``site`` in ``building``: the overrides applied in order.

        Raises:
            ValidationError: the merged keys break a cross-key check (found at load).
        """
        base = self.rules.get(name)
        changes: dict[str, Any] = {}
        for specific in (False, True):
            for override in self.overrides:
                applies = override.site in {None, site} and (
                    override.building == building if specific else override.building is None
                )
                if applies:
                    changes |= override.changes(name)
        return base if not changes else type(base).model_validate(base.model_dump() | changes)

    def guards_of(self, site: str, gateway: str, door: str) -> tuple[tuple[str, str], ...]:
        """The readers (gateway, device) guarding ``door`` (empty: none configured)."""
        ref = f"{gateway}/{door}"
        for guard in self.doors:
            if guard.site in {None, site} and guard.door == ref:
                return tuple(_split(reader) for reader in guard.readers)
        return ()

    def doors_guarded_by(self, site: str, gateway: str, reader: str) -> list[tuple[str, str]]:
        """The doors (gateway, device) that reader ``gateway/reader`` guards."""
        ref = f"{gateway}/{reader}"
        return [
            _split(guard.door)
            for guard in self.doors
            if guard.site in {None, site} and ref in guard.readers
        ]

    def critical_ports(self, site: str, gateway: str, switch: str) -> frozenset[str]:
        """The ports of ``switch`` marked critical."""
        ref = f"{gateway}/{switch}"
        return frozenset(
            port
            for entry in self.switches
            if entry.site in {None, site} and entry.switch == ref
            for port in entry.critical_ports
        )


def _split(ref: str) -> tuple[str, str]:
    gateway, _, device = ref.partition("/")
    return gateway, device


def _duplicates(section: str, entries: list[tuple[str | None, str]], what: str) -> list[str]:
    seen: set[tuple[str | None, str]] = set()
    problems = []
    for index, entry in enumerate(entries):
        if entry in seen:
            problems.append(f"{section}[{index}].{what}: {entry[1]!r} is listed twice")
        seen.add(entry)
    return problems
