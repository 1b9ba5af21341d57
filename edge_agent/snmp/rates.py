"""Interface counter rates from two SNMP samples: pure, no IO, time passed in.

Rules (FIELD-NOTES, RFC 2863):

- Δt comes from the agent's own ``sysUpTime`` (TimeTicks, 1/100 s), not the poller's clock:
  a slow answer must not distort the rate. ``sysUpTime`` is a 32-bit counter and wraps after
  about 497 days; a wrap is told from a reboot by the poller's monotonic clock, which must
  agree with the wrapped Δt.
- A 32-bit counter that goes down has wrapped: add 2**32. A 64-bit counter that goes down, an
  agent whose ``sysUpTime`` went down (a reboot), or a changed ``ifCounterDiscontinuityTime``
  is a reset: the sample is discarded and becomes the new baseline.
- A rate is never negative and never above 1.1x the line rate (a counter that jumps further
  was reset under us: discard and re-baseline, as LibreNMS clamps and Telegraf does not).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final, Literal

TICKS_PER_SECOND: Final = 100
UPTIME_MODULUS: Final = 2**32
"""sysUpTime is TimeTicks, an unsigned 32-bit value: it wraps after ~497 days."""
LINE_RATE_SLACK: Final = 1.1
"""Rates up to 10 % above line rate are believed (bursts, rounding of ifHighSpeed)."""
CLOCK_AGREEMENT_S: Final = 60.0
"""How far the poller's clock may disagree with an uptime wrap and still call it a wrap."""


@dataclass(frozen=True, slots=True)
class Sample:
    """One reading of one counter.

    Attributes:
        uptime_ticks: the agent's sysUpTime when the counter was read (1/100 s).
        value: the counter value.
        bits: 32 for Counter32 (ifInErrors, ifInOctets), 64 for Counter64 (ifHCInOctets).
        discontinuity: ifCounterDiscontinuityTime, when the agent reports it.
        polled_at: the poller's monotonic clock (s) when the sample arrived.
    """

    uptime_ticks: int
    value: int
    bits: Literal[32, 64]
    discontinuity: int | None = None
    polled_at: float = 0.0


class Discard(StrEnum):
    """Why no rate came out of a pair of samples."""

    NO_TIME = "no_time"  # the two samples share an uptime: nothing to divide by
    AGENT_RESTARTED = "agent_restarted"  # sysUpTime went down and it was not a wrap
    COUNTER_RESET = "counter_reset"  # 64-bit counter went down
    DISCONTINUITY = "discontinuity"  # ifCounterDiscontinuityTime changed
    ABOVE_LINE_RATE = "above_line_rate"  # implausible jump: a reset we could not see


@dataclass(frozen=True, slots=True)
class Rate:
    """A per-second rate over ``interval_s`` seconds of the agent's own clock."""

    per_second: float
    interval_s: float


def uptime_delta_s(previous: Sample, current: Sample) -> float | None:
    """Seconds between two samples by the agent's clock, or None if it restarted."""
    delta = current.uptime_ticks - previous.uptime_ticks
    if delta >= 0:
        return delta / TICKS_PER_SECOND
    wrapped = (delta + UPTIME_MODULUS) / TICKS_PER_SECOND
    poller_elapsed = current.polled_at - previous.polled_at
    if abs(wrapped - poller_elapsed) <= CLOCK_AGREEMENT_S:
        return wrapped
    return None


def rate(
    previous: Sample, current: Sample, *, max_per_second: float | None = None
) -> Rate | Discard:
    """Rate of change of a counter between two samples, or why there is none.

    ``max_per_second`` is the plausible ceiling (line rate in the counter's unit per second);
    rates above ``LINE_RATE_SLACK`` times it are discarded.
    """
    if previous.discontinuity != current.discontinuity:
        return Discard.DISCONTINUITY
    interval = uptime_delta_s(previous, current)
    if interval is None:
        return Discard.AGENT_RESTARTED
    if interval <= 0:
        return Discard.NO_TIME
    increase = current.value - previous.value
    if increase < 0:
        if current.bits == 64:
            return Discard.COUNTER_RESET
        increase += 2**32
    per_second = increase / interval
    if max_per_second is not None and per_second > max_per_second * LINE_RATE_SLACK:
        return Discard.ABOVE_LINE_RATE
    return Rate(per_second=per_second, interval_s=interval)
