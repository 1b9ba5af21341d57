"""A valid envelope to line protocol, fast, and the readings line protocol cannot carry. Pure.

:func:`collector.storage.points.reading_to_point` + :func:`~collector.storage.lineprotocol.to_line`
define the schema and the encoding, and check every name and value. They cost ~12 µs
per reading, too much for 150,000 readings/s. :class:`LineEncoder` writes the two hot
kinds (``card_read`` and ``interface``) directly:

- the escaped measurement + tag prefix is built once per series (site, gateway, device,
  and port for interfaces) and cached: these are bounded by design;
- field values come from a validated envelope, so the checks ``Point`` makes are already
  guaranteed by the contract (identifiers need no escaping, rates are finite, ints fit,
  strings hold no lone surrogates), except one: a port name (a tag) may hold a character
  no line-protocol name can carry (a backslash, or a C1 control such as U+0085, which the
  contract's free text allows); such a reading takes the slow path, which refuses it
  (``unstorable``) with the reason.

Every other kind takes the slow path. ``tests/test_collector_encoding.py`` checks, on
arbitrary valid readings of every kind (Hypothesis), that both paths write the same line
and refuse the same readings.

Which timestamps are plausible is not the encoder's business: see
:mod:`collector.plausibility` (the caller filters the readings first).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from collector.errors import InvalidPointError
from collector.plausibility import UNSTORABLE, Refusal
from collector.storage.lineprotocol import (
    INT64_MAX,
    KEY_ESCAPES,
    MAX_TIME_NS,
    STRING_ESCAPES,
    is_storable_name,
    to_line,
)
from collector.storage.points import CARD_READ, INTERFACE, reading_to_point
from pelangi.payloads import CardRead, InterfaceReading

if TYPE_CHECKING:
    from collections.abc import Iterable

    from pelangi.payloads import Envelope, Reading

_PREFIX_CACHE_LIMIT: Final = 65_536


class LineEncoder:
    """Envelope -> (lines, refusals). Holds only a cache of series prefixes; no clock."""

    def __init__(self) -> None:
        """Start with an empty prefix cache."""
        self._prefixes: dict[tuple[str, ...], str] = {}

    def encode(
        self, envelope: Envelope, readings: Iterable[Reading] | None = None
    ) -> tuple[list[str], list[Refusal]]:
        """Return the lines to store and the ``unstorable`` refusals, in order.

        Args:
            envelope: where the readings come from (site, gateway, device, historical).
            readings: which of its readings to encode (default: all of them), e.g. those
                :meth:`collector.plausibility.TimeWindow.split` kept.
        """
        # Field order as reading_to_point writes them: seq, historical, clock_corrected.
        plain = ",historical=true" if envelope.historical else ""
        corrected = plain + ",clock_corrected=true "
        plain += " "
        lines: list[str] = []
        refused: list[Refusal] = []
        site, gateway, device = envelope.site, envelope.gateway, envelope.device
        for reading in envelope.readings if readings is None else readings:
            suffix = corrected if reading.clock_corrected else plain
            # The contract allows timestamps up to 2**63 - 1, InfluxDB two less.
            if type(reading) is CardRead and reading.ts <= MAX_TIME_NS:
                prefix = self._prefix(CARD_READ, device, gateway, site)
                fields = _card_fields(reading)
                lines.append(f"{prefix}{fields},seq={reading.seq}i{suffix}{reading.ts}")
            elif type(reading) is InterfaceReading and _fast_interface(reading):
                prefix = self._prefix(INTERFACE, device, gateway, site, reading.port)
                fields = _interface_fields(reading)
                lines.append(f"{prefix}{fields},seq={reading.seq}i{suffix}{reading.ts}")
            else:
                try:
                    lines.append(to_line(reading_to_point(envelope, reading)))
                except InvalidPointError as exc:
                    refused.append(Refusal(UNSTORABLE, str(exc), reading))
        return lines, refused

    def _prefix(
        self, measurement: str, device: str, gateway: str, site: str, port: str = ""
    ) -> str:
        key = (measurement, device, gateway, site, port)
        prefix = self._prefixes.get(key)
        if prefix is None:
            if len(self._prefixes) >= _PREFIX_CACHE_LIMIT:
                self._prefixes.clear()
            # Tags sorted by key, as to_line writes them; identifiers need no escaping.
            tags = f",device={device},gateway={gateway}"
            if port:
                tags += f",port={port.translate(KEY_ESCAPES)}"
            prefix = f"{measurement}{tags},site={site} "
            self._prefixes[key] = prefix
        return prefix


def _fast_interface(r: InterfaceReading) -> bool:
    """Whether the fast path can write ``r`` as the reference would (else: the slow path).

    What the contract allows but line protocol cannot carry: a port name with a backslash
    or a C1 control, a speed beyond int64, a timestamp beyond InfluxDB's range.
    """
    speed = r.speed_mbps
    return (
        r.ts <= MAX_TIME_NS and (speed is None or speed <= INT64_MAX) and is_storable_name(r.port)
    )


def _string(value: str) -> str:
    return '"' + value.translate(STRING_ESCAPES) + '"'


def _card_fields(reading: CardRead) -> str:
    card = reading.card
    number = int(card.uid, 16)
    printed = f'printed="{number:010d}",' if card.bits == 32 else ""
    return (
        f'uid="{card.uid}",{printed}raw={_string(card.raw)},bits={card.bits}i,'
        f"w26_facility={(number >> 16) & 0xFF}i,w26_card={number & 0xFFFF}i"
    )


def _interface_fields(r: InterfaceReading) -> str:
    parts = [f"if_index={r.if_index}i"]
    if r.alias:
        parts.append(f"alias={_string(r.alias)}")
    if r.admin is not None:
        parts.append(f'admin="{r.admin}"')
    if r.oper is not None:
        parts.append(f'oper="{r.oper}",oper_up={int(r.oper == "up")}i')
    if r.speed_mbps is not None:
        parts.append(f"speed_mbps={r.speed_mbps}i")
    for key in _RATES:
        value = getattr(r, key)
        if value is not None:
            parts.append(f"{key}={value!r}")
    if r.discarded:
        parts.append(f'discarded="{",".join(r.discarded)}"')
    return ",".join(parts)


_RATES: Final = (
    "in_bps",
    "out_bps",
    "in_errors_ps",
    "out_errors_ps",
    "in_discards_ps",
    "out_discards_ps",
)


def slow_line(envelope: Envelope, reading: Reading) -> str:
    """The reference encoding of one reading (what the fast path must equal)."""
    return to_line(reading_to_point(envelope, reading))


__all__ = ["LineEncoder", "slow_line"]
