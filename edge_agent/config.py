"""The agent's configuration file (YAML), validated by pydantic.

See ``config/agent.example.yaml`` for a commented example and the README for the full
reference.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, model_validator

from edge_agent.doors.settings import DoorOptions, DoorSettings, SerialDoor
from edge_agent.outbox import OutboxSettings
from edge_agent.readers.settings import ReaderSettings
from edge_agent.snmp.settings import SwitchSettings
from pelangi.configfile import StrictModel
from pelangi.logs import LogLevel
from pelangi.mqtt import MqttSettings
from pelangi.payloads import Ident

HEALTH_DEVICE = "agent"
"""The device id under which the agent publishes its own health."""

if TYPE_CHECKING:
    from edge_agent.uplink.presence import PrimaryCollectors


class AgentSettings(StrictModel):
    """The whole agent configuration file."""

    site: Ident = Field(description="site id, e.g. bukit-pelangi")
    gateway: Ident = Field(description="this gateway's id, unique within the site")
    mqtt: MqttSettings = Field(default_factory=MqttSettings)
    readers: list[ReaderSettings] = Field(default_factory=list)
    doors: list[DoorSettings] = Field(default_factory=list)
    door_options: DoorOptions = Field(default_factory=DoorOptions)
    switches: list[SwitchSettings] = Field(default_factory=list)
    health_interval_s: Annotated[float, Field(ge=5, le=3600)] = Field(
        default=60.0, description="how often the agent publishes its own health"
    )
    state_dir: Path = Field(
        default=Path("/var/lib/pelangi-agent"),
        description="where the agent keeps its state (sequence numbers, bdseq, the outbox)",
    )
    outbox: OutboxSettings = Field(default_factory=OutboxSettings)
    primary_collectors: Literal["any", "none"] | list[Ident] = Field(
        default="any",
        description=(
            "which collectors must be online before readings leave the outbox: any (at "
            "least one; sends anyway if no collector ever announced itself on this broker), "
            "none (never wait), or a list of collector ids (every one of them)"
        ),
    )
    heartbeat_s: Annotated[float, Field(ge=1, le=3600)] = Field(
        default=60.0, description="how often the birth certificate is repeated with a fresh ts"
    )
    fallback_max_readings: Annotated[int, Field(ge=100, le=1_000_000)] = Field(
        default=10_000,
        description="readings held in memory while the outbox cannot store (disk full); "
        "beyond this the oldest are dropped, telemetry first",
    )
    clock_tolerance_s: Annotated[float, Field(gt=0, le=3600)] = Field(
        default=2.0,
        description="beyond this offset from the collectors' time (seconds), readings are "
        "stamped with the collectors' time and marked clock_corrected; back below half of "
        "it, with the gateway's own clock again",
    )
    log_level: LogLevel = "info"

    @property
    def client_id(self) -> str:
        """The MQTT client id: fixed per gateway, so the broker recognises it on return."""
        return f"pelangi-agent-{self.site}-{self.gateway}"

    @property
    def primary(self) -> PrimaryCollectors:
        """``primary_collectors`` as :class:`edge_agent.uplink.presence.Presence` takes it."""
        if isinstance(self.primary_collectors, str):
            return self.primary_collectors
        return tuple(self.primary_collectors)

    @property
    def outbox_path(self) -> Path:
        """The outbox's database file (``outbox.path``, or ``outbox.db`` in ``state_dir``)."""
        return self.outbox.resolve_path(self.state_dir)

    def inventory(self) -> str:
        """Every configured device in one phrase, for log lines and ``validate``."""
        parts = []
        for noun, items in (
            ("reader", [f"{r.id} on {r.port}" for r in self.readers]),
            ("door", [f"{d.id} via {d.source}" for d in self.doors]),
            ("switch", [f"{s.id} at {s.address}" for s in self.switches]),
        ):
            if items:
                plural = "es" if noun == "switch" else "s"
                count = f"{len(items)} {noun}{plural if len(items) != 1 else ''}"
                parts.append(f"{count} ({', '.join(items)})")
        return "; ".join(parts) or "no devices"

    @property
    def device_ids(self) -> list[str]:
        """Every configured device, in configuration order."""
        return [d.id for d in (*self.readers, *self.doors, *self.switches)]

    @model_validator(mode="after")
    def _unique_devices(self) -> AgentSettings:
        seen: set[str] = {HEALTH_DEVICE}
        for device in self.device_ids:
            if device in seen:
                reserved = " ('agent' is reserved for the agent's own health)"
                msg = (
                    f"device id {device!r} is used twice; every device needs its own id"
                    f"{reserved if device == HEALTH_DEVICE else ''}"
                )
                raise ValueError(msg)
            seen.add(device)
        if isinstance(self.primary_collectors, list):
            if not self.primary_collectors:
                msg = "primary_collectors: name at least one collector, or use any or none"
                raise ValueError(msg)
            if len(set(self.primary_collectors)) != len(self.primary_collectors):
                msg = "primary_collectors: a collector is listed twice"
                raise ValueError(msg)
        ports = [r.port for r in self.readers]
        ports += sorted({d.port for d in self.doors if isinstance(d, SerialDoor)})
        for port in ports:
            if ports.count(port) > 1:
                msg = f"serial port {port!r} is used by more than one reader or door controller"
                raise ValueError(msg)
        return self
