"""What the alert rules look at: typed observations made from decoded messages. Pure.

The rules never see the wire format. :func:`from_envelope` turns one reading message into
one observation per reading, :func:`from_status` a gateway's birth or death certificate
into a :class:`GatewaySeen`. Each observation carries its :class:`Source`: where it comes
from, the reading's own time (the gateway's clock, UTC) and whether it was replayed from
the agent's outbox (``historical``: it may clear an alert, never raise one).

Reading time is for messages and for comparing readings of one gateway with each other
(a badge shortly before a door opened); the engine's timers run on the ``now`` it is given.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final, TypeAlias

from pelangi.payloads import (
    AgentHealth,
    CardRead,
    DoorReading,
    InterfaceReading,
    PortChange,
    Reachability,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from pelangi.liveness import GatewayStatus
    from pelangi.payloads import Envelope, PortStatus

LOSS_COUNTERS: Final = ("outbox.evicted.", "fallback.dropped.")
"""Health counters that count readings the agent threw away (evicted, or dropped from memory)."""
OLDEST_AGE_COUNTER: Final = "outbox.oldest_age_s"


def time_of(ns: int) -> datetime:
    """A reading's ``ts`` (ns since the epoch, UTC) as an aware datetime (microseconds)."""
    seconds, rest = divmod(ns, 1_000_000_000)
    return datetime.fromtimestamp(seconds, UTC).replace(microsecond=rest // 1000)


@dataclass(frozen=True, slots=True)
class Source:
    """Where and when an observation was made.

    Attributes:
        site: the site id.
        gateway: the gateway id.
        device: the device id ("" for the gateway itself).
        at: the reading's time (UTC, the gateway's clock).
        historical: replayed from the agent's outbox: clears, never raises.
    """

    site: str
    gateway: str
    device: str
    at: datetime
    historical: bool = False


@dataclass(frozen=True, slots=True)
class DoorSeen:
    """A door's state: a change (``change``) or a periodic re-statement."""

    source: Source
    state: str
    """``open``, ``closed`` or ``unknown``."""
    change: bool


@dataclass(frozen=True, slots=True)
class CardSeen:
    """A card presented to a reader (``source.device``)."""

    source: Source
    uid: str
    bits: int
    printed: str | None = None


@dataclass(frozen=True, slots=True)
class PortSeen:
    """One switch port after one poll (``source.device`` is the switch).

    Rates are None when the agent had no honest value (first poll, counter reset...).
    """

    source: Source
    port: str
    alias: str | None = None
    admin: PortStatus | None = None
    oper: PortStatus | None = None
    speed_mbps: int | None = None
    in_bps: float | None = None
    out_bps: float | None = None
    errors_ps: float | None = None
    """In and out errors per second together (None: neither known)."""
    discards_ps: float | None = None


@dataclass(frozen=True, slots=True)
class PortChanged:
    """A port's operational status changed between two polls."""

    source: Source
    port: str
    previous: PortStatus | None
    current: PortStatus | None


@dataclass(frozen=True, slots=True)
class ReachabilitySeen:
    """A polled device (a switch) stopped answering, or answers again."""

    source: Source
    reachable: bool
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class HealthSeen:
    """The agent's own health report (``source.device`` is ``agent``).

    Attributes:
        problems: what is wrong right now, in words (empty: nothing).
        lost: readings thrown away so far (evicted from the outbox, dropped from memory);
            a counter: it grows while data is being lost, and may restart at an agent restart.
        oldest_age_s: age of the oldest reading waiting in the outbox (None: not reported).
    """

    source: Source
    problems: tuple[str, ...] = ()
    lost: int = 0
    oldest_age_s: float | None = None


@dataclass(frozen=True, slots=True)
class GatewaySeen:
    """A gateway's birth or heartbeat (``online``), or its death (its Will, or a clean stop)."""

    source: Source
    online: bool
    bdseq: int
    heartbeat_s: float | None = None
    devices: tuple[str, ...] = ()


Observation: TypeAlias = (
    DoorSeen | CardSeen | PortSeen | PortChanged | ReachabilitySeen | HealthSeen | GatewaySeen
)
"""Everything the engine is fed."""


def from_envelope(envelope: Envelope) -> list[Observation]:
    """One observation per reading of ``envelope``, in order."""
    found: list[Observation] = []
    for reading in envelope.readings:
        source = Source(
            envelope.site,
            envelope.gateway,
            envelope.device,
            time_of(reading.ts),
            envelope.historical,
        )
        if isinstance(reading, DoorReading):
            found.append(DoorSeen(source, reading.state, reading.change))
        elif isinstance(reading, CardRead):
            found.append(
                CardSeen(source, reading.card.uid, reading.card.bits, reading.card.printed)
            )
        elif isinstance(reading, InterfaceReading):
            found.append(_port(source, reading))
        elif isinstance(reading, PortChange):
            found.append(PortChanged(source, reading.port, reading.previous, reading.current))
        elif isinstance(reading, Reachability):
            found.append(ReachabilitySeen(source, reading.reachable, reading.detail))
        elif isinstance(reading, AgentHealth):
            found.append(_health(source, reading))
    return found


def from_status(status: GatewayStatus) -> GatewaySeen:
    """The observation of a gateway's birth, heartbeat or death certificate."""
    source = Source(status.site, status.gateway, "", time_of(status.ts))
    return GatewaySeen(source, status.online, status.bdseq, status.heartbeat_s, status.devices)


def _sum(*values: float | None) -> float | None:
    known = [value for value in values if value is not None]
    return sum(known) if known else None


def _port(source: Source, reading: InterfaceReading) -> PortSeen:
    return PortSeen(
        source,
        reading.port,
        alias=reading.alias,
        admin=reading.admin,
        oper=reading.oper,
        speed_mbps=reading.speed_mbps,
        in_bps=reading.in_bps,
        out_bps=reading.out_bps,
        errors_ps=_sum(reading.in_errors_ps, reading.out_errors_ps),
        discards_ps=_sum(reading.in_discards_ps, reading.out_discards_ps),
    )


def _health(source: Source, reading: AgentHealth) -> HealthSeen:
    counters: Mapping[str, int] = reading.counters
    lost = sum(value for name, value in counters.items() if name.startswith(LOSS_COUNTERS))
    oldest = counters.get(OLDEST_AGE_COUNTER)
    return HealthSeen(
        source,
        problems=reading.problems,
        lost=lost,
        oldest_age_s=None if oldest is None else float(oldest),
    )
