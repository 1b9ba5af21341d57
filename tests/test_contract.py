"""The wire contract: topics, payload models, codec and card identity."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pelangi.card import CardId, em4100
from pelangi.errors import PayloadError, RejectReason, TopicError
from pelangi.payloads import (
    MAX_PAYLOAD_BYTES,
    SCHEMA_VERSION,
    CardRead,
    Envelope,
    decode,
    encode,
)
from pelangi.topics import (
    ReadingTopic,
    collector_state_topic,
    command_topic,
    gateway_subtree,
    parse_reading_topic,
    reading_filter,
    status_topic,
)


def _envelope(**overrides: object) -> Envelope:
    fields: dict[str, object] = {
        "v": SCHEMA_VERSION,
        "site": "bukit-pelangi",
        "gateway": "gw-bupati",
        "device": "rfid-lobby",
        "readings": (
            CardRead(seq=7, ts=1_764_300_000_123_456_789, card=em4100(bytes.fromhex("01001293D8"))),
        ),
    }
    fields.update(overrides)
    return Envelope.model_validate(fields)


def test_topic_round_trip() -> None:
    topic = ReadingTopic("bukit-pelangi", "gw-bupati", "rfid-lobby")
    assert str(topic) == "pelangi/bukit-pelangi/gw-bupati/reading/rfid-lobby"
    assert parse_reading_topic(str(topic)) == topic


@pytest.mark.parametrize(
    "topic",
    [
        "pelangi/site/gw/reading",
        "pelangi/site/gw/status/x",
        "other/site/gw/reading/dev",
        "pelangi/site/gw/reading/dev/extra",
        "pelangi/si te/gw/reading/dev",
        "pelangi//gw/reading/dev",
        "pelangi/+/gw/reading/dev",
    ],
)
def test_bad_reading_topics_are_refused(topic: str) -> None:
    with pytest.raises(TopicError):
        parse_reading_topic(topic)


def test_every_gateway_topic_lives_in_its_acl_subtree() -> None:
    subtree = gateway_subtree("bukit-pelangi", "gw-bupati").removesuffix("#")
    assert status_topic("bukit-pelangi", "gw-bupati").startswith(subtree)
    assert command_topic("bukit-pelangi", "gw-bupati", "rebirth").startswith(subtree)
    assert str(ReadingTopic("bukit-pelangi", "gw-bupati", "d")).startswith(subtree)
    assert reading_filter() == "pelangi/+/+/reading/+"
    # A gateway's subtree cannot reach a collector's presence topic.
    assert not collector_state_topic("c1").startswith("pelangi/")


def test_identifier_rules_name_the_bad_value() -> None:
    with pytest.raises(TopicError, match=r"gateway 'gw/1' is not a valid identifier"):
        status_topic("site", "gw/1")


def test_envelope_round_trip() -> None:
    envelope = _envelope()
    assert decode(encode(envelope), envelope.topic) == envelope


def test_clock_corrected_travels_only_when_true() -> None:
    envelope = _envelope()
    payload = encode(envelope)
    assert b"clock_corrected" not in payload  # byte for byte what older agents sent
    marked = envelope.readings[0].model_copy(update={"clock_corrected": True})
    corrected = _envelope(readings=(marked,))
    assert b'"clock_corrected":true' in encode(corrected)
    assert decode(encode(corrected)).readings[0].clock_corrected
    assert not decode(payload).readings[0].clock_corrected


def test_card_identity_derives_the_printed_forms() -> None:
    card = em4100(bytes.fromhex("01001293D8"))
    assert card.uid == "001293D8"
    assert card.raw == "01001293D8"
    assert card.printed == "0001217496"
    assert card.wiegand26 == (0x12, 0x93D8)
    # FIELD-NOTES: the Seeed datasheet's decimal for this tag is wrong; this one is right.
    assert em4100(bytes.fromhex("62E3086CED")).printed == "3808980205"
    assert CardId(raw="12AB34", uid="0012AB34", bits=24).printed is None


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"\xff\xfe", RejectReason.NOT_JSON),
        (b"{", RejectReason.NOT_JSON),
        (b'{"v": 2}', RejectReason.UNSUPPORTED_VERSION),
        (b'{"v": "1"}', RejectReason.UNSUPPORTED_VERSION),
        (b'{"site": "x"}', RejectReason.INVALID),
        (b"[]", RejectReason.INVALID),
        (b" " * (MAX_PAYLOAD_BYTES + 1), RejectReason.TOO_LARGE),
    ],
)
def test_decode_reasons(payload: bytes, reason: RejectReason) -> None:
    with pytest.raises(PayloadError) as caught:
        decode(payload)
    assert caught.value.reason is reason


def test_decode_names_the_bad_field() -> None:
    raw = json.loads(encode(_envelope()))
    raw["readings"][0]["card"]["uid"] = "xyz"
    with pytest.raises(PayloadError, match=r"readings\.0\.card_read\.card\.uid") as caught:
        decode(json.dumps(raw).encode())
    assert caught.value.reason is RejectReason.INVALID


def test_payload_must_match_its_topic() -> None:
    envelope = _envelope()
    elsewhere = ReadingTopic("bukit-pelangi", "gw-other", "rfid-lobby")
    with pytest.raises(PayloadError) as caught:
        decode(encode(envelope), elsewhere)
    assert caught.value.reason is RejectReason.TOPIC_MISMATCH


def test_unknown_keys_are_refused() -> None:
    raw = json.loads(encode(_envelope()))
    raw["extra"] = 1
    with pytest.raises(PayloadError, match="extra"):
        decode(json.dumps(raw).encode())


def _decodes_cleanly_or_explains(data: bytes) -> None:
    """The h11 invariant: an envelope that survives a round trip, or our own PayloadError."""
    try:
        envelope = decode(data)
    except PayloadError as exc:
        assert exc.detail  # noqa: PT017 - a property, not a single expected raise
        return
    assert decode(encode(envelope)) == envelope


@given(st.binary(max_size=512))
def test_decode_arbitrary_bytes_gives_envelope_or_payload_error(data: bytes) -> None:
    _decodes_cleanly_or_explains(data)


_leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**64), max_value=2**64)
    | st.sampled_from(["", "card_read", "001293D8", "gw", "a/b", "\u00e9", "1"])
)
_json_values = st.recursive(
    _leaves,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["kind", "seq", "ts", "card", "uid", "raw"]), inner)
    ),
    max_leaves=10,
)


@given(
    st.dictionaries(st.sampled_from(["v", "site", "gateway", "device", "readings"]), _json_values)
)
def test_decode_arbitrary_json_gives_envelope_or_payload_error(doc: dict[str, object]) -> None:
    _decodes_cleanly_or_explains(json.dumps(doc).encode())
