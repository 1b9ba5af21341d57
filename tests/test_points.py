"""The storage schema: which readings become which points."""

from __future__ import annotations

import pytest

from collector.errors import InvalidPointError
from collector.storage.lineprotocol import to_line
from collector.storage.points import CARD_READ, envelope_to_points, reading_to_point
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

TS = 1_764_300_000_123_456_789


def envelope(*readings: Reading, historical: bool = False) -> Envelope:
    return Envelope(
        v=SCHEMA_VERSION,
        site="bukit-pelangi",
        gateway="gw-bupati",
        device="rfid-lobby",
        historical=historical,
        readings=readings or (CardRead(seq=7, ts=TS, card=em4100(bytes.fromhex("01001293D8"))),),
    )


def test_card_read_schema() -> None:
    (point,) = envelope_to_points(envelope())
    assert point.measurement == CARD_READ
    assert point.tags == {"site": "bukit-pelangi", "gateway": "gw-bupati", "device": "rfid-lobby"}
    assert point.fields == {
        "uid": "001293D8",
        "printed": "0001217496",
        "raw": "01001293D8",
        "bits": 32,
        "seq": 7,
        "w26_facility": 0x12,
        "w26_card": 0x93D8,
    }
    assert point.time_ns == TS


def test_line_is_exactly_what_influxdb_receives() -> None:
    (point,) = envelope_to_points(envelope())
    assert to_line(point) == (
        "card_read,device=rfid-lobby,gateway=gw-bupati,site=bukit-pelangi "
        'uid="001293D8",printed="0001217496",raw="01001293D8",bits=32i,'
        f"w26_facility=18i,w26_card=37848i,seq=7i {TS}"
    )


def test_24_bit_cards_have_no_printed_number() -> None:
    card = CardId(raw="12ABCD", uid="0012ABCD", bits=24)
    (point,) = envelope_to_points(envelope(CardRead(seq=1, ts=TS, card=card)))
    assert "printed" not in point.fields
    assert (point.fields["bits"], point.fields["w26_facility"], point.fields["w26_card"]) == (
        24,
        0x12,
        0xABCD,
    )


def test_historical_is_written_only_when_true() -> None:
    (live,) = envelope_to_points(envelope())
    (replayed,) = envelope_to_points(envelope(historical=True))
    assert "historical" not in live.fields
    assert replayed.fields["historical"] is True


def test_one_point_per_reading_in_order_with_bounded_tags() -> None:
    card = em4100(bytes.fromhex("62E3086CED"))
    readings = [CardRead(seq=seq, ts=TS + seq, card=card) for seq in range(5)]
    points = envelope_to_points(envelope(*readings))
    assert [p.fields["seq"] for p in points] == list(range(5))
    assert [p.time_ns for p in points] == [TS + seq for seq in range(5)]
    # Card numbers, sequence numbers and times never become tags.
    assert {key for p in points for key in p.tags} == {"site", "gateway", "device"}


def test_same_reading_gives_the_same_point() -> None:
    assert envelope_to_points(envelope()) == envelope_to_points(envelope())


def test_timestamp_beyond_influxdb_range_is_refused() -> None:
    # The contract allows any int64 > 0; InfluxDB reserves the largest one.
    reading = CardRead(seq=1, ts=2**63 - 1, card=em4100(bytes.fromhex("01001293D8")))
    with pytest.raises(InvalidPointError, match="range"):
        reading_to_point(envelope(reading), reading)


def test_every_reading_kind_has_its_measurement_and_never_writes_unknowns_as_zero() -> None:
    readings = (
        DoorReading(seq=1, ts=TS, state="open", change=True),
        InterfaceReading(seq=2, ts=TS, if_index=3, port='ge-0/0/3, "uplink"', oper="up"),
        PortChange(seq=3, ts=TS + 1, if_index=3, port="ge-0/0/3", previous="up", current="down"),
        Reachability(seq=4, ts=TS + 2, reachable=False, detail="no answer"),
        AgentHealth(seq=5, ts=TS + 3, uptime_s=12.5, counters={"reader.r1.taps": 4}),
    )
    points = envelope_to_points(envelope(*readings))
    assert [p.measurement for p in points] == [
        "door",
        "interface",
        "port_change",
        "reachability",
        "agent_health",
    ]
    door, interface, change, reach, health = points
    assert door.fields == {"state": "open", "state_code": 1, "change": True, "seq": 1}
    assert interface.tags["port"] == 'ge-0/0/3, "uplink"'
    assert interface.fields == {"if_index": 3, "oper": "up", "oper_up": 1, "seq": 2}
    assert "in_bps" not in interface.fields  # unknown: a gap, not a zero
    assert (change.fields["previous"], change.fields["current"], change.fields["up"]) == (
        "up",
        "down",
        0,
    )
    assert (reach.fields["reachable"], reach.fields["up"]) == (False, 0)
    assert health.fields["c.reader.r1.taps"] == 4
    assert "cpu_percent" not in health.fields
    for point in points:
        assert point.tags["device"] == "rfid-lobby"
        to_line(point)  # every kind renders
