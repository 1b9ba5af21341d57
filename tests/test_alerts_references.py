"""The rules' references against the inventory: only a birth lacking a device proves it
missing, only interface readings lacking a port, only a grace without a word a gateway."""

from __future__ import annotations

import contextlib
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Final

import pytest

from collector.alerts.observations import GatewaySeen, PortSeen, Source
from collector.alerts.references import (
    GRACE,
    Inventory,
    ReferenceWatch,
    check_references,
)
from collector.alerts.settings import AlertSettings
from collector.config import CollectorSettings
from pelangi.configfile import load, parse
from sandbox.alerts_scenario import GATEWAY, Publisher
from sandbox.processes import ChildProcess
from sandbox.waiting import wait_until

if TYPE_CHECKING:
    from sandbox.alerts_scenario import EngineServers
    from sandbox.logbook import LogBook

REPO: Final = Path(__file__).resolve().parents[1]
EXAMPLE: Final = REPO / "config" / "alerts.example.yaml"
SITE: Final = "bukit-pelangi"
START: Final = datetime(2026, 4, 6, 8, 0, tzinfo=UTC)
SETTINGS: Final = parse(
    """
    doors: [{door: gw-1/pintu-x, readers: [gw-1/rfid-lobby]}]
    switches: [{switch: gw-1/sw-core, critical_ports: [Gi0/1, Gi0/2]}]
    buildings: {kantor: {gateways: [gw-1, gw-2]}}
    """,
    AlertSettings,
)


def birth(
    devices: tuple[str, ...], *, bdseq: int = 1, online: bool = True, site: str = SITE
) -> GatewaySeen:
    source = Source(site, "gw-1", "", START + timedelta(seconds=bdseq))
    return GatewaySeen(source, online, bdseq, 30.0 if online else None, devices)


def port(name: str, gateway: str = "gw-1") -> PortSeen:
    return PortSeen(Source(SITE, gateway, "sw-core", START), name)


def test_the_example_against_an_inventory() -> None:
    settings = load(EXAMPLE, CollectorSettings).alerts
    inventory = Inventory(
        devices={
            (SITE, "gw-kantor-bupati"): frozenset({"pintu-utama", "rfid-lobby"}),
            (SITE, "gw-diskominfo"): frozenset({"pintu-server", "sw-core"}),
        },
        ports={(SITE, "gw-diskominfo", "sw-core"): frozenset({"Gi0/1", "Gi0/3"})},
        heard=frozenset({(SITE, "gw-diskominfo")}),
    )
    assert check_references(settings, inventory) == [
        (
            "doors[1].readers[0]: unknown device 'gw-diskominfo/rfid-server' on site "
            "bukit-pelangi (gateway gw-diskominfo's birth lists: pintu-server, sw-core)"
        ),
        (
            "switches[0].critical_ports[1]: switch 'gw-diskominfo/sw-core' has no port 'Gi0/2' "
            "(its interface readings name: Gi0/1, Gi0/3)"
        ),
        (
            "buildings.kantor-bupati.gateways[0]: unknown gateway 'gw-kantor-bupati' "
            "(never heard from; heard from: gw-diskominfo)"
        ),
    ]


def test_nothing_heard_proves_nothing_missing() -> None:
    watch = ReferenceWatch(SETTINGS, START)
    assert watch.observe([], START) == []
    assert watch.observe([birth(())], START) == []  # an agent from before `devices`
    assert watch.observe([birth((), online=False)], START) == []


def test_a_birth_lacking_the_door_is_said_once_and_again_when_it_comes_back() -> None:
    watch = ReferenceWatch(SETTINGS, START)
    (problem,) = watch.observe([birth(("pintu-utama", "rfid-lobby", "sw-core"))], START)
    assert str(problem) == (
        "doors[0].door: unknown device 'gw-1/pintu-x' on site bukit-pelangi "
        "(gateway gw-1's birth lists: pintu-utama, rfid-lobby, sw-core)"
    )
    assert watch.observe([birth(("pintu-utama", "rfid-lobby", "sw-core"), bdseq=2)], START) == []
    # The Will leaves the birth's list standing: still missing, not said again.
    assert watch.observe([birth((), bdseq=2, online=False)], START) == []
    assert watch.observe([birth(("pintu-x", "rfid-lobby", "sw-core"), bdseq=3)], START) == []
    (again,) = watch.observe([birth(("rfid-lobby", "sw-core"), bdseq=4)], START)
    assert again.line == problem.line
    assert again.evidence == "gateway gw-1's birth lists: rfid-lobby, sw-core"


def test_an_older_birth_delivered_again_does_not_bring_its_list_back() -> None:
    watch = ReferenceWatch(SETTINGS, START)
    watch.observe([birth(("pintu-x", "rfid-lobby", "sw-core"), bdseq=5)], START)
    assert watch.observe([birth(("sw-core",), bdseq=4)], START) == []
    assert watch.inventory().devices[SITE, "gw-1"] == {"pintu-x", "rfid-lobby", "sw-core"}


def test_a_birth_as_long_as_the_contract_allows_may_be_cut_short() -> None:
    devices = tuple(f"d-{n}" for n in range(1024))
    assert ReferenceWatch(SETTINGS, START).observe([birth(devices)], START) == []


def test_a_site_names_its_own_births_only() -> None:
    settings = parse(
        f"doors: [{{site: {SITE}, door: gw-1/pintu-x, readers: [gw-1/pintu-x2]}}]",
        AlertSettings,
    )
    watch = ReferenceWatch(settings, START)
    assert watch.observe([birth(("pintu-y",), site="elsewhere")], START) == []
    lines = [p.line for p in watch.observe([birth(("pintu-y",))], START)]
    assert lines == [
        f"doors[0].door: unknown device 'gw-1/pintu-x' on site {SITE}",
        f"doors[0].readers[0]: unknown device 'gw-1/pintu-x2' on site {SITE}",
    ]


def test_a_critical_port_is_missing_once_the_switch_named_its_ports() -> None:
    watch = ReferenceWatch(SETTINGS, START)
    (problem,) = watch.observe([port("Gi0/1"), port("Gi0/3")], START)
    assert str(problem) == (
        "switches[0].critical_ports[1]: switch 'gw-1/sw-core' has no port 'Gi0/2' "
        "(its interface readings name: Gi0/1, Gi0/3)"
    )
    assert watch.observe([port("Gi0/1")], START) == []
    assert watch.observe([port("Gi0/2")], START) == []
    assert watch.inventory().ports[SITE, "gw-1", "sw-core"] == {"Gi0/1", "Gi0/2", "Gi0/3"}


def test_a_gateway_never_heard_from_is_said_only_after_the_grace() -> None:
    watch = ReferenceWatch(SETTINGS, START)
    assert watch.observe([port("Gi0/1"), port("Gi0/2")], START) == []
    assert watch.tick(START + GRACE - timedelta(seconds=1)) == []
    (problem,) = watch.tick(START + GRACE)
    assert str(problem) == (
        "buildings.kantor.gateways[1]: unknown gateway 'gw-2' (never heard from; heard from: gw-1)"
    )
    assert watch.tick(START + 2 * GRACE) == []
    assert watch.observe([port("Gi0/1", gateway="gw-2")], START + 2 * GRACE) == []
    assert watch.inventory().heard == frozenset({(SITE, "gw-1"), (SITE, "gw-2")})


def test_the_grace_may_end_at_a_message() -> None:
    watch = ReferenceWatch(SETTINGS, START)
    (problem,) = watch.observe([port("Gi0/1"), port("Gi0/2")], START + GRACE)
    assert problem.line == "buildings.kantor.gateways[1]: unknown gateway 'gw-2'"


@pytest.mark.parametrize("state_settings", ["sqlite"], indirect=True)
def test_the_engine_logs_a_door_its_gateways_birth_does_not_list(
    tmp_path: Path, alerts_servers: EngineServers, log_book: LogBook
) -> None:
    config = alerts_servers.config(
        tmp_path / "collector.yaml",
        alerts={"doors": [{"door": f"{GATEWAY}/pintu-x", "readers": [f"{GATEWAY}/rfid-lobby"]}]},
    )
    argv = [sys.executable, "-m", "sandbox.alerts_engine_main", str(config)]
    engine = ChildProcess(argv, log_path=tmp_path / "alerts.log", name="alerts", cwd=REPO)
    expected = (
        "ERROR collector.alerts.references: alerts config: doors[0].door: unknown device "
        f"'{GATEWAY}/pintu-x' on site {SITE} (gateway {GATEWAY}'s birth lists: pintu-utama, "
        "rfid-lobby)"
    )
    with contextlib.ExitStack() as stack:
        stack.callback(log_book.add("alerts", engine))
        stack.enter_context(engine)
        alerts_servers.wait_subscribed()
        publisher = Publisher(alerts_servers.mosquitto.port)
        stack.callback(publisher.close)
        lacking, listing = ("pintu-utama", "rfid-lobby"), ("pintu-x", "rfid-lobby")
        # The heartbeat repeats the birth: not said again. Fixed, then broken again: said again.
        for bdseq, devices in enumerate((lacking, lacking, listing, lacking), start=1):
            publisher.status(online=True, bdseq=bdseq, devices=devices)
        wait_until(
            lambda: engine.log_text().count(expected) == 2,
            timeout=15,
            what="the missing door logged for the first birth and the last",
        )
        assert "alerts config" not in engine.log_text().replace(expected, "")
