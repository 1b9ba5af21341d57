"""SNMP benchmark: a full interface-table poll through the agent against ``snmpbulkwalk``.

Target (issue): a full poll of a switch's interface table through the agent costs at most
3x an ``snmpbulkwalk`` of the same table, measured side by side in one run.

Both sides read the same two tables from the same private ``snmpd``:

- ``snmpbulkwalk -v2c -c COMMUNITY -m "" -Cr25 HOST:PORT 1.3.6.1.2.1.2.2.1`` followed by
  the same for ``1.3.6.1.2.1.31.1.1.1`` (the agent reads columns of both tables), as two
  processes, so each sample includes two process starts;
- ``SwitchClient(host, port, auth).poll()`` repeated in one asyncio loop, one client
  (engine and socket kept across polls, as the agent's poller does).

Two tables are measured: the machine's own interfaces (what snmpd serves by itself, a
handful of rows) and a simulated 48-port switch (48 extra rows of both tables added with
snmpd ``override`` lines). SNMPv3 authPriv figures are shown for information.
"""

from __future__ import annotations

import asyncio
import math
import os
import re
import statistics
import subprocess
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from edge_agent.snmp.client import SwitchClient, V2cAuth, V3Auth
from sandbox.bench.report import BenchResult, Check, Table, millis, ratio
from sandbox.processes import SandboxError, find_program
from sandbox.servers.snmpd import COMMUNITY, V3_AUTH_KEY, V3_PRIV_KEY, V3_USER, Snmpd

if TYPE_CHECKING:
    from pathlib import Path

NAME: Final = "snmp"
IF_TABLE: Final = "1.3.6.1.2.1.2.2.1"
IFX_TABLE: Final = "1.3.6.1.2.1.31.1.1.1"
REPEATS: Final = 50
QUICK_REPEATS: Final = 10
SIMULATED_PORTS: Final = 48
FIRST_SIMULATED_INDEX: Final = 1001
"""Simulated ports start here, clear of the machine's own ifIndex values."""
TARGET_RATIO: Final = 3.0
MAX_REPETITIONS: Final = 25
"""``-Cr25`` for snmpbulkwalk, and the agent's default GETBULK max-repetitions."""

_IF_INDEX_CELL = re.compile(r"3\.6\.1\.2\.1\.2\.2\.1\.1\.(\d+) = ")


class SimulatedSwitch(Snmpd):
    """The sandbox snmpd plus 48 simulated switch ports in ifTable and ifXTable.

    snmpd's ``override`` cannot make Counter64 values, so the HC counters of the simulated
    ports are Counter32 (a few bytes shorter on the wire than a real switch's).
    """

    name = "snmpd-switch"

    def __init__(self, workdir: Path, *, ports: int = SIMULATED_PORTS) -> None:
        """Prepare an snmpd in ``workdir`` serving ``ports`` simulated ports."""
        super().__init__(workdir, sys_name="sw-bench-48")
        self.ports = ports

    def _prepare(self) -> None:
        super()._prepare()
        with self.conf_path.open("a", encoding="utf-8") as conf:
            conf.write("\n".join(simulated_port_lines(self.ports)) + "\n")


def simulated_port_lines(ports: int) -> list[str]:
    """snmpd.conf ``override`` lines for ``ports`` rows of ifTable and ifXTable (all columns)."""
    lines = []
    for port in range(1, ports + 1):
        index = FIRST_SIMULATED_INDEX + port - 1
        up = port % 3 != 0  # a third of the desks are empty
        # Counters of different magnitudes, so their BER encodings differ in length as on a switch.
        traffic = (port * 2_654_435_761) % 4_000_000_000
        if_table: list[tuple[str, str]] = [
            ("integer", str(index)),  # ifIndex
            ("octet_str", f'"GigabitEthernet1/0/{port}"'),  # ifDescr
            ("integer", "6"),  # ifType ethernetCsmacd
            ("integer", "1500"),  # ifMtu
            ("uinteger", "1000000000" if up else "10000000"),  # ifSpeed (Gauge32)
            ("octet_str", f'"mac{port:03d}"'),  # ifPhysAddress (6 octets)
            ("integer", "1"),  # ifAdminStatus up
            ("integer", "1" if up else "2"),  # ifOperStatus
            ("uinteger", str(port * 100)),  # ifLastChange
            ("counter", str(traffic)),  # ifInOctets
            ("counter", str(traffic // 700)),  # ifInUcastPkts
            ("counter", str(port * 31)),  # ifInNUcastPkts
            ("counter", str(port % 5)),  # ifInDiscards
            ("counter", str(port % 7)),  # ifInErrors
            ("counter", "0"),  # ifInUnknownProtos
            ("counter", str(traffic // 3)),  # ifOutOctets
            ("counter", str(traffic // 2100)),  # ifOutUcastPkts
            ("counter", str(port * 17)),  # ifOutNUcastPkts
            ("counter", str(port % 3)),  # ifOutDiscards
            ("counter", "0"),  # ifOutErrors
            ("uinteger", "0"),  # ifOutQLen
            ("object_id", ".0.0"),  # ifSpecific
        ]
        if_x_table: list[tuple[str, str]] = [
            ("octet_str", f'"Gi1/0/{port}"'),  # ifName
            ("counter", str(port * 29)),  # ifInMulticastPkts
            ("counter", str(port * 13)),  # ifInBroadcastPkts
            ("counter", str(port * 11)),  # ifOutMulticastPkts
            ("counter", str(port * 7)),  # ifOutBroadcastPkts
            ("counter", str(traffic)),  # ifHCInOctets (Counter64 on a switch)
            ("counter", str(traffic // 700)),  # ifHCInUcastPkts
            ("counter", str(port * 29)),  # ifHCInMulticastPkts
            ("counter", str(port * 13)),  # ifHCInBroadcastPkts
            ("counter", str(traffic // 3)),  # ifHCOutOctets
            ("counter", str(traffic // 2100)),  # ifHCOutUcastPkts
            ("counter", str(port * 11)),  # ifHCOutMulticastPkts
            ("counter", str(port * 7)),  # ifHCOutBroadcastPkts
            ("integer", "1"),  # ifLinkUpDownTrapEnable
            ("uinteger", "1000" if up else "10"),  # ifHighSpeed
            ("integer", "2"),  # ifPromiscuousMode false
            ("integer", "1"),  # ifConnectorPresent true
            ("octet_str", f'"desk {port} lantai 2"'),  # ifAlias
            ("uinteger", "0"),  # ifCounterDiscontinuityTime
        ]
        for table, columns in ((IF_TABLE, if_table), (IFX_TABLE, if_x_table)):
            lines += [
                f"override {table}.{column}.{index} {kind} {value}"
                for column, (kind, value) in enumerate(columns, start=1)
            ]
    return lines


@dataclass(frozen=True, slots=True)
class Timing:
    """Repeated timings of one way of reading the tables."""

    method: str
    auth: str
    samples: tuple[float, ...]
    interfaces: int
    requests: int | None = None
    """SNMP requests per poll (the agent's; not known for snmpbulkwalk)."""

    @property
    def median(self) -> float:
        """Median seconds per poll."""
        return statistics.median(self.samples)

    @property
    def p95(self) -> float:
        """95th percentile (nearest rank) seconds per poll."""
        ordered = sorted(self.samples)
        return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]

    def figures(self) -> dict[str, Any]:
        """The raw numbers, for the JSON file."""
        return {
            "method": self.method,
            "auth": self.auth,
            "median_s": self.median,
            "p95_s": self.p95,
            "min_s": min(self.samples),
            "repeats": len(self.samples),
            "interfaces": self.interfaces,
            "requests": self.requests,
        }


def _walk_auth_args(version: str) -> list[str]:
    if version == "v2c":
        return ["-v2c", "-c", COMMUNITY]
    # The sandbox snmpd's v3 user: SHA authentication, AES-128 privacy.
    auth = ["-l", "authPriv", "-u", V3_USER, "-a", "SHA", "-A", V3_AUTH_KEY]
    return ["-v3", *auth, "-x", "AES", "-X", V3_PRIV_KEY]


def _walk_once(argv_head: list[str], address: str, env: dict[str, str]) -> int:
    """Walk both tables (two processes); return the number of ifTable rows seen."""
    rows = 0
    for table in (IF_TABLE, IFX_TABLE):
        done = subprocess.run(
            [*argv_head, address, table], capture_output=True, text=True, env=env, check=False
        )
        if done.returncode != 0 or "Timeout" in done.stderr:
            raise SandboxError(
                f"snmpbulkwalk of {table} on {address} failed ({done.returncode}): "
                f"{done.stderr.strip()[-300:]}"
            )
        if table == IF_TABLE:
            rows = len(_IF_INDEX_CELL.findall(done.stdout))
    return rows


def time_walks(agent: Snmpd, version: str, repeats: int, client_dir: Path) -> Timing:
    """Time ``repeats`` snmpbulkwalks of both tables (after one untimed warm-up)."""
    client_dir.mkdir(exist_ok=True)
    # -m "" / MIBS="": Debian has no IF-MIB module. Client state stays in our folder.
    env = {**os.environ, "MIBS": "", "SNMP_PERSISTENT_DIR": str(client_dir)}
    argv_head = [find_program("snmpbulkwalk"), *_walk_auth_args(version), "-m", "", "-Cr25"]
    rows = _walk_once(argv_head, agent.address, env)
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        _walk_once(argv_head, agent.address, env)
        samples.append(time.perf_counter() - started)
    return Timing("snmpbulkwalk ifTable + ifXTable", version, tuple(samples), rows)


def time_polls(agent: Snmpd, version: str, repeats: int) -> Timing:
    """Time ``repeats`` agent polls in one asyncio loop, one client (after one warm-up)."""
    auth: V2cAuth | V3Auth = (
        V2cAuth(COMMUNITY) if version == "v2c" else V3Auth(V3_USER, V3_AUTH_KEY, V3_PRIV_KEY)
    )

    async def polls() -> Timing:
        client = SwitchClient(
            agent.host, agent.port, auth, timeout_s=2.0, max_repetitions=MAX_REPETITIONS
        )
        try:
            first = await client.poll()
            samples = []
            for _ in range(repeats):
                started = time.perf_counter()
                result = await client.poll()
                samples.append(time.perf_counter() - started)
                if len(result.interfaces) != len(first.interfaces):
                    raise SandboxError(
                        f"a poll returned {len(result.interfaces)} interfaces, "
                        f"the first {len(first.interfaces)}"
                    )
        finally:
            client.close()
        return Timing(
            "agent SwitchClient.poll()",
            version,
            tuple(samples),
            len(first.interfaces),
            first.requests,
        )

    return asyncio.run(polls())


@dataclass(frozen=True, slots=True)
class TableRun:
    """All timings against one table (the machine's interfaces, or the simulated switch)."""

    key: str
    label: str
    walk: Timing
    poll: Timing
    walk_v3: Timing
    poll_v3: Timing

    def ratio(self, *, v3: bool = False) -> float:
        """Agent median / snmpbulkwalk median."""
        poll, walk = (self.poll_v3, self.walk_v3) if v3 else (self.poll, self.walk)
        return poll.median / walk.median

    def missing(self) -> list[str]:
        """Interfaces the agent did not return that snmpbulkwalk did (lost data)."""
        return [
            f"{self.label}: agent poll ({poll.auth}) returned {poll.interfaces} interfaces, "
            f"snmpbulkwalk {walk.interfaces}"
            for poll, walk in ((self.poll, self.walk), (self.poll_v3, self.walk_v3))
            if poll.interfaces != walk.interfaces
        ]


def measure(agent: Snmpd, key: str, label: str, repeats: int, workdir: Path) -> TableRun:
    """Time walks and polls, v2c and v3 authPriv, against ``agent``."""
    client_dir = workdir / f"snmp-client-{key}"
    return TableRun(
        key=key,
        label=label,
        walk=time_walks(agent, "v2c", repeats, client_dir),
        poll=time_polls(agent, "v2c", repeats),
        walk_v3=time_walks(agent, "v3", repeats, client_dir),
        poll_v3=time_polls(agent, "v3", repeats),
    )


def _table(run: TableRun, repeats: int) -> Table:
    rows = []
    for timing, base in (
        (run.walk, run.walk),
        (run.poll, run.walk),
        (run.walk_v3, run.walk_v3),
        (run.poll_v3, run.walk_v3),
    ):
        auth = "v2c" if timing.auth == "v2c" else "v3 authPriv"
        rows.append(
            (
                timing.method,
                auth,
                millis(timing.median),
                millis(timing.p95),
                millis(min(timing.samples)),
                "—" if timing.requests is None else str(timing.requests),
                str(timing.interfaces),
                ratio(timing.median / base.median),
                ratio(timing.p95 / base.p95),
            )
        )
    return Table(
        f"{run.label}: {repeats} polls each, ms per poll",
        (
            "method",
            "auth",
            "median",
            "p95",
            "min",
            "requests",
            "interfaces",
            "vs walk median",
            "vs walk p95",
        ),
        tuple(rows),
    )


def run(workdir: Path, *, quick: bool = False, repeats: int | None = None) -> BenchResult:
    """Run the SNMP benchmark in ``workdir``.

    Args:
        workdir: an empty folder for the snmpd work folders; removed by the caller.
        quick: fewer repeats (ignored when ``repeats`` is given).
        repeats: polls per method.
    """
    repeats = repeats or (QUICK_REPEATS if quick else REPEATS)
    with Snmpd(workdir / "snmpd-machine") as machine_agent:
        own = measure(machine_agent, "machine", "the machine's own interfaces", repeats, workdir)
    with SimulatedSwitch(workdir / "snmpd-switch") as switch_agent:
        switch = measure(
            switch_agent,
            "switch48",
            f"simulated {SIMULATED_PORTS}-port switch (+ the machine's own interfaces)",
            repeats,
            workdir,
        )
    checks = tuple(
        Check(
            f"{table_run.label}: agent poll vs snmpbulkwalk (v2c, median)",
            f"<= {TARGET_RATIO:.2f}x",
            ratio(table_run.ratio()),
            table_run.ratio() <= TARGET_RATIO,
        )
        for table_run in (switch, own)
    )
    return BenchResult(
        name=NAME,
        title="a full interface-table poll through the agent vs snmpbulkwalk of the same tables",
        parameters={
            "repeats": repeats,
            "max_repetitions": MAX_REPETITIONS,
            "simulated_ports": SIMULATED_PORTS,
        },
        tables=(_table(switch, repeats), _table(own, repeats)),
        checks=checks,
        figures={
            table_run.key: {
                "label": table_run.label,
                "ratio_v2c_median": table_run.ratio(),
                "ratio_v3_median": table_run.ratio(v3=True),
                "walk_v2c": table_run.walk.figures(),
                "poll_v2c": table_run.poll.figures(),
                "walk_v3": table_run.walk_v3.figures(),
                "poll_v3": table_run.poll_v3.figures(),
            }
            for table_run in (switch, own)
        },
        notes=(
            (
                "A snmpbulkwalk sample is two processes run one after the other (ifTable, then "
                "ifXTable), process start included; an agent sample is one SwitchClient.poll() "
                "on a client kept across polls (engine and socket reused), as the poller does."
            ),
            (
                "Each method gets one untimed warm-up first. SNMPv3 rows are for information: "
                "snmpbulkwalk v3 also discovers the engine in every process."
            ),
            (
                "The agent reads 13 columns (with sysUpTime and sysName in every request); "
                "snmpbulkwalk reads every column of both tables."
            ),
            (
                f"The simulated switch's {SIMULATED_PORTS} ports come from snmpd override lines; "
                "their HC counters are Counter32 (override has no Counter64)."
            ),
        ),
        lost=tuple(switch.missing() + own.missing()),
    )


__all__ = [
    "NAME",
    "REPEATS",
    "SimulatedSwitch",
    "TableRun",
    "Timing",
    "measure",
    "run",
    "simulated_port_lines",
    "time_polls",
    "time_walks",
]
