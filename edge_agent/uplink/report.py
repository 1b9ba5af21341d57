"""What the uplink says about itself: the statistics line and the health reading's part. Pure.

The publisher takes one :class:`UplinkSnapshot` of its parts (outbox, fallback,
connection, refusals) and these functions turn it into words and counters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from edge_agent.sink import DeliveryHealth

if TYPE_CHECKING:
    from edge_agent.outbox import OutboxStats
    from edge_agent.uplink.delivery import ConnectionStats
    from edge_agent.uplink.fallback import FallbackStats

MAX_PROBLEM_CHARS: Final = 255
"""The contract's limit on one problem of a health reading."""
_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class UplinkSnapshot:
    """The uplink's parts at one moment."""

    address: str
    username: str | None
    outbox: OutboxStats
    fallback: FallbackStats
    connection: ConnectionStats
    holding: bool
    """Connected, but readings held back (no collector, or not the right ones)."""
    waiting_for: str
    """Why readings are held back, in words (empty when they are not)."""
    refusals: tuple[tuple[str, str], ...]
    """``(topic, reason)`` of every topic the broker refuses right now."""
    unsendable: int
    bdseq_problem: str | None


def summary_line(s: UplinkSnapshot) -> str:
    """One line for the periodic statistics log."""
    state = "connected" if s.connection.connected else "not connected"
    text = f"mqtt {s.address} {state} (bdseq {s.connection.bdseq})"
    if s.waiting_for and s.connection.connected:
        text += f", holding: {s.waiting_for}"
    if s.connection.receipt_mode:
        text += f", receipt mode ({s.connection.receipts} receipts)"
    text += f"; {s.outbox.summary()}"
    fallback = s.fallback
    if fallback.accepted:
        text += (
            f"; in memory (outbox failed): {fallback.held} held, {fallback.delivered} "
            f"delivered, {fallback.moved} moved to the outbox, {fallback.dropped} dropped"
        )
    return text


def delivery_health(s: UplinkSnapshot) -> DeliveryHealth:
    """Outbox, fallback and connection figures, and what is wrong, for the health reading."""
    fallback, connection = s.fallback, s.connection
    counters = _outbox_counters(s.outbox) | {
        "fallback.held": fallback.held,
        "fallback.accepted": fallback.accepted,
        "fallback.delivered": fallback.delivered,
        "fallback.moved": fallback.moved,
        "fallback.dropped.telemetry": fallback.dropped_telemetry,
        "fallback.dropped.event": fallback.dropped_events,
        "unsendable": s.unsendable,
        "mqtt.connected": int(connection.connected),
        "mqtt.attempts": connection.attempts,
        "mqtt.connections": connection.connections,
        "mqtt.bdseq": connection.bdseq,
        "mqtt.holding": int(s.holding),
        "mqtt.receipt_mode": int(connection.receipt_mode),
        "mqtt.receipts": connection.receipts,
    }
    problems = []
    if s.outbox.error:
        # The cause first: a long path is what the length limit may cut.
        problems.append(f"outbox cannot store readings: {s.outbox.error} ({s.outbox.path})")
    if fallback.held:
        problems.append(
            f"{fallback.held} reading(s) held in memory only: the outbox cannot store them"
        )
    if fallback.dropped:
        problems.append(
            f"{fallback.dropped} reading(s) dropped since start ({fallback.dropped_events} "
            "events): the outbox could not store them and memory was full"
        )
    if s.waiting_for:
        problems.append(f"readings wait in the outbox: {s.waiting_for}")
    for topic, reason in s.refusals:
        problems.append(
            f"broker refuses topic {topic} ({reason}): check the ACL for user "
            f"{s.username or '(anonymous)'}; the readings stay in the outbox"
        )
    if s.bdseq_problem:
        problems.append(s.bdseq_problem)
    return DeliveryHealth(counters=counters, problems=tuple(_problem(p) for p in problems))


def _outbox_counters(stats: OutboxStats) -> dict[str, int]:
    return {
        "outbox.telemetry": stats.telemetry,
        "outbox.events": stats.events,
        "outbox.bytes": stats.used_bytes,
        "outbox.max_bytes": stats.max_bytes,
        "outbox.oldest_age_s": round(max(0.0, stats.oldest_age_s or 0.0)),
        "outbox.in_flight": stats.in_flight_readings,
        "outbox.appended": stats.appended,
        "outbox.refused": stats.refused,
        "outbox.acknowledged": stats.acknowledged,
        "outbox.awaiting": stats.awaiting_readings,
        "outbox.confirmed": stats.confirmed,
        "outbox.resent": stats.resent,
        "outbox.evicted.telemetry.size": stats.evicted_telemetry_size,
        "outbox.evicted.telemetry.age": stats.evicted_telemetry_age,
        "outbox.evicted.event.size": stats.evicted_event_size,
        "outbox.evicted.event.age": stats.evicted_event_age,
        "outbox.rejected": stats.rejected,
        "outbox.refused_by_broker": stats.refused_by_broker,
        "outbox.quarantined": stats.quarantined,
        "outbox.available": int(stats.available),
    }


def _problem(text: str) -> str:
    """A problem as the contract takes it: one line, at most 255 characters."""
    text = _CONTROL.sub(" ", text)
    return text if len(text) <= MAX_PROBLEM_CHARS else text[: MAX_PROBLEM_CHARS - 1] + "…"
