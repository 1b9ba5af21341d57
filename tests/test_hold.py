"""A card held on the reader is one tap; time is passed in."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edge_agent.readers.hold import HoldFilter
from pelangi.card import em4100

CARD = em4100(bytes.fromhex("01001293D8"))
OTHER = em4100(bytes.fromhex("62E3086CED"))


def test_first_sighting_is_a_tap() -> None:
    assert HoldFilter(0.5).is_new_tap(CARD, now=100.0)


def test_held_card_repeating_every_100_ms_is_one_tap_however_long() -> None:
    hold = HoldFilter(0.5)
    taps = [hold.is_new_tap(CARD, now=100.0 + i * 0.1) for i in range(600)]  # one minute
    assert taps.count(True) == 1


def test_gap_counts_from_the_last_sighting_not_the_first() -> None:
    hold = HoldFilter(0.5)
    assert hold.is_new_tap(CARD, now=0.0)
    assert not hold.is_new_tap(CARD, now=0.4)
    assert not hold.is_new_tap(CARD, now=0.8)  # 0.8 s after the first, 0.4 s after the last
    assert hold.is_new_tap(CARD, now=1.31)  # away for more than the gap


def test_sighting_exactly_at_the_gap_is_still_held() -> None:
    hold = HoldFilter(0.5)
    hold.is_new_tap(CARD, now=10.0)
    assert not hold.is_new_tap(CARD, now=10.5)


def test_another_card_is_a_new_tap_at_once() -> None:
    hold = HoldFilter(0.5)
    assert hold.is_new_tap(CARD, now=0.0)
    assert hold.is_new_tap(OTHER, now=0.05)


def test_two_cards_in_the_field_do_not_alternate_into_many_taps() -> None:
    hold = HoldFilter(0.5)
    taps = [hold.is_new_tap(card, now=i * 0.1) for i in range(20) for card in (CARD, OTHER)]
    assert taps.count(True) == 2


def test_zero_gap_makes_every_later_sighting_a_tap() -> None:
    hold = HoldFilter(0.0)
    assert [hold.is_new_tap(CARD, now=t) for t in (1.0, 1.0, 1.1)] == [True, False, True]


def test_negative_gap_is_refused() -> None:
    with pytest.raises(ValueError, match="hold gap"):
        HoldFilter(-1.0)


@given(st.lists(st.integers(min_value=0, max_value=5000), min_size=1, max_size=50))
def test_a_sighting_is_a_new_tap_exactly_when_the_card_was_away_longer_than_the_gap(
    gaps_ms: list[int],
) -> None:
    # Whole milliseconds keep the arithmetic exact; the filter does not care about units.
    hold = HoldFilter(500.0)
    now = 0.0
    results = []
    for gap in gaps_ms:
        now += gap
        results.append(hold.is_new_tap(CARD, now))
    assert results == [True] + [gap > 500 for gap in gaps_ms[1:]]
