"""The backlog every consumer drains: real envelopes, numbered so a count proves no loss."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Final

from pelangi.card import CardId
from pelangi.payloads import CardRead, Envelope, InterfaceReading, encode

SITE: Final = "bench-site"
GATEWAY: Final = "gw-bench"
DEVICES: Final = 100
"""Readings are spread over this many devices (series), as from 100 readers."""
BASE_TS_NS: Final = (time.time_ns() // 10**9 - 3600) * 10**9
"""An hour before the benchmark started: inside the collector's plausibility window."""
TS_STEP_NS: Final = 1000
PORTS: Final = 48
"""Ports of one simulated switch: (b) is one poll of all of them per message."""


@dataclass(frozen=True, slots=True)
class Sizes:
    """How big the backlogs are."""

    single_messages: int = 100_000
    """Messages in backlog (a), one reading each."""
    batch_messages: int = 10_000
    """Messages in backlog (b)."""
    readings_per_batch_message: int = 48
    """Readings per message in backlog (b) (a 48-port switch poll)."""


FULL: Final = Sizes()
QUICK: Final = Sizes(single_messages=10_000, batch_messages=500)


def _card_read(n: int) -> CardRead:
    # Knuth's multiplicative hash spreads card numbers over the 32-bit space.
    number = (n * 2_654_435_761) & 0xFFFF_FFFF
    card = CardId(raw=f"01{number:08X}", uid=f"{number:08X}", bits=32)
    return CardRead(seq=n, ts=BASE_TS_NS + n * TS_STEP_NS, card=card)


def _interface(n: int, port: int) -> InterfaceReading:
    # Every field the agent fills for a healthy port, values varying with n.
    return InterfaceReading(
        seq=n,
        ts=BASE_TS_NS + n * TS_STEP_NS,
        if_index=port,
        port=f"Gi1/0/{port}",
        alias=f"office {port}",
        admin="up",
        oper="up" if n % 7 else "down",
        speed_mbps=1000,
        in_bps=float(n % 1_000_000) * 8.5,
        out_bps=float(n % 777_777) * 3.25,
        in_errors_ps=0.0,
        out_errors_ps=0.0,
        in_discards_ps=float(n % 3) / 60,
        out_discards_ps=0.0,
    )


def make_envelope(i: int, readings_per_message: int) -> Envelope:
    """Message ``i`` of a backlog: ``readings_per_message`` readings of one device.

    Readings are numbered across the whole backlog (``seq`` and ``ts`` increase with it),
    so every reading is a distinct point in InfluxDB and a count proves nothing was lost.
    Devices take turns (``dev-000`` .. ``dev-099``). One reading per message is a card
    read (a reader); more is a switch poll: one :class:`InterfaceReading` per port
    (``Gi1/0/1`` ...), as the agent's SNMP poller sends.
    """
    first = i * readings_per_message
    readings: tuple[CardRead, ...] | tuple[InterfaceReading, ...]
    if readings_per_message == 1:
        readings = (_card_read(first),)
    else:
        readings = tuple(_interface(first + k, k % PORTS + 1) for k in range(readings_per_message))
    return Envelope(
        v=1, site=SITE, gateway=GATEWAY, device=f"dev-{i % DEVICES:03d}", readings=readings
    )


def make_backlog(messages: int, readings_per_message: int) -> list[tuple[str, bytes]]:
    """``(topic, payload)`` of every message of a backlog, built through the contract."""
    backlog = []
    for i in range(messages):
        envelope = make_envelope(i, readings_per_message)
        backlog.append((str(envelope.topic), encode(envelope)))
    return backlog
