"""Configuration of door sensors (part of the agent's YAML file)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from edge_agent.doors.state import ClosedWhen
from edge_agent.serial.port import BaudRate
from pelangi.configfile import StrictModel
from pelangi.mqtt import MqttSettings
from pelangi.payloads import Ident


class GpioDoor(StrictModel):
    """A reed contact on a GPIO line of the gateway (libgpiod v2)."""

    id: Ident = Field(description="device id, unique on this gateway (topics and tags)")
    source: Literal["gpio"]
    chip: str = Field(default="/dev/gpiochip0", min_length=1)
    line: Annotated[int, Field(ge=0, le=1023)] = Field(description="line offset on the chip")
    closed_when: ClosedWhen = Field(
        default="low",
        description="level that means closed: low for a contact to GND with the pull-up on",
    )
    pull_up: bool = True
    debounce_ms: Annotated[int, Field(ge=0, le=1000)] = Field(
        default=20, description="kernel debounce; every edge is delayed by this much"
    )


class SerialDoor(StrictModel):
    """A contact reported by a microcontroller over serial (``DOOR <id> OPEN|CLOSED`` lines)."""

    id: Ident = Field(description="device id, unique on this gateway (topics and tags)")
    source: Literal["serial"]
    port: str = Field(min_length=1, description="the microcontroller's serial device")
    baudrate: BaudRate = 9600
    remote_id: Ident | None = Field(
        default=None, description="the door's name in the firmware's lines (default: id)"
    )

    @property
    def name_on_wire(self) -> str:
        """The id the firmware uses for this door."""
        return self.remote_id or self.id


class ZigbeeDoor(StrictModel):
    """A Zigbee contact sensor published by Zigbee2MQTT (``contact: true`` = closed)."""

    id: Ident = Field(description="device id, unique on this gateway (topics and tags)")
    source: Literal["zigbee2mqtt"]
    topic: str = Field(
        min_length=1, pattern=r"^[^#+]+$", description="e.g. zigbee2mqtt/pintu-rapat"
    )


DoorSettings = Annotated[GpioDoor | SerialDoor | ZigbeeDoor, Field(discriminator="source")]


class DoorOptions(StrictModel):
    """Behaviour shared by all doors."""

    restate_s: Annotated[float, Field(ge=1, le=3600)] = Field(
        default=60.0, description="re-publish every door's state this often, changed or not"
    )
    silence_s: Annotated[float, Field(ge=1, le=86_400)] = Field(
        default=180.0,
        description="a serial or Zigbee door not heard from for this long becomes unknown",
    )
    zigbee2mqtt: MqttSettings | None = Field(
        default=None, description="the local broker Zigbee2MQTT publishes to"
    )
