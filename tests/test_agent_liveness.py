"""Pure parts of the agent's liveness: presence rules, bdseq, certificates, backoff spread."""

from __future__ import annotations

import random
import statistics
from typing import TYPE_CHECKING

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edge_agent.config import AgentSettings
from edge_agent.uplink.certificates import BirthDeathCounter, BirthInfo
from edge_agent.uplink.presence import Presence
from pelangi.backoff import Backoff
from pelangi.liveness import GatewayStatus, decode_liveness, is_stale_death

if TYPE_CHECKING:
    from pathlib import Path

INFO = BirthInfo(
    site="bukit-pelangi",
    gateway="gw-1",
    agent_version="0.1.0",
    devices=("rfid-lobby", "sw-1"),
    heartbeat_s=60.0,
)
TS = 1_764_300_000_000_000_000


def test_nothing_is_sent_before_the_retained_states_have_arrived() -> None:
    presence = Presence("any")
    assert not presence.may_send()
    assert "after connecting" in presence.waiting_for()
    presence.settle()
    assert presence.may_send()  # no collector ever announced itself: send as before


def test_any_waits_for_one_online_collector() -> None:
    presence = Presence("any")
    presence.update("collector-1", online=False)
    presence.update("collector-2", online=False)
    presence.settle()
    assert not presence.may_send()
    assert presence.waiting_for() == (
        "no collector is online (collector-1 offline, collector-2 offline)"
    )
    presence.update("collector-2", online=True)
    assert presence.may_send()
    assert presence.online() == ["collector-2"]


def test_a_cleared_state_forgets_the_collector() -> None:
    presence = Presence("any")
    presence.update("collector-1", online=False)
    presence.settle()
    assert not presence.may_send()
    presence.update("collector-1", online=None)
    assert not presence.announced
    assert presence.may_send()


def test_a_list_waits_for_every_listed_collector() -> None:
    presence = Presence(("collector-1", "collector-2"))
    presence.update("collector-1", online=True)
    presence.update("collector-9", online=True)  # not one of ours
    presence.settle()
    assert not presence.may_send()
    assert presence.waiting_for() == (
        "waiting for collector(s) collector-2 to be online "
        "(collector-2 never announced on this broker)"
    )
    presence.update("collector-2", online=True)
    assert presence.may_send()


def test_none_never_waits_and_reset_forgets() -> None:
    assert Presence("none").may_send()
    presence = Presence("any")
    presence.update("collector-1", online=True)
    presence.settle()
    presence.reset()
    assert not presence.known
    assert not presence.announced


@given(
    states=st.dictionaries(st.sampled_from(["c1", "c2", "c3"]), st.booleans()),
    primary=st.one_of(
        st.just("any"),
        st.just("none"),
        st.lists(st.sampled_from(["c1", "c2", "c3"]), min_size=1, unique=True).map(tuple),
    ),
)
def test_presence_rules(states: dict[str, bool], primary: str | tuple[str, ...]) -> None:
    presence = Presence(primary)  # type: ignore[arg-type]
    for collector, online in states.items():
        presence.update(collector, online=online)
    presence.settle()
    if primary == "none":
        expected = True
    elif primary == "any":
        expected = not states or any(states.values())
    else:
        expected = all(states.get(c, False) for c in primary)
    assert presence.may_send() is expected
    assert (presence.waiting_for() == "") is expected


def test_bdseq_goes_up_per_connection_and_survives_a_restart(tmp_path: Path) -> None:
    counter = BirthDeathCounter(tmp_path / "state")
    assert [counter.next(), counter.next()] == [1, 2]
    assert BirthDeathCounter(tmp_path / "state").next() == 3
    assert (tmp_path / "state" / "bdseq").read_text() == "3\n"
    assert counter.problem is None


def test_a_damaged_bdseq_file_continues_from_the_clock(tmp_path: Path) -> None:
    (tmp_path / "bdseq").write_text("garbage")
    counter = BirthDeathCounter(tmp_path)
    assert counter.next() > 10**15  # microseconds since 1970: above any count of connects


def test_bdseq_that_cannot_be_saved_counts_on_and_says_so(tmp_path: Path) -> None:
    counter = BirthDeathCounter(tmp_path)
    (tmp_path / ".bdseq.tmp").mkdir()  # the temporary file cannot be written (even as root)
    assert [counter.next(), counter.next()] == [1, 2]
    assert counter.problem is not None
    assert f"cannot save bdseq in {tmp_path}/bdseq" in counter.problem


def test_birth_and_death_share_bdseq_and_a_late_death_is_stale() -> None:
    birth = INFO.birth(bdseq=7, ts=TS)
    death = INFO.death(bdseq=7, ts=TS)
    assert decode_liveness(birth.model_dump_json().encode(), GatewayStatus) == birth
    assert (birth.online, death.online) == (True, False)
    assert birth.devices == ("rfid-lobby", "sw-1")
    assert birth.heartbeat_s == 60.0
    assert not is_stale_death(death, birth)
    assert is_stale_death(INFO.death(bdseq=6, ts=TS + 1), birth)


def test_fifty_gateways_do_not_reconnect_together() -> None:
    # All lost the broker at once and failed the same number of times: their next
    # attempts spread over the whole window instead of landing together.
    for failures in range(8):
        delays = []
        for gateway in range(50):
            backoff = Backoff(base=0.5, cap=30.0, rng=random.Random(gateway))  # noqa: S311
            for _ in range(failures):
                backoff.next_delay()
            delays.append(backoff.next_delay())
        window = min(30.0, 0.5 * 2**failures)
        assert all(0 <= d <= window for d in delays)
        assert statistics.pstdev(delays) > window / 5  # uniform: ~window / 3.5
        assert max(delays) - min(delays) > window / 2


def test_settings_take_primary_collectors() -> None:
    base = {"site": "s", "gateway": "g"}
    assert AgentSettings.model_validate(base).primary == "any"
    listed = AgentSettings.model_validate(base | {"primary_collectors": ["c-1", "c-2"]})
    assert listed.primary == ("c-1", "c-2")
    for bad in ([], ["c-1", "c-1"], "all", ["bad id"]):
        with pytest.raises(ValueError, match="primary_collectors"):
            AgentSettings.model_validate(base | {"primary_collectors": bad})
