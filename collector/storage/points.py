"""The storage schema: readings to InfluxDB points. Pure.

``card_read`` (one point per card read)

=============  =====  ==========================================================
name           kind   value
=============  =====  ==========================================================
site           tag    site id (from the envelope, which matches the topic)
gateway        tag    gateway id
device         tag    reader id
uid            field  canonical card number, 8 upper-case hex digits
printed        field  10-digit decimal printed on EM4100 cards (32-bit reads only)
raw            field  what the reader sent
bits           field  how many bits of ``uid`` the reader saw (int: 24 or 32)
seq            field  the agent's sequence number (int)
w26_facility   field  Wiegand-26 facility code of the low 24 bits (int)
w26_card       field  Wiegand-26 card number of the low 24 bits (int)
historical     field  ``true`` only when replayed from the agent's outbox
clock_corrected field ``true`` only when the agent took ``ts`` from the collectors' time
time                  the reading's own ``ts`` (ns, UTC)
=============  =====  ==========================================================

Tags hold only the bounded set of places (sites, gateways, devices): card numbers,
sequence numbers and times are fields, so the series count does not grow with use.

Writes are idempotent: a reading delivered twice yields the same measurement, tags and
timestamp, so the second write overwrites the first instead of adding a point.

``historical`` is written only when true, so an absent field means "delivered live".
It describes the delivery, not the card read; keeping it off live points keeps them
small, and ``WHERE historical = true`` still finds every replayed reading. If a reading
arrives live and later again as a replay, InfluxDB merges the fields and the point ends
up marked historical, which is what a technician investigating a replay wants to see.

``clock_corrected`` (every measurement) is written only when true, for the same reasons:
the gateway's own clock was far off, so the agent stamped the reading with the time it
learnt from the collectors' presence messages. It is part of the reading, not the
delivery: a re-send of the same reading carries the same ``ts`` and the same flag.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from collector.storage.lineprotocol import FieldValue, Point
from pelangi.payloads import (
    AgentHealth,
    CardRead,
    DoorReading,
    InterfaceReading,
    PortChange,
    Reachability,
)

if TYPE_CHECKING:
    from pelangi.payloads import Envelope, Reading

CARD_READ: Final = "card_read"
DOOR: Final = "door"
INTERFACE: Final = "interface"
PORT_CHANGE: Final = "port_change"
REACHABILITY: Final = "reachability"
AGENT_HEALTH: Final = "agent_health"
DEAD_LETTER: Final = "dead_letter"
"""Refused messages, readings and points (see :mod:`collector.deadletter`)."""
COLLECTOR_STATS: Final = "collector_stats"
"""The collector's own metrics (see :mod:`collector.selfstats`)."""

_DOOR_CODES: Final = {"open": 1, "closed": 0, "unknown": -1}
_PORT_UP: Final = "up"


def envelope_to_points(envelope: Envelope) -> list[Point]:
    """Return one point per reading in ``envelope``, in the envelope's order.

    Raises:
        InvalidPointError: a reading cannot be stored (e.g. a timestamp beyond InfluxDB's
            range, which the contract's int64 still allows).
    """
    return [reading_to_point(envelope, reading) for reading in envelope.readings]


def reading_to_point(envelope: Envelope, reading: Reading) -> Point:
    """Return the point of one ``reading`` of ``envelope`` (see :func:`envelope_to_points`)."""
    tags = {"site": envelope.site, "gateway": envelope.gateway, "device": envelope.device}
    measurement, extra_tags, fields = _shape(reading)
    fields["seq"] = reading.seq
    if envelope.historical:
        fields["historical"] = True
    if reading.clock_corrected:
        fields["clock_corrected"] = True
    return Point(measurement, tags | extra_tags, fields, reading.ts)


def _shape(reading: Reading) -> tuple[str, dict[str, str], dict[str, FieldValue]]:
    """Measurement, extra tags and fields of one reading kind."""
    match reading:
        case CardRead(card=card):
            facility, number = card.wiegand26
            fields: dict[str, FieldValue] = {"uid": card.uid}
            if card.printed is not None:
                fields["printed"] = card.printed
            fields |= {"raw": card.raw, "bits": card.bits}
            fields |= {"w26_facility": facility, "w26_card": number}
            return CARD_READ, {}, fields
        case DoorReading(state=state, change=change):
            return DOOR, {}, {"state": state, "state_code": _DOOR_CODES[state], "change": change}
        case InterfaceReading():
            return INTERFACE, {"port": reading.port}, _interface_fields(reading)
        case PortChange(port=port, if_index=index, previous=previous, current=current):
            fields = {"if_index": index, "current": current or "unknown"}
            fields["up"] = 1 if current == _PORT_UP else 0
            if previous is not None:
                fields["previous"] = previous
            return PORT_CHANGE, {"port": port}, fields
        case Reachability(reachable=reachable, detail=detail):
            fields = {"reachable": reachable, "up": 1 if reachable else 0}
            if detail:
                fields["detail"] = detail
            return REACHABILITY, {}, fields
        case AgentHealth():
            return AGENT_HEALTH, {}, _health_fields(reading)


def _interface_fields(reading: InterfaceReading) -> dict[str, FieldValue]:
    fields: dict[str, FieldValue] = {"if_index": reading.if_index}
    optional: dict[str, FieldValue | None] = {
        "alias": reading.alias or None,
        "admin": reading.admin,
        "oper": reading.oper,
        "oper_up": None if reading.oper is None else int(reading.oper == _PORT_UP),
        "speed_mbps": reading.speed_mbps,
        "in_bps": reading.in_bps,
        "out_bps": reading.out_bps,
        "in_errors_ps": reading.in_errors_ps,
        "out_errors_ps": reading.out_errors_ps,
        "in_discards_ps": reading.in_discards_ps,
        "out_discards_ps": reading.out_discards_ps,
        "discarded": ",".join(reading.discarded) or None,
    }
    # An unknown value is left out, never written as 0: a gap, not a false reading.
    fields |= {key: value for key, value in optional.items() if value is not None}
    return fields


def _health_fields(reading: AgentHealth) -> dict[str, FieldValue]:
    optional: dict[str, FieldValue | None] = {
        "cpu_percent": reading.cpu_percent,
        "rss_bytes": reading.rss_bytes,
        "disk_free_bytes": reading.disk_free_bytes,
        "problems": "; ".join(reading.problems) or None,
        "clock_offset_ms": reading.clock_offset_ms,
        "ntp_synchronized": reading.ntp_synchronized,
    }
    fields: dict[str, FieldValue] = {"uptime_s": reading.uptime_s}
    fields |= {key: value for key, value in optional.items() if value is not None}
    fields |= {f"c.{name}": value for name, value in reading.counters.items()}
    return fields


__all__ = [
    "AGENT_HEALTH",
    "CARD_READ",
    "COLLECTOR_STATS",
    "DEAD_LETTER",
    "DOOR",
    "INTERFACE",
    "PORT_CHANGE",
    "REACHABILITY",
    "envelope_to_points",
    "reading_to_point",
]
