"""Validation of one MQTT message: an envelope, or a PayloadError with a reason, nothing else."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from collector.validation import validate
from pelangi.card import em4100
from pelangi.errors import PayloadError, RejectReason
from pelangi.payloads import MAX_PAYLOAD_BYTES, SCHEMA_VERSION, CardRead, Envelope, encode

TOPIC = "pelangi/bukit-pelangi/gw-bupati/reading/rfid-lobby"
CARD = bytes.fromhex("01001293D8")


def good() -> dict[str, Any]:
    envelope = Envelope(
        v=SCHEMA_VERSION,
        site="bukit-pelangi",
        gateway="gw-bupati",
        device="rfid-lobby",
        readings=(
            CardRead(seq=1, ts=1_764_300_000_000_000_000, card=em4100(b"\x01\x00\x12\x93\xd8")),
        ),
    )
    data: dict[str, Any] = json.loads(encode(envelope))
    return data


def as_bytes(data: dict[str, Any]) -> bytes:
    return json.dumps(data).encode()


def test_valid_message_gives_its_envelope() -> None:
    envelope = validate(TOPIC, as_bytes(good()))
    assert str(envelope.topic) == TOPIC
    assert envelope.card_reads()[0].card.uid == "001293D8"


def _with(**changes: Any) -> bytes:
    return as_bytes(good() | changes)


@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [
        (TOPIC, b"x" * (MAX_PAYLOAD_BYTES + 1), RejectReason.TOO_LARGE),
        (TOPIC, b"not json", RejectReason.NOT_JSON),
        (TOPIC, b"\xff\xfe", RejectReason.NOT_JSON),
        (TOPIC, _with(v=2), RejectReason.UNSUPPORTED_VERSION),
        (TOPIC, _with(readings=[]), RejectReason.INVALID),
        (TOPIC, _with(extra="field"), RejectReason.INVALID),
        ("pelangi/bukit-pelangi/gw-bupati/status", as_bytes(good()), RejectReason.BAD_TOPIC),
        (
            "pelangi/bukit pelangi/gw-bupati/reading/rfid-lobby",
            as_bytes(good()),
            RejectReason.BAD_TOPIC,
        ),
        (
            "pelangi/bukit-pelangi/gw-bupati/reading/rfid-side",
            as_bytes(good()),
            RejectReason.TOPIC_MISMATCH,
        ),
    ],
)
def test_each_reject_reason(topic: str, payload: bytes, reason: RejectReason) -> None:
    with pytest.raises(PayloadError) as caught:
        validate(topic, payload)
    assert caught.value.reason is reason
    assert caught.value.detail


def test_bad_card_field_is_invalid_and_says_where() -> None:
    data = good()
    data["readings"][0]["card"]["uid"] = "12345"
    with pytest.raises(PayloadError) as caught:
        validate(TOPIC, as_bytes(data))
    assert caught.value.reason is RejectReason.INVALID
    assert "readings.0.card_read.card.uid" in caught.value.detail


def _outcome(topic: str, payload: bytes) -> None:
    """The invariant: an envelope that belongs on ``topic``, or a PayloadError; nothing else."""
    try:
        envelope = validate(topic, payload)
    except PayloadError as exc:
        reason = exc.reason
    else:
        assert str(envelope.topic) == topic
        return
    assert isinstance(reason, RejectReason)


@given(topic=st.text(max_size=80), payload=st.binary(max_size=300))
def test_arbitrary_bytes_give_an_envelope_or_a_payload_error(topic: str, payload: bytes) -> None:
    _outcome(topic, payload)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=10,
)


@given(
    device=st.sampled_from(["rfid-lobby", "rfid-side", "bad id", ""]),
    key=st.sampled_from(["v", "site", "device", "historical", "readings", "extra"]),
    value=_json,
)
def test_mutated_envelopes_give_an_envelope_or_a_payload_error(
    device: str, key: str, value: Any
) -> None:
    _outcome(f"pelangi/bukit-pelangi/gw-bupati/reading/{device}", _with(**{key: value}))


@given(
    reading_key=st.sampled_from(["kind", "seq", "ts", "card"]),
    card_key=st.sampled_from(["raw", "uid", "bits"]),
    value=_json,
)
def test_mutated_readings_give_an_envelope_or_a_payload_error(
    reading_key: str, card_key: str, value: Any
) -> None:
    data = good()
    data["readings"][0]["card"][card_key] = value
    _outcome(TOPIC, as_bytes(data))
    data = good()
    data["readings"][0][reading_key] = value
    _outcome(TOPIC, as_bytes(data))
