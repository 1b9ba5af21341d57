"""Validation of one MQTT message against the wire contract: pure, no IO.

The contract itself lives in :mod:`pelangi.topics` and :mod:`pelangi.payloads`; this
module joins the two checks and maps a bad topic onto the same reason codes, so the
subscriber handles every rejection one way.

It is on the hot path (every message), so it does the contract's checks in the cheapest
order: the topic is parsed once per distinct topic (a bounded set: sites x gateways x
devices) and cached; the payload is validated by :func:`pelangi.payloads.decode`; the
topic/payload agreement is a tuple comparison. The result is exactly what
``decode(payload, parse_reading_topic(topic))`` gives, reasons and details included.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Final

from pelangi.errors import PayloadError, RejectReason, TopicError
from pelangi.payloads import decode
from pelangi.topics import ReadingTopic, parse_reading_topic

if TYPE_CHECKING:
    from pelangi.payloads import Envelope

_TOPIC_CACHE_SIZE: Final = 8192


@lru_cache(maxsize=_TOPIC_CACHE_SIZE)
def _parse(topic: str) -> tuple[str, str, str]:
    # lru_cache does not cache exceptions: bad topics are re-checked every time (and cost
    # no cache slot), good ones once.
    parsed = parse_reading_topic(topic)
    return parsed.site, parsed.gateway, parsed.device


def validate(topic: str, payload: bytes) -> Envelope:
    """Return the envelope carried by ``payload`` on ``topic``.

    Raises:
        PayloadError: with reason ``bad_topic`` when the topic is not a reading topic,
            otherwise the reason :func:`pelangi.payloads.decode` gives (too large, not
            JSON, unsupported version, invalid, topic mismatch). Never anything else.
    """
    try:
        where = _parse(topic)
    except TopicError as exc:
        raise PayloadError(RejectReason.BAD_TOPIC, str(exc)) from None
    envelope = decode(payload)
    if (envelope.site, envelope.gateway, envelope.device) != where:
        raise PayloadError(
            RejectReason.TOPIC_MISMATCH,
            f"payload names {envelope.topic} but arrived on {ReadingTopic(*where)}",
        )
    return envelope


__all__ = ["validate"]
