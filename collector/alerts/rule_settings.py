"""The settings of each alert rule: severity, audience, timing, no-data, thresholds.

Every rule has the common :class:`RuleSettings` keys; some add their own (thresholds, a
schedule, a window). :data:`DEFAULTS` holds each rule's defaults; a rule written in the
configuration changes only the keys it names (the others keep their defaults, a nested
``schedule`` is replaced whole).

Timing, as the engine applies it (:mod:`collector.alerts.lifecycle`):

- ``for_s``: how long the condition must hold before the alert fires (pending until then).
  For ``door_held_open`` it is the hold time itself.
- the *clear condition* is separate from the raise condition (hysteresis): a threshold
  rule raises above ``raise_above`` and clears at or below ``clear_below``; between the two
  nothing changes.
- ``keep_firing_s``: a firing alert resolves only once its clear condition has held this
  long (flapping is damped).
- ``no_data`` after ``no_data_s`` without any observation for the alert: ``keep`` the
  state (the default), ``resolve`` it, or ``fire`` (treat silence as the condition).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Final, Literal

from pydantic import Field, model_validator

from collector.alerts.model import Audience, Severity
from collector.attendance.schedules import OfficeSchedule
from pelangi.configfile import StrictModel

Seconds = Annotated[float, Field(ge=0, le=7 * 86400)]
"""A duration in seconds, at most a week."""


class RuleName(StrEnum):
    """Every rule the engine knows; an :class:`~collector.alerts.model.AlertKey`'s ``rule``."""

    DOOR_HELD_OPEN = "door_held_open"
    DOOR_HELD_OPEN_PREALARM = "door_held_open_prealarm"
    DOOR_AFTER_HOURS = "door_after_hours"
    DOOR_FORCED_OPEN = "door_forced_open"
    DOOR_SENSOR_UNKNOWN = "door_sensor_unknown"
    CARD_UNKNOWN = "card_unknown"
    CARD_INACTIVE = "card_inactive"
    PORT_DOWN = "port_down"
    PORT_ERRORS = "port_errors"
    PORT_DISCARDS = "port_discards"
    PORT_UTILISATION = "port_utilisation"
    SWITCH_UNREACHABLE = "switch_unreachable"
    GATEWAY_OFFLINE = "gateway_offline"
    OUTBOX_EVICTING = "outbox_evicting"
    OUTBOX_BACKLOG = "outbox_backlog"
    AGENT_PROBLEMS = "agent_problems"


PORT_RULES: Final = frozenset(
    {RuleName.PORT_DOWN, RuleName.PORT_ERRORS, RuleName.PORT_DISCARDS, RuleName.PORT_UTILISATION}
)
"""The rules about one switch port: a switch unreachable suppresses them."""


class NoData(StrEnum):
    """What an alert does when no observation about it arrives for ``no_data_s``."""

    KEEP = "keep"
    RESOLVE = "resolve"
    FIRE = "fire"


class RuleSettings(StrictModel):
    """The keys every rule has."""

    enabled: bool = True
    severity: Severity = Severity.WARNING
    audience: Audience = Audience.IT
    for_s: Seconds = Field(default=0, description="pending this long before firing")
    keep_firing_s: Seconds = Field(default=0, description="the clear condition must hold this long")
    no_data: NoData = NoData.KEEP
    no_data_s: Annotated[float, Field(gt=0, le=7 * 86400)] | None = Field(
        default=None, description="silence this long applies `no_data`"
    )

    @model_validator(mode="after")
    def _no_data_needs_a_time(self) -> RuleSettings:
        if self.no_data is not NoData.KEEP and self.no_data_s is None:
            raise ValueError(f"no_data: {self.no_data.value!r} needs no_data_s (how long)")
        return self


class ThresholdSettings(RuleSettings):
    """A rule on a number: raises above ``raise_above``, clears at or below ``clear_below``."""

    raise_above: Annotated[float, Field(ge=0)]
    clear_below: Annotated[float, Field(ge=0)]

    @model_validator(mode="after")
    def _clear_not_above_raise(self) -> ThresholdSettings:
        if self.clear_below > self.raise_above:
            raise ValueError(
                f"clear_below ({self.clear_below:g}) must not be above raise_above "
                f"({self.raise_above:g}): the clear condition is the lower threshold"
            )
        return self


class CardWindowSettings(RuleSettings):
    """A card rule: raises after ``count`` reads within ``window_s``, clears when none is left."""

    count: Annotated[int, Field(ge=1, le=1000)] = 1
    window_s: Annotated[float, Field(gt=0, le=86400)] = 600


class AfterHoursSettings(RuleSettings):
    """Door opened outside working hours: the schedule, widened by ``early_min``/``late_min``.

    A weekday the schedule leaves out, and a holiday or cuti bersama the schedule observes
    (the attendance calendar), count as outside working hours all day.
    """

    schedule: OfficeSchedule = Field(default_factory=OfficeSchedule)
    early_min: Annotated[int, Field(ge=0, le=240)] = 60
    late_min: Annotated[int, Field(ge=0, le=720)] = 120


class ForcedOpenSettings(RuleSettings):
    """Door opened without a valid card read at a guarding reader within ``window_s`` before.

    ``for_s`` (default 5 s) waits for a badge that travels in another message than the door.
    """

    window_s: Annotated[float, Field(gt=0, le=600)] = 15


class PortDownSettings(RuleSettings):
    """Port down: only the ports marked critical (``switches[].critical_ports``), or all."""

    ports: Literal["critical", "all"] = "critical"


class GatewayOfflineSettings(RuleSettings):
    """Gateway offline: its Will, or ``missed_heartbeats`` missed (``heartbeat_s`` of its birth)."""

    missed_heartbeats: Annotated[int, Field(ge=1, le=100)] = 3


_SECURITY: Final = Audience.SECURITY
DEFAULTS: Final[dict[RuleName, RuleSettings]] = {
    RuleName.DOOR_HELD_OPEN: RuleSettings(audience=_SECURITY, for_s=300),
    RuleName.DOOR_HELD_OPEN_PREALARM: RuleSettings(
        enabled=False, severity=Severity.INFO, audience=_SECURITY, for_s=120
    ),
    RuleName.DOOR_AFTER_HOURS: AfterHoursSettings(audience=_SECURITY),
    RuleName.DOOR_FORCED_OPEN: ForcedOpenSettings(
        severity=Severity.CRITICAL, audience=_SECURITY, for_s=5
    ),
    RuleName.DOOR_SENSOR_UNKNOWN: RuleSettings(audience=_SECURITY, for_s=600),
    RuleName.CARD_UNKNOWN: CardWindowSettings(audience=_SECURITY),
    RuleName.CARD_INACTIVE: CardWindowSettings(audience=_SECURITY),
    RuleName.PORT_DOWN: PortDownSettings(severity=Severity.CRITICAL, for_s=30),
    RuleName.PORT_ERRORS: ThresholdSettings(for_s=300, raise_above=1.0, clear_below=0.1),
    RuleName.PORT_DISCARDS: ThresholdSettings(for_s=300, raise_above=10.0, clear_below=1.0),
    RuleName.PORT_UTILISATION: ThresholdSettings(for_s=600, raise_above=90.0, clear_below=70.0),
    RuleName.SWITCH_UNREACHABLE: RuleSettings(severity=Severity.CRITICAL, for_s=60),
    RuleName.GATEWAY_OFFLINE: GatewayOfflineSettings(severity=Severity.CRITICAL, for_s=60),
    # Evictions come in bursts while the disk is full: resolve after half an hour without.
    RuleName.OUTBOX_EVICTING: RuleSettings(severity=Severity.CRITICAL, keep_firing_s=1800),
    RuleName.OUTBOX_BACKLOG: ThresholdSettings(raise_above=3600.0, clear_below=600.0),
    # "No collector online" shows for a moment at every collector restart.
    RuleName.AGENT_PROBLEMS: RuleSettings(for_s=300),
}
"""Each rule's defaults (doors and cards to security, network and gateways to IT)."""
