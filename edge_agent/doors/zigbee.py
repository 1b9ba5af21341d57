"""Zigbee door sensors as published by Zigbee2MQTT (``zigbee2mqtt/<friendly name>``).

Zigbee2MQTT publishes the device state as JSON; a door/window sensor carries
``"contact": true`` when the magnet is near, i.e. the door is **closed** (the opposite of
Home Assistant's "door on = open"). Other keys (battery, linkquality...) are ignored.
"""

from __future__ import annotations

import json

from edge_agent.doors.state import DoorState
from edge_agent.errors import FrameError, FrameErrorKind


def state_from_zigbee2mqtt(payload: bytes) -> DoorState | None:
    """The door state in a Zigbee2MQTT message; None if it carries no ``contact``.

    Raises:
        FrameError: the payload is not a JSON object, or ``contact`` is not a boolean.
    """
    try:
        document = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        raise FrameError(
            FrameErrorKind.BAD_FRAMING, payload[:64], f"not JSON: {payload[:64]!r}"
        ) from None
    if not isinstance(document, dict):
        raise FrameError(
            FrameErrorKind.BAD_FRAMING,
            payload[:64],
            f"expected a JSON object, got {type(document).__name__}",
        )
    contact = document.get("contact")
    if contact is None:
        return None
    if not isinstance(contact, bool):
        raise FrameError(
            FrameErrorKind.BAD_FRAMING,
            payload[:64],
            f"'contact' should be true or false, got {contact!r}",
        )
    return DoorState.CLOSED if contact else DoorState.OPEN
