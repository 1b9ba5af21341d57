"""Interface counter rates from two SNMP samples: pure, no IO, time passed in.

Rules (FIELD-NOTES, RFC 2863):

- Δt comes from the agent's own ``sysUpTime`` (TimeTicks, 1/100 s), not the poller's clock:
  a slow answer must not distort the rate. But the poller's monotonic clock must *agree*
  with it (:func:`uptime_agrees`): an agent restarted between two polls can come back with
  a sysUpTime that has grown again past the previous one (snmpd restarted twice between
  polls 8 s apart gave a Δt of 0.8 s, so a 10x rate over counters that kept counting).
  ``sysUpTime`` is a 32-bit counter and wraps after about 497 days; a wrapped Δt is believed
  only when it agrees with the poller's clock in the same way.
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
UPTIME_RATIO_MIN: Final = 0.75
UPTIME_RATIO_MAX: Final = 1.25
UPTIME_SLACK_S: Final = 1.0
"""How far sysUpTime's Δt may stray from the poller's clock and still be believed.

The poller's side is not one instant but a window: the agent read its clock somewhere
between the request going out and the answer arriving, so the agent's true elapsed time
lies between ``(current.requested_at - previous.polled_at)`` and ``(current.polled_at -
previous.requested_at)`` whatever the network or a busy event loop did (a late timestamp
only widens the window). What remains is the two clocks' rates (crystals differ by parts
per million: 25 % is a broken clock, not jitter) and agents whose sysUpTime advances in
whole seconds (the slack). Beyond that the pair is a reset, not a rate. An agent restarted
between polls escapes this only if the previous poll came within about a quarter of the
interval (+ 1 s) of its start; its rate is then off by at most 1/0.75 = 1.33x, and not at
all when its counters restarted with it.
"""


@dataclass(frozen=True, slots=True)
class Sample:
    """One reading of one counter.

    Attributes:
        uptime_ticks: the agent's sysUpTime when the counter was read (1/100 s).
        value: the counter value.
        bits: 32 for Counter32 (ifInErrors, ifInOctets), 64 for Counter64 (ifHCInOctets).
        polled_at: the poller's monotonic clock (s) when the poll's answer was complete.
        discontinuity: ifCounterDiscontinuityTime, when the agent reports it.
        requested_at: the poller's monotonic clock (s) when the poll was sent; None: the
            same as ``polled_at`` (the strictest window).
    """

    uptime_ticks: int
    value: int
    bits: Literal[32, 64]
    polled_at: float
    discontinuity: int | None = None
    requested_at: float | None = None

    @property
    def sent_at(self) -> float:
        """When the poll that read this sample went out (monotonic s)."""
        return self.polled_at if self.requested_at is None else self.requested_at


class Discard(StrEnum):
    """Why no rate came out of a pair of samples."""

    # the two samples share an uptime and the poller's clock agrees: nothing to divide by
    NO_TIME = "no_time"
    # sysUpTime went down (not a wrap), or its Δt disagrees with the poller's clock
    AGENT_RESTARTED = "agent_restarted"
    COUNTER_RESET = "counter_reset"  # 64-bit counter went down
    DISCONTINUITY = "discontinuity"  # ifCounterDiscontinuityTime changed
    ABOVE_LINE_RATE = "above_line_rate"  # implausible jump: a reset we could not see


@dataclass(frozen=True, slots=True)
class Rate:
    """A per-second rate over ``interval_s`` seconds of the agent's own clock."""

    per_second: float
    interval_s: float


def uptime_agrees(uptime_delta: float, previous: Sample, current: Sample) -> bool:
    """Whether the agent's Δt (s) agrees with the poller's clock between the two polls.

    See :data:`UPTIME_SLACK_S` for the window and the tolerance.
    """
    shortest = current.sent_at - previous.polled_at
    longest = current.polled_at - previous.sent_at
    return (
        shortest * UPTIME_RATIO_MIN - UPTIME_SLACK_S
        <= uptime_delta
        <= longest * UPTIME_RATIO_MAX + UPTIME_SLACK_S
    )


def uptime_delta_s(previous: Sample, current: Sample) -> float | None:
    """Seconds between two samples by the agent's clock, or None if it restarted.

    "Restarted" also covers a Δt the poller's clock cannot confirm (:func:`uptime_agrees`),
    and a sysUpTime that went down unless it wrapped at 2**32 ticks.
    """
    delta = current.uptime_ticks - previous.uptime_ticks
    if delta < 0:
        delta += UPTIME_MODULUS  # a wrap, if the poller's clock agrees
    seconds = delta / TICKS_PER_SECOND
    return seconds if uptime_agrees(seconds, previous, current) else None


def rate(
    previous: Sample, current: Sample, *, max_per_second: float | None = None
) -> Rate | Discard:
    """Rate of change of a counter between two samples, or why there is none.

    ``max_per_second`` is the plausible ceiling (line rate in the counter's unit per second);
    rates above ``LINE_RATE_SLACK`` times it are discarded.
    """
    if previous.discontinuity != current.discontinuity:
        return Discard.DISCONTINUITY
    # The same uptime is "no time passed" only if the poller's clock agrees: an agent
    # restarted between polls can read back the very uptime it had (CI saw a fresh snmpd
    # polled at 0.03 s, restarted, polled again at 0.03 s).
    interval = uptime_delta_s(previous, current)
    if interval is None:
        return Discard.AGENT_RESTARTED
    if interval == 0:
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
