"""What the agent reads from the broker, parsed: collectors' presence and their receipts.

Parsers take the topic, payload and MQTT v5 properties and never touch a socket; each
raises :class:`pelangi.errors.PayloadError` (a message to log and ignore) and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pelangi.liveness import CollectorState, decode_liveness
from pelangi.receipts import CONFIRMS_PROPERTY, decode_receipt

if TYPE_CHECKING:
    from paho.mqtt.properties import Properties

    from pelangi.receipts import StoredReceipt


@dataclass(frozen=True, slots=True)
class PresenceMessage:
    """One message on a collector's presence topic."""

    collector: str
    online: bool | None
    """None: the retained state was cleared (an empty payload)."""
    confirms: bool
    ts: int | None
    """The collector's clock when it published the message (None when cleared)."""
    fresh: bool
    """Published just now to this subscription (not a retained copy from before): its
    ``ts`` tells the collector's clock now, give or take the network's delay."""


def parse_presence(
    collector: str, payload: bytes, properties: Properties | None, *, retained: bool
) -> PresenceMessage:
    """Parse a presence message of ``collector`` (its id comes from the topic)."""
    if not payload:
        return PresenceMessage(collector, None, confirms=False, ts=None, fresh=not retained)
    state = decode_liveness(payload, CollectorState)
    return PresenceMessage(
        collector,
        state.online,
        confirms=state.online and user_property(properties, CONFIRMS_PROPERTY) == "1",
        ts=state.ts,
        fresh=not retained,
    )


def parse_receipt(payload: bytes) -> StoredReceipt:
    """Parse a receipt (see :mod:`pelangi.receipts`)."""
    return decode_receipt(payload)


def user_property(properties: Properties | None, name: str) -> str | None:
    """The value of MQTT v5 user property ``name`` (the last one if repeated), or None."""
    pairs = getattr(properties, "UserProperty", None) or ()
    value = None
    for key, item in pairs:
        if key == name:
            value = item
    return value
