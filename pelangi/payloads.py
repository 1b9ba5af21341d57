"""The versioned payload models both sides import, and their codec.

A message carries one :class:`Envelope`: the device it came from and one or more
readings of that device, in the order they were taken. JSON on the wire, e.g.::

    {"v": 1, "site": "bukit-pelangi", "gateway": "gw-bupati", "device": "rfid-lobby",
     "historical": false,
     "readings": [{"kind": "card_read", "seq": 42, "ts": 1764300000123456789,
                   "card": {"raw": "01001293D8", "uid": "001293D8", "bits": 32}}]}

Rules the contract fixes:

- ``v`` is the schema version. A consumer rejects versions it does not know with
  reason ``unsupported_version`` rather than guessing.
- ``ts`` is nanoseconds since the Unix epoch, UTC, as an integer: no rounding, no
  time zone, and the agent keeps it strictly increasing per device, so two distinct
  readings never share a series and a timestamp (and a redelivered reading overwrites
  itself in InfluxDB).
- ``seq`` is the agent's own counter, increasing across all its devices and restarts.
- ``clock_corrected`` (only present when true) says ``ts`` was taken from the
  collectors' time because the gateway's own clock was found to be far off.
- Site, gateway and device repeat what the topic says; the collector rejects a message
  whose payload disagrees with its topic (``topic_mismatch``).
"""

from __future__ import annotations

import json
from typing import Annotated, Final, Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from pelangi.card import CardId
from pelangi.errors import PayloadError, RejectReason
from pelangi.topics import IDENT_PATTERN, ReadingTopic

SCHEMA_VERSION: Final = 1
MAX_PAYLOAD_BYTES: Final = 256 * 1024
"""Largest payload a consumer accepts; a 48-port switch poll is ~15 KiB."""
MAX_READINGS_PER_MESSAGE: Final = 1000

Ident = Annotated[str, StringConstraints(pattern=IDENT_PATTERN)]
TimestampNs = Annotated[int, Field(gt=0, lt=2**63, description="ns since the Unix epoch, UTC")]
Sequence = Annotated[int, Field(ge=0, lt=2**63)]


Text = Annotated[str, StringConstraints(max_length=255, pattern=r"^[^\x00-\x1f\x7f]*$")]
"""Free text from a device (a port name, an ifAlias): any Unicode, no control characters."""
Rate = Annotated[float, Field(ge=0, allow_inf_nan=False)]
PortStatus = Literal[
    "up", "down", "testing", "unknown", "dormant", "not_present", "lower_layer_down"
]
RateDiscard = Literal[
    "no_time", "agent_restarted", "counter_reset", "discontinuity", "above_line_rate"
]
CounterName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_.]{1,64}$")]


def _is_false(value: object) -> bool:
    return value is False


def _is_none(value: object) -> bool:
    return value is None


ClockOffsetMs = Annotated[
    Annotated[int, Field(gt=-(2**63), lt=2**63)] | None,
    Field(
        exclude_if=_is_none,
        description="collectors' time minus the gateway's clock (ms); None before a signal",
    ),
]
"""The gateway clock's offset (health reading and birth), left out of the JSON when None."""
NtpSynchronized = Annotated[
    bool | None,
    Field(
        exclude_if=_is_none,
        description="whether the kernel says NTP keeps the clock; None if it cannot tell",
    ),
]
"""The kernel's NTP state (health reading and birth), left out of the JSON when None."""


class _ReadingBase(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    seq: Sequence
    ts: TimestampNs
    # Left out of the JSON when false, so a reading with a good clock is byte for byte
    # what it was before this field existed, and collectors from before it accept it.
    clock_corrected: bool = Field(
        default=False,
        exclude_if=_is_false,
        description="ts comes from the collectors' time, not the gateway's own (wrong) clock",
    )


class CardRead(_ReadingBase):
    """A card presented to an RFID reader (one tap; a held card is one read). An event."""

    kind: Literal["card_read"] = "card_read"
    card: CardId


class DoorReading(_ReadingBase):
    """A door's state: on every change (an event) and re-stated periodically (telemetry)."""

    kind: Literal["door"] = "door"
    state: Literal["open", "closed", "unknown"]
    change: bool = Field(description="true: the state changed; false: a periodic re-statement")


class InterfaceReading(_ReadingBase):
    """One switch port after one poll: state and rates computed at the edge. Telemetry.

    A rate is ``None`` when no honest value exists (first poll, counter reset, agent
    reboot...); ``discarded`` says why. Rates are never negative nor above 1.1x line rate.
    """

    kind: Literal["interface"] = "interface"
    if_index: Annotated[int, Field(ge=0, lt=2**31)]
    port: Annotated[Text, StringConstraints(min_length=1)]
    alias: Text | None = None
    admin: PortStatus | None = None
    oper: PortStatus | None = None
    speed_mbps: Annotated[int, Field(ge=0)] | None = None
    in_bps: Rate | None = None
    out_bps: Rate | None = None
    in_errors_ps: Rate | None = None
    out_errors_ps: Rate | None = None
    in_discards_ps: Rate | None = None
    out_discards_ps: Rate | None = None
    discarded: tuple[RateDiscard, ...] = ()


class PortChange(_ReadingBase):
    """A switch port's operational status changed between two polls. An event."""

    kind: Literal["port_change"] = "port_change"
    if_index: Annotated[int, Field(ge=0, lt=2**31)]
    port: Annotated[Text, StringConstraints(min_length=1)]
    previous: PortStatus | None
    current: PortStatus | None


class Reachability(_ReadingBase):
    """A polled device stopped answering, or answers again. An event."""

    kind: Literal["reachability"] = "reachability"
    reachable: bool
    detail: Annotated[Text, StringConstraints(max_length=255)] | None = None


class AgentHealth(_ReadingBase):
    """The agent's own health and per-driver counters, published periodically. Telemetry."""

    kind: Literal["agent_health"] = "agent_health"
    cpu_percent: Rate | None = None
    rss_bytes: Annotated[int, Field(ge=0)] | None = None
    disk_free_bytes: Annotated[int, Field(ge=0)] | None = None
    uptime_s: Rate
    counters: dict[CounterName, Annotated[int, Field(ge=0, lt=2**63)]] = Field(
        default_factory=dict, max_length=256
    )
    problems: tuple[Text, ...] = Field(
        default=(), max_length=16, description="what is wrong right now, in words"
    )
    # Left out when unknown, so collectors from before these fields accept the reading.
    clock_offset_ms: ClockOffsetMs = None
    ntp_synchronized: NtpSynchronized = None


Reading: TypeAlias = Annotated[
    CardRead | DoorReading | InterfaceReading | PortChange | Reachability | AgentHealth,
    Field(discriminator="kind"),
]
"""Every reading kind, told apart by ``kind``."""
AnyReading: TypeAlias = Reading

EVENT_KINDS: Final = frozenset({"card_read", "port_change", "reachability"})
"""Kinds that are events: kept by the outbox until nothing else is left to evict."""


def is_event(reading: AnyReading) -> bool:
    """Whether a reading is an event (kept longest) rather than periodic telemetry."""
    if isinstance(reading, DoorReading):
        return reading.change
    return reading.kind in EVENT_KINDS


class Envelope(BaseModel):
    """One MQTT message: readings of a single device, oldest first."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    v: Literal[1]
    site: Ident
    gateway: Ident
    device: Ident
    historical: bool = Field(
        default=False, description="replayed from the outbox: store, but raise no alarms"
    )
    readings: tuple[Reading, ...] = Field(min_length=1, max_length=MAX_READINGS_PER_MESSAGE)

    def card_reads(self) -> tuple[CardRead, ...]:
        """The card reads among the readings, in order."""
        return tuple(r for r in self.readings if isinstance(r, CardRead))

    @property
    def topic(self) -> ReadingTopic:
        """The topic this envelope belongs on."""
        return ReadingTopic(self.site, self.gateway, self.device)


def encode(envelope: Envelope) -> bytes:
    """Serialise an envelope for publishing."""
    return envelope.model_dump_json(exclude_defaults=False).encode()


def decode(payload: bytes, topic: ReadingTopic | None = None) -> Envelope:
    """Parse and validate a payload; with ``topic``, also check it matches the payload.

    Raises:
        PayloadError: with a reason code and a readable detail; never anything else.
    """
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise PayloadError(
            RejectReason.TOO_LARGE,
            f"payload is {len(payload)} bytes; the limit is {MAX_PAYLOAD_BYTES}",
        )
    try:
        envelope = Envelope.model_validate_json(payload)
    except ValidationError as exc:
        raise _explain(exc, payload) from None
    if topic is not None and envelope.topic != topic:
        raise PayloadError(
            RejectReason.TOPIC_MISMATCH,
            f"payload names {envelope.topic} but arrived on {topic}",
        )
    return envelope


def _explain(exc: ValidationError, payload: bytes) -> PayloadError:
    """Turn a pydantic error into the contract's reason codes."""
    errors = exc.errors(include_url=False)
    if any(err["type"] == "json_invalid" for err in errors):
        return PayloadError(RejectReason.NOT_JSON, f"not valid JSON: {errors[0]['msg']}")
    version_errors = [err for err in errors if err["loc"] == ("v",)]
    if version_errors and version_errors[0]["type"] != "missing":
        return PayloadError(
            RejectReason.UNSUPPORTED_VERSION,
            f"schema version {_version_of(payload)} is not supported; "
            f"this build understands v={SCHEMA_VERSION}",
        )
    first = errors[0]
    where = ".".join(str(part) for part in first["loc"]) or "(message)"
    more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
    return PayloadError(RejectReason.INVALID, f"{where}: {first['msg']}{more}")


def _version_of(payload: bytes) -> str:
    """Best-effort rendering of the ``v`` a payload claimed, for the error message."""
    try:
        value = json.loads(payload).get("v")
    except (ValueError, AttributeError):
        return "?"
    return repr(value)
