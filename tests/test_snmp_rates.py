"""Counter-rate math: wraps, resets, reboots and the line-rate ceiling."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edge_agent.snmp.rates import UPTIME_MODULUS, Discard, Rate, Sample, rate

GIGABIT_BYTES = 1e9 / 8


def test_plain_rate_uses_the_agents_uptime() -> None:
    first = Sample(uptime_ticks=1000, value=0, bits=64, polled_at=0.0)
    # The poller saw 70 s pass (a slow answer); the agent's clock says 60 s: trust the agent.
    second = Sample(uptime_ticks=7000, value=6_000_000, bits=64, polled_at=70.0)
    assert rate(first, second) == Rate(per_second=100_000.0, interval_s=60.0)


def test_32_bit_counter_going_down_is_a_wrap() -> None:
    first = Sample(uptime_ticks=0, value=2**32 - 1000, bits=32)
    second = Sample(uptime_ticks=100, value=1000, bits=32)
    assert rate(first, second) == Rate(per_second=2000.0, interval_s=1.0)


def test_64_bit_counter_going_down_is_a_reset() -> None:
    first = Sample(uptime_ticks=0, value=5000, bits=64)
    second = Sample(uptime_ticks=100, value=10, bits=64)
    assert rate(first, second) is Discard.COUNTER_RESET


def test_uptime_going_down_is_a_reboot() -> None:
    first = Sample(uptime_ticks=500_000, value=10, bits=32, polled_at=100.0)
    second = Sample(uptime_ticks=300, value=20, bits=32, polled_at=160.0)
    assert rate(first, second) is Discard.AGENT_RESTARTED


def test_uptime_wrap_after_497_days_is_not_a_reboot() -> None:
    first = Sample(uptime_ticks=UPTIME_MODULUS - 3000, value=0, bits=64, polled_at=1000.0)
    second = Sample(uptime_ticks=3000, value=600, bits=64, polled_at=1060.0)
    assert rate(first, second) == Rate(per_second=10.0, interval_s=60.0)


def test_changed_discontinuity_time_discards() -> None:
    first = Sample(uptime_ticks=0, value=0, bits=64, discontinuity=5)
    second = Sample(uptime_ticks=100, value=10, bits=64, discontinuity=90)
    assert rate(first, second) is Discard.DISCONTINUITY


def test_no_time_passed() -> None:
    sample = Sample(uptime_ticks=100, value=10, bits=64)
    assert rate(sample, sample) is Discard.NO_TIME


@pytest.mark.parametrize(("increase", "expected_ok"), [(1.09e9 / 8, True), (1.2e9 / 8, False)])
def test_line_rate_ceiling(increase: float, expected_ok: bool) -> None:  # noqa: FBT001
    first = Sample(uptime_ticks=0, value=0, bits=64)
    second = Sample(uptime_ticks=100, value=int(increase), bits=64)
    result = rate(first, second, max_per_second=GIGABIT_BYTES)
    assert isinstance(result, Rate) is expected_ok


_counter32 = st.integers(min_value=0, max_value=2**32 - 1)
_ticks = st.integers(min_value=0, max_value=UPTIME_MODULUS - 1)


@given(_ticks, _ticks, _counter32, _counter32, st.sampled_from([32, 64]))
def test_never_negative_never_above_ceiling(t1: int, t2: int, v1: int, v2: int, bits: int) -> None:
    first = Sample(uptime_ticks=t1, value=v1, bits=32 if bits == 32 else 64, polled_at=0.0)
    second = Sample(uptime_ticks=t2, value=v2, bits=first.bits, polled_at=60.0)
    result = rate(first, second, max_per_second=GIGABIT_BYTES)
    if isinstance(result, Rate):
        assert 0 <= result.per_second <= GIGABIT_BYTES * 1.1
        assert result.interval_s > 0
