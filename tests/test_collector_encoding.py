"""The fast line encoder writes exactly what the reference schema + encoder write.

Hand-picked cases of every kind, then Hypothesis: arbitrary valid readings of every kind
give the same lines and the same refusals on both paths, whatever characters they hold.
The time window (plausibility) is a separate, pure check, tested at the end.
"""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector.config import ValiditySettings
from collector.encoding import LineEncoder, slow_line
from collector.errors import InvalidPointError
from collector.plausibility import TS_IN_FUTURE, TS_TOO_OLD, UNSTORABLE, TimeWindow
from pelangi.card import CardId, em4100
from pelangi.payloads import (
    SCHEMA_VERSION,
    AgentHealth,
    CardRead,
    DoorReading,
    Envelope,
    InterfaceReading,
    PortChange,
    Reachability,
    Reading,
)

NOW = time.time_ns()


def envelope(*readings: Reading, historical: bool = False) -> Envelope:
    return Envelope(
        v=SCHEMA_VERSION,
        site="bukit-pelangi",
        gateway="gw-1",
        device="sw-lobby",
        historical=historical,
        readings=readings,
    )


READINGS: list[Reading] = [
    CardRead(seq=1, ts=NOW, card=em4100(bytes.fromhex("01001293D8"))),
    CardRead(seq=2, ts=NOW + 1, card=CardId(raw='A"b\\c', uid="00ABCDEF", bits=24)),
    InterfaceReading(seq=3, ts=NOW + 2, if_index=1, port="Gi1/0/1"),
    InterfaceReading(
        seq=4,
        ts=NOW + 3,
        if_index=2,
        port="port, with=odd chars",
        alias='uplink "core" \\ 2',
        admin="up",
        oper="down",
        speed_mbps=1000,
        in_bps=12.5,
        out_bps=0.0,
        in_errors_ps=1e-7,
        out_errors_ps=3.0,
        in_discards_ps=0.25,
        out_discards_ps=1e20,
        discarded=("counter_reset", "no_time"),
    ),
    InterfaceReading(seq=5, ts=NOW + 4, if_index=3, port="x", oper="up", in_bps=5),
    DoorReading(seq=6, ts=NOW + 5, state="open", change=True),
    PortChange(seq=7, ts=NOW + 6, if_index=1, port="Gi1", previous="up", current="down"),
    Reachability(seq=8, ts=NOW + 7, reachable=False, detail="timeout"),
    AgentHealth(seq=9, ts=NOW + 8, uptime_s=12.0, counters={"a.b": 1}, problems=("disk",)),
    CardRead(seq=10, ts=NOW + 9, card=em4100(bytes.fromhex("01001293D8")), clock_corrected=True),
    InterfaceReading(seq=11, ts=NOW + 10, if_index=4, port="y", clock_corrected=True),
    AgentHealth(
        seq=12,
        ts=NOW + 11,
        uptime_s=1.0,
        clock_offset_ms=-86_400_000,
        ntp_synchronized=False,
        clock_corrected=True,
    ),
]


@pytest.mark.parametrize("historical", [False, True])
def test_fast_lines_equal_the_reference_encoding_for_every_kind(*, historical: bool) -> None:
    env = envelope(*READINGS, historical=historical)
    lines, refused = LineEncoder().encode(env)
    assert refused == []
    assert lines == [slow_line(env, reading) for reading in env.readings]


@pytest.mark.parametrize("historical", [False, True])
def test_clock_corrected_is_written_only_on_corrected_readings(*, historical: bool) -> None:
    env = envelope(*READINGS, historical=historical)
    lines, _ = LineEncoder().encode(env)
    marked = [r.seq for r, line in zip(READINGS, lines, strict=True) if "clock_corrected" in line]
    assert marked == [10, 11, 12]
    health = lines[-1]
    assert "clock_offset_ms=-86400000i" in health
    assert "ntp_synchronized=false" in health


def test_a_port_name_with_a_backslash_is_refused_alone() -> None:
    bad = InterfaceReading(seq=10, ts=NOW, if_index=1, port="a\\b")
    env = envelope(READINGS[0], bad)
    lines, refused = LineEncoder().encode(env)
    assert lines == [slow_line(env, READINGS[0])]
    assert [(r.reason, r.seq) for r in refused] == [(UNSTORABLE, 10)]
    assert "backslash" in refused[0].detail


def test_a_port_name_with_a_c1_control_is_refused_by_both_paths() -> None:
    """U+0085 (NEXT LINE) is free text to the contract but no line-protocol name."""
    bad = InterfaceReading(seq=11, ts=NOW, if_index=1, port="Gi1\x85")
    env = envelope(bad)
    with pytest.raises(InvalidPointError, match="control characters"):
        slow_line(env, bad)
    lines, refused = LineEncoder().encode(env)
    assert lines == []
    assert [(r.reason, r.seq, r.reading) for r in refused] == [(UNSTORABLE, 11, bad)]


def test_only_the_readings_asked_for_are_encoded() -> None:
    env = envelope(*READINGS[:3])
    lines, _ = LineEncoder().encode(env, [READINGS[2]])
    assert lines == [slow_line(env, READINGS[2])]


# -- arbitrary readings (Hypothesis) ----------------------------------------------------

# Characters the contract's free text allows (no C0 controls, no DEL; pydantic refuses lone
# surrogates), with the ones line protocol treats specially drawn often.
_SPECIAL = ["\\", "\x85", "\x80", "\x9f", "\xa0", ",", " ", "=", '"', "\u2028", "é", "#"]
_TEXT_CHARS = st.one_of(
    st.sampled_from(_SPECIAL),
    st.characters(blacklist_categories=("Cs", "Cc"), max_codepoint=0x2FFFF),
    st.characters(min_codepoint=0x80, max_codepoint=0x9F),
)
_texts = st.text(_TEXT_CHARS, min_size=1, max_size=12)
_seqs = st.integers(min_value=0, max_value=2**63 - 1)
# Anywhere in the contract's range, the edges (InfluxDB's ends two before) often.
_timestamps = st.one_of(
    st.integers(min_value=1, max_value=2**63 - 1),
    st.sampled_from([1, NOW, 2**63 - 3, 2**63 - 2, 2**63 - 1]),
)
_rates = st.none() | st.floats(min_value=0, allow_nan=False, allow_infinity=False)
_statuses = st.none() | st.sampled_from(["up", "down", "testing", "unknown", "dormant"])
_discards = st.lists(
    st.sampled_from(["no_time", "agent_restarted", "counter_reset", "discontinuity"]),
    max_size=3,
    unique=True,
).map(tuple)
_cards = st.builds(
    CardId,
    raw=st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=64),
    uid=st.text("0123456789ABCDEF", min_size=8, max_size=8),
    bits=st.sampled_from([24, 32]),
)
_readings: st.SearchStrategy[Reading] = st.one_of(
    st.builds(CardRead, seq=_seqs, ts=_timestamps, card=_cards, clock_corrected=st.booleans()),
    st.builds(
        InterfaceReading,
        seq=_seqs,
        ts=_timestamps,
        if_index=st.integers(min_value=0, max_value=2**31 - 1),
        port=_texts,
        alias=st.none() | _texts,
        admin=_statuses,
        oper=_statuses,
        speed_mbps=st.none() | st.integers(min_value=0, max_value=2**70),
        in_bps=_rates,
        out_bps=_rates,
        in_errors_ps=_rates,
        out_errors_ps=_rates,
        in_discards_ps=_rates,
        out_discards_ps=_rates,
        discarded=_discards,
        clock_corrected=st.booleans(),
    ),
    st.builds(
        DoorReading,
        seq=_seqs,
        ts=_timestamps,
        state=st.sampled_from(["open", "closed", "unknown"]),
        change=st.booleans(),
    ),
    st.builds(
        PortChange,
        seq=_seqs,
        ts=_timestamps,
        if_index=st.integers(min_value=0, max_value=2**31 - 1),
        port=_texts,
        previous=_statuses,
        current=_statuses,
    ),
    st.builds(
        Reachability, seq=_seqs, ts=_timestamps, reachable=st.booleans(), detail=st.none() | _texts
    ),
    st.builds(
        AgentHealth,
        seq=_seqs,
        ts=_timestamps,
        uptime_s=st.floats(min_value=0, allow_nan=False, allow_infinity=False),
        rss_bytes=st.none() | st.integers(min_value=0, max_value=2**64),
        counters=st.dictionaries(st.sampled_from(["a", "b.c", "outbox.x_1"]), _seqs, max_size=3),
        problems=st.lists(_texts, max_size=2).map(tuple),
        clock_offset_ms=st.none() | st.integers(min_value=-(2**62), max_value=2**62),
        ntp_synchronized=st.none() | st.booleans(),
        clock_corrected=st.booleans(),
    ),
)


def reference(env: Envelope) -> tuple[list[str], list[tuple[int, str]]]:
    """What the reference encoder makes of every reading: a line, or a refusal."""
    lines: list[str] = []
    refused: list[tuple[int, str]] = []
    for reading in env.readings:
        try:
            lines.append(slow_line(env, reading))
        except InvalidPointError as exc:
            refused.append((reading.seq, str(exc)))
    return lines, refused


@settings(max_examples=400, deadline=None)
@given(readings=st.lists(_readings, min_size=1, max_size=6), historical=st.booleans())
def test_fast_and_reference_encoders_agree_on_arbitrary_readings(
    *, readings: list[Reading], historical: bool
) -> None:
    env = envelope(*readings, historical=historical)
    lines, refused = LineEncoder().encode(env)
    assert (lines, [(r.seq, r.detail) for r in refused]) == reference(env)
    assert {r.reason for r in refused} <= {UNSTORABLE}


@settings(max_examples=500, deadline=None)
@given(_TEXT_CHARS)
def test_both_encoders_refuse_exactly_the_same_characters_in_a_port_name(char: str) -> None:
    reading = InterfaceReading(seq=1, ts=NOW, if_index=1, port=f"Gi{char}1")
    env = envelope(reading)
    lines, refused = LineEncoder().encode(env)
    assert (lines, [(r.seq, r.detail) for r in refused]) == reference(env)


# -- the time window (pure: the clock is passed in) -------------------------------------


def test_readings_outside_the_time_window_are_refused_with_their_reason() -> None:
    validity = ValiditySettings(max_future_s=60, max_age_days=1)
    card = em4100(bytes.fromhex("01001293D8"))
    env = envelope(
        CardRead(seq=1, ts=NOW - 2 * 86_400 * 10**9, card=card),
        CardRead(seq=2, ts=NOW, card=card),
        CardRead(seq=3, ts=NOW + 61 * 10**9, card=card),
    )
    kept, refused = TimeWindow(validity).split(env.readings, NOW)
    assert [r.seq for r in kept] == [2]
    assert [(r.reason, r.seq) for r in refused] == [(TS_TOO_OLD, 1), (TS_IN_FUTURE, 3)]
    assert refused[0].detail == "ts is 2.0 days old"
    assert refused[1].detail == "ts is 61 s ahead of the collector's clock"
    assert refused[1].reading == env.readings[2]


def test_the_window_includes_its_edges_and_returns_plausible_readings_uncopied() -> None:
    window = TimeWindow(ValiditySettings(max_future_s=60, max_age_days=1))
    card = em4100(bytes.fromhex("01001293D8"))
    edges = (
        CardRead(seq=1, ts=NOW - 86_400 * 10**9, card=card),
        CardRead(seq=2, ts=NOW + 60 * 10**9, card=card),
    )
    kept, refused = window.split(edges, NOW)
    assert kept is edges
    assert refused == []
    assert window.refusal(edges[1], NOW - 1) is not None
