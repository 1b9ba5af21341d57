"""SNMP polling against a real Net-SNMP snmpd: v2c, v3 authPriv, restarts, isolation."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import TYPE_CHECKING

from edge_agent.snmp.client import SnmpError
from edge_agent.snmp.poller import PollResult, SnmpThread, SwitchPoller
from edge_agent.snmp.settings import SnmpV3User, SwitchSettings
from sandbox.servers import free_port
from sandbox.snmpd import COMMUNITY, V3_AUTH_KEY, V3_PRIV_KEY, V3_USER, Snmpd
from sandbox.waiting import wait_until

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from edge_agent.snmp.tracker import InterfaceReport

WAIT_S = 15.0


def _v2c(agent: Snmpd, **overrides: object) -> SwitchSettings:
    fields: dict[str, object] = {
        "id": "sw-lantai1",
        "host": agent.host,
        "port": agent.port,
        "community": COMMUNITY,
        "timeout_s": 1.0,
        "retries": 0,
    }
    fields.update(overrides)
    return SwitchSettings.model_validate(fields)


def _poll(settings: SwitchSettings) -> PollResult:
    poller = SwitchPoller(settings, lambda _result: None)

    async def once() -> PollResult:
        try:
            return await poller.poll_once()
        finally:
            poller.close()

    return asyncio.run(once())


def test_v2c_poll_reads_the_interface_table(snmpd: Snmpd) -> None:
    result = _poll(_v2c(snmpd))
    assert result.error is None
    assert result.poll is not None
    assert result.poll.sys_name == "sw-test"
    assert result.poll.uptime_ticks >= 0
    names = {row.label for row in result.poll.interfaces.values()}
    assert "lo" in names
    loopback = next(row for row in result.poll.interfaces.values() if row.label == "lo")
    assert loopback.oper == "up"
    assert loopback.hc_in_octets is not None


def test_v3_auth_priv_poll(snmpd: Snmpd) -> None:
    settings = _v2c(
        snmpd,
        version="3",
        community=None,
        v3=SnmpV3User.model_validate(
            {"user": V3_USER, "auth_key": V3_AUTH_KEY, "priv_key": V3_PRIV_KEY}
        ),
    )
    result = _poll(settings)
    assert result.error is None
    assert result.poll is not None
    assert result.poll.interfaces


def test_wrong_community_is_an_error_not_a_crash(snmpd: Snmpd) -> None:
    result = _poll(_v2c(snmpd, community="wrong", timeout_s=0.3))
    assert result.poll is None
    assert result.error is not None
    assert "No SNMP response" in result.error


async def _poll_until(
    poller: SwitchPoller, condition: Callable[[PollResult], bool], *, what: str
) -> PollResult:
    """Poll until a poll satisfies ``condition`` (every poll also moves the baseline)."""
    deadline = time.monotonic() + WAIT_S
    while True:
        result = await poller.poll_once()
        if result.poll is not None and condition(result):
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {WAIT_S:g} s waiting until {what}")
        await asyncio.sleep(0.02)  # between attempts of a condition, not instead of one


def _uptime(result: PollResult) -> int:
    assert result.poll is not None, result.error
    return result.poll.uptime_ticks


def _loopback(result: PollResult) -> InterfaceReport:
    return next(r for r in result.reports if r.name == "lo")


def test_restarted_agent_discards_rates_then_recovers(snmpd: Snmpd) -> None:
    poller = SwitchPoller(_v2c(snmpd), lambda _result: None)

    async def scenario() -> tuple[PollResult, PollResult, PollResult]:
        try:
            # A baseline 2 s into snmpd's life: a restart then reads back a lower uptime,
            # never the same one (CI once saw a fresh snmpd read 0.03 s both times).
            first = await _poll_until(
                poller, lambda r: _uptime(r) >= 200, what="snmpd has been up 2 s"
            )
            # snmpd's uptime must advance between polls for a rate to exist.
            second = await _poll_until(
                poller,
                lambda r: _uptime(r) > _uptime(first),
                what="snmpd's sysUpTime advances past the first poll's",
            )
            await asyncio.to_thread(snmpd.restart)  # blocking: off the event loop
            after_restart = await poller.poll_once()
            recovered = await _poll_until(
                poller,
                lambda r: _uptime(r) > _uptime(after_restart),
                what="the restarted snmpd's sysUpTime advances",
            )
        finally:
            poller.close()
        return second, after_restart, recovered

    second, after_restart, recovered = asyncio.run(scenario())
    assert _loopback(second).discarded == ()
    assert _loopback(second).in_bps is not None
    # Whichever rule saw it (uptime down, or disagreeing with our clock), no rate.
    assert _loopback(after_restart).in_bps is None
    assert _loopback(after_restart).discarded == ("agent_restarted",)
    assert _loopback(recovered).discarded == ()
    assert _loopback(recovered).in_bps is not None


def test_two_restarts_whose_uptime_grew_back_are_not_a_rate(snmpd: Snmpd) -> None:
    """Issue 9: snmpd restarted twice between polls, its uptime back above the last one."""
    poller = SwitchPoller(_v2c(snmpd), lambda _result: None)
    margin_ticks = 30  # the new uptime must be past the old: the "went down" rule is blind

    async def scenario() -> tuple[PollResult, PollResult]:
        try:
            # A baseline taken 2 s into snmpd's life, so two restarts take long enough to see.
            before = await _poll_until(
                poller, lambda r: _uptime(r) >= 200, what="snmpd has been up 2 s"
            )
            for _ in range(2):
                await asyncio.to_thread(snmpd.restart)
            # Watch the new uptime with a second client, so the poller's baseline stays put.
            watcher = SwitchPoller(_v2c(snmpd, id="watcher"), lambda _result: None)
            try:
                await _poll_until(
                    watcher,
                    lambda r: _uptime(r) > _uptime(before) + margin_ticks,
                    what="the twice-restarted snmpd's uptime passes the baseline's",
                )
            finally:
                watcher.close()
            after = await poller.poll_once()
        finally:
            poller.close()
        return before, after

    before, after = asyncio.run(scenario())
    assert _uptime(after) > _uptime(before)  # uptime grew: only the poller's clock can tell
    lo = _loopback(after)
    assert lo.in_bps is None
    assert lo.out_bps is None
    assert lo.discarded == ("agent_restarted",)


def test_a_dead_switch_never_delays_a_live_one(snmpd: Snmpd) -> None:
    results: list[PollResult] = []
    lock = threading.Lock()

    def collect(result: PollResult) -> None:
        with lock:
            results.append(result)

    live = _v2c(snmpd, id="sw-live", interval_s=1.0)
    # Nothing listens there: each of its polls takes timeout x (retries + 1) = 6 s.
    dead = _v2c(snmpd, id="sw-dead", port=free_port("udp"), timeout_s=3.0, retries=1)
    thread = SnmpThread([SwitchPoller(live, collect), SwitchPoller(dead, collect)])
    started = time.monotonic()
    thread.start()
    try:
        wait_until(
            lambda: sum(r.switch == "sw-live" and r.error is None for r in results) >= 3,
            timeout=5.5,
            what="three good polls of the live switch while the dead one is still timing out",
        )
        assert not any(r.switch == "sw-dead" for r in results)
        assert time.monotonic() - started < 6.0
    finally:
        thread.stop(timeout=10)
    assert not thread.is_alive()


def test_unreachable_then_back_is_reported(tmp_path: Path) -> None:
    agent = Snmpd(tmp_path / "snmpd")
    settings = _v2c(agent, timeout_s=0.3)
    results: list[PollResult] = []
    poller = SwitchPoller(settings, results.append)

    async def scenario() -> None:
        with agent:
            results.append(await poller.poll_once())
        results.append(await poller.poll_once())  # agent stopped: no answer
        with agent:
            results.append(await poller.poll_once())
        poller.close()

    asyncio.run(scenario())
    assert [r.reachability_changed for r in results] == [None, False, True]
    assert results[1].error is not None


def test_snmp_error_is_an_agent_error() -> None:
    assert issubclass(SnmpError, Exception)
