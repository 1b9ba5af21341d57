"""A valid envelope to line protocol, fast, and the readings that must not be stored. Pure.

:func:`collector.storage.points.reading_to_point` + :func:`~collector.storage.lineprotocol.to_line`
define the schema and the encoding, and check every name and value. They cost ~12 µs
per reading, too much for 150,000 readings/s. :class:`LineEncoder` writes the two hot
kinds (``card_read`` and ``interface``) directly:

- the escaped measurement + tag prefix is built once per series (site, gateway, device,
  and port for interfaces) and cached: these are bounded by design;
- field values come from a validated envelope, so the checks ``Point`` makes are already
  guaranteed by the contract (identifiers need no escaping, rates are finite, ints fit),
  except one: a port name may hold a backslash, which line protocol cannot carry; such a
  reading takes the slow path, which refuses it with the reason.

Every other kind takes the slow path. ``tests/test_collector_encoding.py`` checks that
both paths produce the same line for every kind.

Plausibility: a reading whose ``ts`` lies more than ``max_future_s`` ahead of the
collector's clock, or is older than ``max_age_days``, is refused (``ts_in_future``,
``ts_too_old``): a gateway with a wrong clock must not write into next year or into
data long rolled up. The other readings of the message are stored.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from collector.errors import InvalidPointError
from collector.storage.lineprotocol import KEY_ESCAPES, STRING_ESCAPES, to_line
from collector.storage.points import CARD_READ, INTERFACE, reading_to_point
from pelangi.payloads import CardRead, InterfaceReading

if TYPE_CHECKING:
    from collections.abc import Callable

    from collector.config import ValiditySettings
    from pelangi.payloads import Envelope, Reading

TS_IN_FUTURE: Final = "ts_in_future"
TS_TOO_OLD: Final = "ts_too_old"
UNSTORABLE: Final = "unstorable"
"""Reason codes for single readings (besides the contract's for whole messages)."""

_NS_PER_S: Final = 1_000_000_000
_PREFIX_CACHE_LIMIT: Final = 65_536


@dataclass(frozen=True, slots=True)
class Refusal:
    """One reading not stored: why, and which one."""

    reason: str
    detail: str
    seq: int
    ts: int


class LineEncoder:
    """Envelope -> (lines, refusals). Holds only a cache of series prefixes."""

    def __init__(
        self, validity: ValiditySettings, *, clock_ns: Callable[[], int] = time.time_ns
    ) -> None:
        """Refuse readings outside the window ``validity`` describes, by ``clock_ns``."""
        self._future_ns = int(validity.max_future_s * _NS_PER_S)
        self._age_ns = int(validity.max_age_days * 86_400 * _NS_PER_S)
        self._clock_ns = clock_ns
        self._prefixes: dict[tuple[str, ...], str] = {}

    def encode(self, envelope: Envelope) -> tuple[list[str], list[Refusal]]:
        """Return the lines to store and the readings refused, in the envelope's order."""
        now = self._clock_ns()
        newest, oldest = now + self._future_ns, now - self._age_ns
        suffix = ",historical=true " if envelope.historical else " "
        lines: list[str] = []
        refused: list[Refusal] = []
        site, gateway, device = envelope.site, envelope.gateway, envelope.device
        for reading in envelope.readings:
            ts = reading.ts
            if ts > newest:
                ahead = (ts - now) / _NS_PER_S
                refused.append(
                    Refusal(
                        TS_IN_FUTURE,
                        f"ts is {ahead:.0f} s ahead of the collector's clock",
                        reading.seq,
                        ts,
                    )
                )
                continue
            if ts < oldest:
                age = (now - ts) / _NS_PER_S / 86_400
                refused.append(Refusal(TS_TOO_OLD, f"ts is {age:.1f} days old", reading.seq, ts))
                continue
            if type(reading) is CardRead:
                prefix = self._prefix(CARD_READ, device, gateway, site)
                lines.append(f"{prefix}{_card_fields(reading)},seq={reading.seq}i{suffix}{ts}")
            elif type(reading) is InterfaceReading and "\\" not in reading.port:
                prefix = self._prefix(INTERFACE, device, gateway, site, reading.port)
                fields = _interface_fields(reading)
                lines.append(f"{prefix}{fields},seq={reading.seq}i{suffix}{ts}")
            else:
                try:
                    lines.append(to_line(reading_to_point(envelope, reading)))
                except InvalidPointError as exc:
                    refused.append(Refusal(UNSTORABLE, str(exc), reading.seq, ts))
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


__all__ = ["TS_IN_FUTURE", "TS_TOO_OLD", "UNSTORABLE", "LineEncoder", "Refusal", "slow_line"]
