"""SwitchTracker: rates across polls, port events, resets."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from edge_agent.snmp.client import SwitchPoll
from edge_agent.snmp.mib import COLUMNS, OPER_STATUS
from edge_agent.snmp.table import InterfaceRow, build_rows
from edge_agent.snmp.tracker import PortChange, SwitchTracker

IF = (1, 3, 6, 1, 2, 1, 2, 2, 1)
IFX = (1, 3, 6, 1, 2, 1, 31, 1, 1, 1)


def _poll(uptime: int, in_octets: int, oper: int = 1, errors: int = 0) -> SwitchPoll:
    rows = build_rows(
        [
            ((*IFX, 1, 3), "ge-0/0/3"),
            ((*IF, 8, 3), oper),
            ((*IF, 7, 3), 1),
            ((*IFX, 15, 3), 1000),
            ((*IFX, 6, 3), in_octets),
            ((*IF, 14, 3), errors),
            ((*IFX, 18, 3), "Ruang Rapat"),
            ((9, 9, 9), 1),  # not ours: ignored
        ]
    )
    return SwitchPoll(uptime_ticks=uptime, sys_name="sw1", interfaces=rows, requests=1)


def test_first_poll_has_states_but_no_rates() -> None:
    reports, changes = SwitchTracker().update(_poll(100, 0), polled_at=0.0)
    assert changes == []
    (report,) = reports
    assert (report.name, report.alias, report.oper, report.speed_mbps) == (
        "ge-0/0/3",
        "Ruang Rapat",
        "up",
        1000,
    )
    assert report.in_bps is None
    assert report.discarded == ()


def test_rates_and_port_down_event() -> None:
    tracker = SwitchTracker()
    tracker.update(_poll(0, 0, errors=10), polled_at=0.0)
    reports, changes = tracker.update(_poll(6000, 75_000_000, oper=2, errors=70), polled_at=60.0)
    (report,) = reports
    assert report.in_bps == 10_000_000.0  # 75 MB in 60 s = 1.25 MB/s = 10 Mb/s
    assert report.in_errors_ps == 1.0
    assert report.out_bps is None  # not reported by this agent: never invented
    assert changes == [PortChange(index=3, name="ge-0/0/3", previous="up", current="down")]


def test_counter_reset_is_discarded_and_rebaselined() -> None:
    tracker = SwitchTracker()
    tracker.update(_poll(0, 10_000), polled_at=0.0)
    reports, _ = tracker.update(_poll(6000, 5), polled_at=60.0)
    assert reports[0].in_bps is None
    assert reports[0].discarded == ("counter_reset",)
    reports, _ = tracker.update(_poll(12000, 6005), polled_at=120.0)
    assert reports[0].in_bps == 800.0


def test_reboot_discards_every_rate() -> None:
    tracker = SwitchTracker()
    tracker.update(_poll(900_000, 10_000), polled_at=0.0)
    reports, _ = tracker.update(_poll(500, 20_000), polled_at=60.0)
    assert reports[0].in_bps is None
    assert reports[0].in_errors_ps is None
    assert reports[0].discarded == ("agent_restarted",)


def test_restart_hidden_by_a_grown_uptime_discards_then_recovers() -> None:
    tracker = SwitchTracker()
    tracker.update(_poll(200, 0), polled_at=10.0, requested_at=9.99)
    # Restarted between polls: 0.8 s of uptime over 8 s of ours, counters kept counting.
    reports, _ = tracker.update(_poll(280, 8_000_000), polled_at=18.0, requested_at=17.99)
    assert reports[0].in_bps is None
    assert reports[0].in_errors_ps is None
    assert reports[0].discarded == ("agent_restarted",)
    # The restarted sample is the new baseline: the next poll has a rate again.
    reports, _ = tracker.update(_poll(1280, 9_000_000), polled_at=28.0, requested_at=27.99)
    assert reports[0].discarded == ()
    assert reports[0].in_bps == 800_000.0  # 1 MB in 10 s = 100 kB/s = 800 kb/s


def test_vanished_port_is_forgotten() -> None:
    tracker = SwitchTracker()
    tracker.update(_poll(0, 0), polled_at=0.0)
    empty = SwitchPoll(uptime_ticks=6000, sys_name="sw1", interfaces={}, requests=1)
    assert tracker.update(empty, polled_at=60.0) == ([], [])
    reports, changes = tracker.update(_poll(12000, 100), polled_at=120.0)
    assert changes == []
    assert reports[0].in_bps is None


def test_row_label_falls_back() -> None:
    assert InterfaceRow(index=7).label == "if7"
    assert InterfaceRow(index=7, descr="Gi0/7").label == "Gi0/7"


_cells = st.lists(
    st.tuples(
        st.one_of(
            st.lists(st.integers(0, 2**32), max_size=12).map(tuple),
            st.sampled_from([*(col for col in COLUMNS.values())]).flatmap(
                lambda col: st.integers(0, 2**31).map(lambda i: (*col, i))
            ),
        ),
        st.one_of(st.integers(-(2**64), 2**64), st.text(max_size=300)),
    ),
    max_size=60,
)


@given(_cells)
def test_build_rows_takes_anything_an_agent_may_send(
    cells: list[tuple[tuple[int, ...], int | str]],
) -> None:
    rows = build_rows(cells)
    for index, row in rows.items():
        assert row.index == index
        assert row.alias is None or len(row.alias) <= 255
        assert row.hc_in_octets is None or row.hc_in_octets >= 0
        assert row.oper is None or row.oper in {*OPER_STATUS.values(), "unknown"}
    SwitchTracker().update(SwitchPoll(0, None, rows, 1), polled_at=0.0)
