"""Liveness messages: birth/death with bdseq, collector presence."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pelangi.errors import PayloadError
from pelangi.liveness import CollectorState, GatewayStatus, decode_liveness, is_stale_death

TS = 1_764_300_000_000_000_000


def _status(*, online: bool, bdseq: int) -> GatewayStatus:
    return GatewayStatus(site="s", gateway="g", online=online, bdseq=bdseq, ts=TS)


def test_round_trip() -> None:
    birth = _status(online=True, bdseq=3)
    assert decode_liveness(birth.model_dump_json().encode(), GatewayStatus) == birth
    state = CollectorState(collector="collector-1", online=False, ts=TS)
    assert decode_liveness(state.model_dump_json().encode(), CollectorState) == state


def test_a_stale_will_cannot_mark_a_returned_agent_offline() -> None:
    birth = _status(online=True, bdseq=5)
    assert is_stale_death(_status(online=False, bdseq=4), birth)
    assert not is_stale_death(_status(online=False, bdseq=5), birth)
    assert not is_stale_death(_status(online=False, bdseq=4), None)


def test_bad_status_names_the_field() -> None:
    with pytest.raises(PayloadError, match="bdseq"):
        decode_liveness(
            b'{"site":"s","gateway":"g","online":true,"bdseq":-1,"ts":1}', GatewayStatus
        )


@given(st.binary(max_size=200))
def test_any_bytes_give_a_status_or_payload_error(data: bytes) -> None:
    try:
        decode_liveness(data, GatewayStatus)
    except PayloadError as exc:
        assert exc.detail  # noqa: PT017 - a property, not a single expected raise
