"""Silences: which keys they match and when (pure), and kept in the store on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from hypothesis import given
from hypothesis import strategies as st

from collector.alerts.model import AlertKey
from collector.alerts.silences import PARTS, Silence, parse_matcher, silencing
from collector.alerts.store import AlertStore
from collector.alerts.store_errors import InvalidSilence, UnknownSilence

if TYPE_CHECKING:
    from collector.state import StateDatabase

T0 = datetime(2026, 12, 3, 1, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
PORT = AlertKey("port_down", "bukit-pelangi", "gw-1", "sw-lantai-2", "Gi0/12")
DOOR = AlertKey("door_held_open", "bukit-pelangi", "gw-1", "pintu-utama")


def window(**matchers: str) -> Silence:
    return Silence(matchers, T0, T0 + HOUR, "andi", "ganti switch lantai 2")


# -- matching (pure) ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("matchers", "port", "door"),
    [
        ({"site": "bukit-pelangi"}, True, True),
        ({"device": "sw-*"}, True, False),
        ({"rule": "port_down", "item": "Gi0/1?"}, True, False),
        ({"rule": "port_down", "item": "Gi0/1"}, False, False),  # a glob matches whole
        ({"device": "[ps]*"}, True, True),
        ({"device": "*"}, True, True),
        ({"item": "*"}, True, True),  # "" (no item) matches * too
        ({"site": "BUKIT-PELANGI"}, False, False),  # ids are case-sensitive
        ({"gateway": "gw-2"}, False, False),
    ],
)
def test_every_glob_must_match_its_part(
    matchers: dict[str, str], *, port: bool, door: bool
) -> None:
    silence = window(**matchers)
    assert (silence.matches(PORT), silence.matches(DOOR)) == (port, door)


def test_a_silence_holds_from_its_start_until_just_before_its_end() -> None:
    silence = window(site="*")
    assert not silence.silences(PORT, T0 - timedelta(microseconds=1))
    assert silence.silences(PORT, T0)
    assert silence.silences(PORT, T0 + HOUR - timedelta(microseconds=1))
    assert not silence.silences(PORT, T0 + HOUR)


def test_silencing_names_the_silence_that_holds() -> None:
    later = Silence({"device": "sw-*"}, T0 + HOUR, T0 + 2 * HOUR, "andi")
    doors = window(rule="door_*")
    assert silencing(PORT, [later, doors], T0) is None
    assert silencing(PORT, [later, doors], T0 + HOUR) is later
    assert silencing(DOOR, [later, doors], T0) is doors


@pytest.mark.parametrize(
    ("matchers", "starts", "ends", "message"),
    [
        ({}, T0, T0 + HOUR, "must match at least one of rule, site"),
        ({"building": "B"}, T0, T0 + HOUR, r"unknown part\(s\) \['building'\]"),
        ({"site": ""}, T0, T0 + HOUR, r"empty glob for \['site'\]: use '\*'"),
        ({"site": "*"}, T0, T0, "must end after it starts"),
        ({"site": "*"}, T0.replace(tzinfo=None), T0 + HOUR, "starts must carry its time zone"),
    ],
)
def test_a_silence_that_would_match_nothing_sensible_is_refused(
    matchers: dict[str, str], starts: datetime, ends: datetime, message: str
) -> None:
    with pytest.raises(InvalidSilence, match=message):
        Silence(matchers, starts, ends, "andi")


def test_matchers_are_read_as_part_equals_glob() -> None:
    assert parse_matcher("site = bukit-*") == ("site", "bukit-*")
    assert parse_matcher("item=a=b") == ("item", "a=b")
    with pytest.raises(InvalidSilence, match="expected PART=GLOB"):
        parse_matcher("building=B")
    with pytest.raises(InvalidSilence, match="expected PART=GLOB"):
        parse_matcher("site")


_text = st.text(max_size=8)


@given(
    st.dictionaries(_text, _text, max_size=6), st.integers(-5, 5), st.builds(AlertKey, *[_text] * 5)
)
def test_a_silence_is_made_or_refused_with_our_error_and_then_only_matches(
    matchers: dict[str, str], hours: int, key: AlertKey
) -> None:
    try:
        silence = Silence(matchers, T0, T0 + timedelta(hours=hours), "x")
    except InvalidSilence:
        return
    assert set(silence.matchers) <= set(PARTS)
    assert isinstance(silence.silences(key, T0), bool)


# -- in the store ------------------------------------------------------------------------


def test_silences_are_kept_listed_until_they_end_and_removed(state_db: StateDatabase) -> None:
    store = AlertStore(state_db)
    maintenance = store.add_silence(
        Silence({"device": "sw-lantai-2"}, T0 + HOUR, T0 + 3 * HOUR, "andi", "ganti switch")
    )
    doors = store.add_silence(window(rule="door_*", site="bukit-pelangi"))
    assert maintenance.id is not None
    assert doors.id is not None
    assert store.silences(T0) == [doors, maintenance]
    assert [s.id for s in store.silences(T0)] == [doors.id, maintenance.id]
    assert store.silences(T0 + HOUR) == [maintenance]  # doors ended
    assert store.silenced_by(DOOR, T0) == doors
    assert not store.is_silenced(PORT, T0)
    assert store.is_silenced(PORT, T0 + HOUR)
    assert store.remove_silence(maintenance.id) == maintenance
    assert not store.is_silenced(PORT, T0 + HOUR)
    with pytest.raises(UnknownSilence, match=f"no silence with id {maintenance.id}"):
        store.remove_silence(maintenance.id)
