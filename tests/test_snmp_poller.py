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
    from pathlib import Path


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


def test_restarted_agent_discards_rates_then_recovers(snmpd: Snmpd) -> None:
    results: list[PollResult] = []
    poller = SwitchPoller(_v2c(snmpd), results.append)

    async def three_polls() -> None:
        results.append(await poller.poll_once())
        # snmpd's uptime must advance between polls for a rate to exist.
        await asyncio.sleep(0.05)
        results.append(await poller.poll_once())
        snmpd.restart()
        results.append(await poller.poll_once())
        poller.close()

    asyncio.run(three_polls())
    first, second, after_restart = results
    lo = next(r for r in second.reports if r.name == "lo")
    assert lo.discarded == ()
    assert lo.in_bps is not None
    assert lo.in_bps >= 0
    lo_after = next(r for r in after_restart.reports if r.name == "lo")
    assert lo_after.in_bps is None
    assert lo_after.discarded == ("agent_restarted",)
    assert first.reports


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
