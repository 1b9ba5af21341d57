"""Receipts: a collector tells a gateway which of its readings are stored, end to end.

A PUBACK only means the broker holds a message; a broker that crashes, is wiped, drops a
queue or expires a session loses what it acknowledged. So a reading leaves the gateway's
outbox only once a collector confirms it has *stored* it (or its dead letter):

``pelangi/<site>/<gateway>/stored`` (:class:`StoredReceipt`, QoS 1, not retained)
    Published by a collector after the write that stored readings of that gateway (or
    their dead letters) succeeded. ``seqs`` lists the readings' sequence numbers as
    inclusive ranges ``[first, last]``: every integer in a range is a ``seq`` the
    collector stored. A gateway's ``seq`` is unique across all its devices and restarts
    (:mod:`pelangi.payloads`), so a range names exactly those readings. Ranges come from
    :func:`ranges_of` (sorted, disjoint, merged where they touch); a receipt holds at
    most :data:`MAX_RANGES` of them (:func:`receipts_for` splits longer lists).

A duplicate or late receipt is harmless: a gateway ignores seqs it no longer holds.

Collectors that send receipts say so in their presence (:mod:`pelangi.liveness`) as the
MQTT v5 user property :data:`CONFIRMS_PROPERTY` = ``"1"``; the presence payload itself is
unchanged, so agents from before receipts still read it. An agent waits for receipts only
once it has seen such a collector.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from pelangi.errors import PayloadError, RejectReason
from pelangi.payloads import Ident, Sequence, TimestampNs

if TYPE_CHECKING:
    from collections.abc import Iterable

MAX_RANGES: Final = 1024
"""Most ranges in one receipt (a receipt is at most ~40 KiB)."""
CONFIRMS_PROPERTY: Final = "pelangi-confirms"
"""MQTT v5 user property of a collector's presence: ``"1"`` when it sends receipts."""
PRESENCE_INTERVAL_PROPERTY: Final = "pelangi-presence-interval-s"
"""MQTT v5 user property of a collector's presence: how often (s) it publishes it afresh."""

SeqRange = tuple[Sequence, Sequence]


class StoredReceipt(BaseModel):
    """Which readings of one gateway a collector has stored (see the module docstring)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    v: Literal[1] = 1
    collector: Ident
    ts: TimestampNs = Field(description="the collector's clock when it sent the receipt")
    seqs: Annotated[tuple[SeqRange, ...], Field(min_length=1, max_length=MAX_RANGES)]

    @model_validator(mode="after")
    def _ordered_ranges(self) -> StoredReceipt:
        previous = -2
        for first, last in self.seqs:
            if first > last:
                msg = f"range [{first}, {last}] ends before it starts"
                raise ValueError(msg)
            if first <= previous + 1:
                msg = f"range [{first}, {last}] overlaps or touches the one before it"
                raise ValueError(msg)
            previous = last
        return self

    def count(self) -> int:
        """How many sequence numbers the receipt covers."""
        return sum(last - first + 1 for first, last in self.seqs)

    def covers(self, seq: int) -> bool:
        """Whether ``seq`` is one of the stored readings."""
        return any(first <= seq <= last for first, last in self.seqs)


def ranges_of(seqs: Iterable[int]) -> tuple[SeqRange, ...]:
    """Sorted, disjoint inclusive ranges covering exactly ``seqs`` (duplicates allowed)."""
    ranges: list[list[int]] = []
    for seq in sorted(set(seqs)):
        if ranges and seq == ranges[-1][1] + 1:
            ranges[-1][1] = seq
        else:
            ranges.append([seq, seq])
    return tuple((first, last) for first, last in ranges)


def receipts_for(collector: str, ts: int, seqs: Iterable[int]) -> list[StoredReceipt]:
    """The receipts (as few as possible) that confirm exactly ``seqs``; none if empty."""
    ranges = ranges_of(seqs)
    return [
        StoredReceipt(collector=collector, ts=ts, seqs=ranges[start : start + MAX_RANGES])
        for start in range(0, len(ranges), MAX_RANGES)
    ]


def encode_receipt(receipt: StoredReceipt) -> bytes:
    """Serialise a receipt for publishing."""
    return receipt.model_dump_json().encode()


def decode_receipt(payload: bytes) -> StoredReceipt:
    """Parse a receipt; raises :class:`PayloadError` and nothing else."""
    try:
        return StoredReceipt.model_validate_json(payload)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "(message)"
        raise PayloadError(RejectReason.INVALID, f"{where}: {first['msg']}") from None


__all__ = [
    "CONFIRMS_PROPERTY",
    "MAX_RANGES",
    "PRESENCE_INTERVAL_PROPERTY",
    "SeqRange",
    "StoredReceipt",
    "decode_receipt",
    "encode_receipt",
    "ranges_of",
    "receipts_for",
]
