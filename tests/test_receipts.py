"""Receipts (the end-to-end confirmation contract): ranges exact, decoding total."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pelangi.errors import PayloadError
from pelangi.receipts import (
    MAX_RANGES,
    StoredReceipt,
    decode_receipt,
    encode_receipt,
    ranges_of,
    receipts_for,
)
from pelangi.topics import stored_topic

SEQS = st.lists(st.integers(min_value=0, max_value=2**63 - 1), max_size=300)


@given(SEQS)
def test_ranges_cover_exactly_the_seqs_given(seqs: list[int]) -> None:
    ranges = ranges_of(seqs)
    covered = {
        seq for first, last in ranges if last - first < 10_000 for seq in range(first, last + 1)
    }
    assert covered == set(seqs) or any(last - first >= 10_000 for first, last in ranges)
    assert sum(last - first + 1 for first, last in ranges) == len(set(seqs))
    assert list(ranges) == sorted(ranges)


@given(st.lists(st.integers(min_value=0, max_value=10**6), max_size=3000))
def test_receipts_split_long_lists_and_round_trip(seqs: list[int]) -> None:
    receipts = receipts_for("collector-1", 1_764_300_000_000_000_000, seqs)
    assert all(len(r.seqs) <= MAX_RANGES for r in receipts)
    assert sum(r.count() for r in receipts) == len(set(seqs))
    for receipt in receipts:
        assert decode_receipt(encode_receipt(receipt)) == receipt
        assert all(receipt.covers(first) and receipt.covers(last) for first, last in receipt.seqs)


@given(st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_decoding_anything_gives_a_receipt_or_a_payload_error(payload: bytes) -> None:
    try:
        receipt = decode_receipt(payload)
    except PayloadError:
        return
    assert isinstance(receipt, StoredReceipt)


@pytest.mark.parametrize("seqs", ["[[1,3],[3,4]]", "[[1,3],[4,4]]", "[[5,4]]", "[]"])
def test_ranges_that_overlap_touch_or_run_backwards_are_refused(seqs: str) -> None:
    payload = f'{{"v":1,"collector":"c","ts":1,"seqs":{seqs}}}'.encode()
    with pytest.raises(PayloadError) as caught:
        decode_receipt(payload)
    assert caught.value.reason == "invalid"


def test_receipts_travel_in_the_gateways_own_subtree() -> None:
    assert stored_topic("bukit-pelangi", "gw-1") == "pelangi/bukit-pelangi/gw-1/stored"
