"""What the collector confirms to gateways once a write has stored it. Pure.

Every message that carries sequence numbers yields a :class:`Confirm`: the gateway it
came from and the ``seq`` of every reading in it. A message is never split across writes
(:class:`collector.batching.Batcher`), so once the write holding a message's lines
succeeded, its readings, or their dead letters, are stored, and its :class:`Confirm`
goes into the receipts of that write (:func:`receipts`), one
:class:`~pelangi.receipts.StoredReceipt` per gateway (more if it needs more than
:data:`~pelangi.receipts.MAX_RANGES` ranges), on :func:`~pelangi.topics.stored_topic`.

Which messages are confirmed:

- a valid message: all its readings (stored, or refused one by one and dead-lettered);
- a whole message refused (not JSON, invalid, topic mismatch...) whose topic is a reading
  topic and whose payload still holds ``readings[*].seq`` integers
  (:func:`refused_message_confirm`, a lenient JSON parse): those seqs, to the topic's
  gateway. Its dead letter keeps the whole payload, so it can be replayed; a gateway that
  kept re-sending it would gain nothing. A payload without readable seqs (not JSON at
  all) cannot be confirmed: nothing names the readings.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from pelangi.errors import TopicError
from pelangi.receipts import encode_receipt, receipts_for
from pelangi.topics import parse_reading_topic, stored_topic

if TYPE_CHECKING:
    from collections.abc import Iterable

    from pelangi.payloads import Envelope

_SEQ_LIMIT: Final = 2**63
"""Sequence numbers are 0 <= seq < 2**63 (the contract)."""


@dataclass(frozen=True, slots=True)
class Confirm:
    """The readings of one message, to confirm to their gateway once stored."""

    site: str
    gateway: str
    seqs: tuple[int, ...]


def envelope_confirm(envelope: Envelope) -> Confirm:
    """The confirmation of a valid message: every reading's ``seq``."""
    return Confirm(
        envelope.site, envelope.gateway, tuple(reading.seq for reading in envelope.readings)
    )


def refused_message_confirm(topic: str, payload: bytes) -> Confirm | None:
    """The confirmation of a refused message, or None if nothing in it can be confirmed.

    Lenient: any JSON object with a ``readings`` list counts, and every element that is
    an object with an integer ``seq`` in the contract's range is confirmed (to the
    gateway the *topic* names: that is where the agent that sent it listens).
    """
    try:
        where = parse_reading_topic(topic)
    except TopicError:
        return None
    try:
        document = json.loads(payload)
    except (ValueError, RecursionError):
        return None
    readings = document.get("readings") if isinstance(document, dict) else None
    if not isinstance(readings, list):
        return None
    seqs = tuple(
        seq
        for item in readings
        if isinstance(item, dict) and type(seq := item.get("seq")) is int and 0 <= seq < _SEQ_LIMIT
    )
    return Confirm(where.site, where.gateway, seqs) if seqs else None


def receipts(confirms: Iterable[Confirm], collector_id: str, ts: int) -> list[tuple[str, bytes]]:
    """``(topic, payload)`` of the receipts confirming ``confirms``, one gateway at a time."""
    by_gateway: defaultdict[tuple[str, str], list[int]] = defaultdict(list)
    for confirm in confirms:
        by_gateway[confirm.site, confirm.gateway].extend(confirm.seqs)
    return [
        (stored_topic(site, gateway), encode_receipt(receipt))
        for (site, gateway), seqs in by_gateway.items()
        for receipt in receipts_for(collector_id, ts, seqs)
    ]


__all__ = ["Confirm", "envelope_confirm", "receipts", "refused_message_confirm"]
