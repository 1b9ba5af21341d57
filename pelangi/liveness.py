"""Liveness messages (after Sparkplug B): gateway birth/death and collector presence.

Two retained topics, both JSON, both defined once here:

``pelangi/<site>/<gateway>/status`` (:class:`GatewayStatus`)
    Published by the agent on every connect as a *birth* (``online: true``) and set as its
    MQTT Will as a *death* (``online: false``), both retained, QoS 1. ``bdseq`` (birth/death
    sequence) increases on every connect; a death whose ``bdseq`` is older than the latest
    birth is stale (the broker fired an old Will after the agent had already come back)
    and must be ignored. A periodic heartbeat repeats the birth with a fresh ``ts``.

``pelangi-host/<collector>/state`` (:class:`CollectorState`)
    Published retained by each collector on connect (``online: true``) and set as its Will
    (``online: false``). Agents hold readings in their own outbox while no collector is
    online, rather than trusting the broker's queue.

A collector asks a gateway to publish its birth again on ``pelangi/<site>/<gateway>/cmd/rebirth``
(any payload).
"""

from __future__ import annotations

from typing import Annotated, Final, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pelangi.errors import PayloadError, RejectReason
from pelangi.payloads import ClockOffsetMs, Ident, NtpSynchronized, Text, TimestampNs

REBIRTH: Final = "rebirth"
"""The command name a collector sends to ask for a new birth message."""


class GatewayStatus(BaseModel):
    """A gateway's birth (online) or death (offline) certificate."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    v: Literal[1] = 1
    site: Ident
    gateway: Ident
    online: bool
    bdseq: Annotated[int, Field(ge=0, lt=2**63)]
    ts: TimestampNs
    agent_version: Annotated[Text, Field(max_length=64)] | None = None
    devices: tuple[Ident, ...] = Field(default=(), max_length=1024)
    heartbeat_s: Annotated[float, Field(gt=0)] | None = None
    # Left out when unknown (and in deaths), so collectors from before them accept births.
    clock_offset_ms: ClockOffsetMs = None
    ntp_synchronized: NtpSynchronized = None


class CollectorState(BaseModel):
    """A collector's presence: online on connect, offline through its Will."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    v: Literal[1] = 1
    collector: Ident
    online: bool
    ts: TimestampNs


M = TypeVar("M", GatewayStatus, CollectorState)


def decode_liveness(payload: bytes, model: type[M]) -> M:
    """Parse a status or presence message; raises :class:`PayloadError` and nothing else."""
    try:
        return model.model_validate_json(payload)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "(message)"
        raise PayloadError(RejectReason.INVALID, f"{where}: {first['msg']}") from None


def is_stale_death(death: GatewayStatus, latest_birth: GatewayStatus | None) -> bool:
    """Whether a death certificate belongs to a connection older than the latest birth."""
    return not death.online and latest_birth is not None and death.bdseq < latest_birth.bdseq
