"""Validation of one MQTT message against the wire contract: pure, no IO.

The contract itself lives in :mod:`pelangi.topics` and :mod:`pelangi.payloads`; this
module only joins the two checks and maps a bad topic onto the same reason codes, so
the subscriber handles every rejection one way.
"""

from __future__ import annotations

from pelangi.errors import PayloadError, RejectReason, TopicError
from pelangi.payloads import Envelope, decode
from pelangi.topics import parse_reading_topic


def validate(topic: str, payload: bytes) -> Envelope:
    """Return the envelope carried by ``payload`` on ``topic``.

    Raises:
        PayloadError: with reason ``bad_topic`` when the topic is not a reading topic,
            otherwise the reason :func:`pelangi.payloads.decode` gives (too large, not
            JSON, unsupported version, invalid, topic mismatch). Never anything else.
    """
    try:
        reading_topic = parse_reading_topic(topic)
    except TopicError as exc:
        raise PayloadError(RejectReason.BAD_TOPIC, str(exc)) from None
    return decode(payload, reading_topic)


__all__ = ["validate"]
