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
    first = Sample(uptime_ticks=0, value=2**32 - 1000, bits=32, polled_at=0.0)
    second = Sample(uptime_ticks=100, value=1000, bits=32, polled_at=1.0)
    assert rate(first, second) == Rate(per_second=2000.0, interval_s=1.0)


def test_64_bit_counter_going_down_is_a_reset() -> None:
    first = Sample(uptime_ticks=0, value=5000, bits=64, polled_at=0.0)
    second = Sample(uptime_ticks=100, value=10, bits=64, polled_at=1.0)
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
    first = Sample(uptime_ticks=0, value=0, bits=64, polled_at=0.0, discontinuity=5)
    second = Sample(uptime_ticks=100, value=10, bits=64, polled_at=1.0, discontinuity=90)
    assert rate(first, second) is Discard.DISCONTINUITY


def test_no_time_passed() -> None:
    sample = Sample(uptime_ticks=100, value=10, bits=64, polled_at=5.0)
    assert rate(sample, sample) is Discard.NO_TIME


def test_same_uptime_seconds_apart_is_a_restart() -> None:
    """CI caught a fresh snmpd restarted between polls reading back its earlier uptime."""
    before = Sample(uptime_ticks=3, value=10, bits=64, polled_at=5.0)
    after = Sample(uptime_ticks=3, value=0, bits=64, polled_at=8.0)
    assert rate(before, after) is Discard.AGENT_RESTARTED


@pytest.mark.parametrize(("increase", "expected_ok"), [(1.09e9 / 8, True), (1.2e9 / 8, False)])
def test_line_rate_ceiling(increase: float, expected_ok: bool) -> None:  # noqa: FBT001
    first = Sample(uptime_ticks=0, value=0, bits=64, polled_at=0.0)
    second = Sample(uptime_ticks=100, value=int(increase), bits=64, polled_at=1.0)
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


# -- the agent's uptime must agree with the poller's clock -------------------------------


def test_restart_whose_uptime_grew_past_the_previous_one_is_a_restart() -> None:
    # Measured (issue 9): snmpd restarted twice between polls 8 s apart came back with a
    # sysUpTime 0.8 s past the previous one, while the kernel's counters kept counting.
    first = Sample(uptime_ticks=200, value=0, bits=64, polled_at=10.0, requested_at=9.99)
    second = Sample(uptime_ticks=280, value=8_000_000, bits=64, polled_at=18.0, requested_at=17.99)
    assert rate(first, second) is Discard.AGENT_RESTARTED


def test_uptime_far_ahead_of_the_poller_is_not_believed() -> None:
    # 120 s of agent clock in 60 s of ours: a different agent answering, or a clock jump.
    first = Sample(uptime_ticks=0, value=0, bits=64, polled_at=0.0)
    second = Sample(uptime_ticks=12_000, value=600, bits=64, polled_at=60.0)
    assert rate(first, second) is Discard.AGENT_RESTARTED


def test_a_slow_answer_widens_the_window_instead_of_discarding() -> None:
    # The first poll's answer took 4 s (a lost request, then a retry); the agent read its
    # clock just after the first send. The second poll answered at once.
    first = Sample(uptime_ticks=0, value=0, bits=64, requested_at=0.0, polled_at=4.0)
    second = Sample(uptime_ticks=6000, value=6000, bits=64, requested_at=60.0, polled_at=60.01)
    # By arrival times only 56 s passed, by sending times 60 s: the agent's 60 s agree.
    assert rate(first, second) == Rate(per_second=100.0, interval_s=60.0)


@pytest.mark.parametrize(
    ("uptime_s", "believed"),
    [
        # 60 s of poller clock: believed from 0.75 x 60 - 1 = 44 s to 1.25 x 60 + 1 = 76 s.
        (43.9, False),
        (44.1, True),
        (60.0, True),
        (75.9, True),
        (76.1, False),
    ],
)
def test_tolerance_edges(uptime_s: float, believed: bool) -> None:  # noqa: FBT001
    first = Sample(uptime_ticks=1000, value=0, bits=64, polled_at=100.0)
    second = Sample(uptime_ticks=1000 + round(uptime_s * 100), value=10, bits=64, polled_at=160.0)
    assert isinstance(rate(first, second), Rate) is believed


def test_uptime_wrap_the_poller_cannot_confirm_is_a_restart() -> None:
    # Going down by 6000 ticks would be a wrap after 497 days minus 60 s: our clock saw 60 s.
    first = Sample(uptime_ticks=9000, value=0, bits=64, polled_at=0.0)
    second = Sample(uptime_ticks=3000, value=600, bits=64, polled_at=60.0)
    assert rate(first, second) is Discard.AGENT_RESTARTED


_seconds = st.floats(min_value=0.0, max_value=5.0)


@given(
    start_ticks=_ticks,
    interval=st.floats(min_value=1.0, max_value=3600.0),
    to_agent=st.tuples(_seconds, _seconds),
    from_agent=st.tuples(_seconds, _seconds),
    clock_rate=st.floats(min_value=0.99, max_value=1.01),
)
def test_jitter_never_passes_for_a_restart(
    start_ticks: int,
    interval: float,
    to_agent: tuple[float, float],
    from_agent: tuple[float, float],
    clock_rate: float,
) -> None:
    """Any latency (up to 5 s each way) and a 1 % clock error still give a rate."""
    sent = (1000.0, 1000.0 + interval)
    read = (sent[0] + to_agent[0], sent[1] + to_agent[1])  # when the agent read its clock
    if read[1] <= read[0]:
        return  # the second poll cannot be read before the first
    ticks = round((read[1] - read[0]) * clock_rate * 100)
    first = Sample(
        uptime_ticks=start_ticks,
        value=0,
        bits=64,
        requested_at=sent[0],
        polled_at=read[0] + from_agent[0],
    )
    second = Sample(
        uptime_ticks=(start_ticks + ticks) % UPTIME_MODULUS,
        value=0,
        bits=64,
        requested_at=sent[1],
        polled_at=read[1] + from_agent[1],
    )
    assert rate(first, second) in (Rate(0.0, ticks / 100), Discard.NO_TIME)
