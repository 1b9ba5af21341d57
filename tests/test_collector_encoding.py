"""The fast line encoder writes exactly what the reference schema + encoder write."""

from __future__ import annotations

import time

import pytest

from collector.config import ValiditySettings
from collector.encoding import TS_IN_FUTURE, TS_TOO_OLD, UNSTORABLE, LineEncoder, slow_line
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
]


@pytest.mark.parametrize("historical", [False, True])
def test_fast_lines_equal_the_reference_encoding_for_every_kind(*, historical: bool) -> None:
    env = envelope(*READINGS, historical=historical)
    lines, refused = LineEncoder(ValiditySettings(), clock_ns=lambda: NOW).encode(env)
    assert refused == []
    assert lines == [slow_line(env, reading) for reading in env.readings]


def test_a_port_name_with_a_backslash_is_refused_alone() -> None:
    bad = InterfaceReading(seq=10, ts=NOW, if_index=1, port="a\\b")
    env = envelope(READINGS[0], bad)
    lines, refused = LineEncoder(ValiditySettings(), clock_ns=lambda: NOW).encode(env)
    assert lines == [slow_line(env, READINGS[0])]
    assert [(r.reason, r.seq) for r in refused] == [(UNSTORABLE, 10)]
    assert "backslash" in refused[0].detail


def test_readings_outside_the_time_window_are_refused_with_their_reason() -> None:
    validity = ValiditySettings(max_future_s=60, max_age_days=1)
    card = em4100(bytes.fromhex("01001293D8"))
    env = envelope(
        CardRead(seq=1, ts=NOW - 2 * 86_400 * 10**9, card=card),
        CardRead(seq=2, ts=NOW, card=card),
        CardRead(seq=3, ts=NOW + 61 * 10**9, card=card),
    )
    lines, refused = LineEncoder(validity, clock_ns=lambda: NOW).encode(env)
    assert len(lines) == 1
    assert ",seq=2i " in lines[0]
    assert [(r.reason, r.seq) for r in refused] == [(TS_TOO_OLD, 1), (TS_IN_FUTURE, 3)]
    assert refused[0].detail == "ts is 2.0 days old"
    assert refused[1].detail == "ts is 61 s ahead of the collector's clock"
