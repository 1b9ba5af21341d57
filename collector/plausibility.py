"""Which readings the collector refuses, and why: the time window check. Pure.

A reading whose ``ts`` lies more than ``validity.max_future_s`` ahead of the collector's
clock, or is older than ``validity.max_age_days``, is refused (``ts_in_future``,
``ts_too_old``): a gateway with a wrong clock must not write into next year or into data
long rolled up. The other readings of the message are stored. The clock is passed in
(``now``), so the check is the same function in the subscriber, in a replay of dead
letters and in tests.

:class:`Refusal` is one reading not stored, whatever refused it (this window, or the
encoder for a reading line protocol cannot carry: ``unstorable``); it keeps the reading
itself, so its dead letter can keep all of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from collections.abc import Sequence

    from collector.config import ValiditySettings
    from pelangi.payloads import Reading

TS_IN_FUTURE: Final = "ts_in_future"
TS_TOO_OLD: Final = "ts_too_old"
UNSTORABLE: Final = "unstorable"
"""Reason codes for single readings (besides the contract's for whole messages)."""

_NS_PER_S: Final = 1_000_000_000
_S_PER_DAY: Final = 86_400


@dataclass(frozen=True, slots=True)
class Refusal:
    """One reading not stored: why (``reason``, ``detail`` in words), and the reading."""

    reason: str
    detail: str
    reading: Reading

    @property
    def seq(self) -> int:
        """The refused reading's sequence number."""
        return self.reading.seq

    @property
    def ts(self) -> int:
        """The refused reading's own timestamp (ns)."""
        return self.reading.ts


class TimeWindow:
    """The plausible timestamps relative to a clock reading (see the module docstring)."""

    def __init__(self, validity: ValiditySettings) -> None:
        """Accept from ``max_age_days`` before ``now`` to ``max_future_s`` after it."""
        self._future_ns = int(validity.max_future_s * _NS_PER_S)
        self._age_ns = int(validity.max_age_days * _S_PER_DAY * _NS_PER_S)

    def refusal(self, reading: Reading, now_ns: int) -> Refusal | None:
        """Why ``reading`` is implausible at ``now_ns`` (ns since the epoch), or None."""
        ts = reading.ts
        if ts > now_ns + self._future_ns:
            ahead = (ts - now_ns) / _NS_PER_S
            detail = f"ts is {ahead:.0f} s ahead of the collector's clock"
            return Refusal(TS_IN_FUTURE, detail, reading)
        if ts < now_ns - self._age_ns:
            age = (now_ns - ts) / _NS_PER_S / _S_PER_DAY
            return Refusal(TS_TOO_OLD, f"ts is {age:.1f} days old", reading)
        return None

    def split(
        self, readings: Sequence[Reading], now_ns: int
    ) -> tuple[Sequence[Reading], list[Refusal]]:
        """The plausible readings (in order) and the refusals of the others.

        The common case, every reading plausible, returns ``readings`` itself (no copy):
        this runs for every message.
        """
        newest, oldest = now_ns + self._future_ns, now_ns - self._age_ns
        if all(oldest <= reading.ts <= newest for reading in readings):
            return readings, []
        kept: list[Reading] = []
        refused: list[Refusal] = []
        for reading in readings:
            refusal = self.refusal(reading, now_ns)
            if refusal is None:
                kept.append(reading)
            else:
                refused.append(refusal)
        return kept, refused


__all__ = ["TS_IN_FUTURE", "TS_TOO_OLD", "UNSTORABLE", "Refusal", "TimeWindow"]
