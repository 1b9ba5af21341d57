"""Timing each way of reading a switch's tables: snmpbulkwalk processes and agent polls.

:mod:`sandbox.bench.snmp` puts them side by side; see its docstring for what each includes.
"""

from __future__ import annotations

import asyncio
import math
import os
import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from edge_agent.snmp.client import SwitchClient, V2cAuth, V3Auth
from sandbox.bench.snmp_switch import IF_TABLE, IFX_TABLE
from sandbox.processes import SandboxError, find_program
from sandbox.servers.snmpd import COMMUNITY, V3_AUTH_KEY, V3_PRIV_KEY, V3_USER, Snmpd

if TYPE_CHECKING:
    from collections.abc import Callable

MAX_REPETITIONS: Final = 25
"""``-Cr25`` for snmpbulkwalk, and the agent's default GETBULK max-repetitions."""
STARTUP_OID: Final = "1.3.6.1.2.1.1.3"
"""sysUpTime: walking it alone is one request for one varbind, so the process is all start-up."""
REPO: Final = Path(__file__).resolve().parents[2]

_IF_INDEX_CELL = re.compile(r"3\.6\.1\.2\.1\.2\.2\.1\.1\.(\d+) = ")

# One poll from a fresh interpreter, as a one-shot poller script would run.
_ONE_POLL: Final = """
import asyncio, sys
from edge_agent.snmp.client import SwitchClient, V2cAuth, V3Auth
host, port, repetitions, version, *secrets = sys.argv[1:]
auth = V2cAuth(*secrets) if version == "v2c" else V3Auth(*secrets)
async def poll():
    client = SwitchClient(host, int(port), auth, timeout_s=2.0, max_repetitions=int(repetitions))
    try:
        return await client.poll()
    finally:
        client.close()
print(len(asyncio.run(poll()).interfaces))
"""


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


def _walk(argv_head: list[str], address: str, subtree: str, env: dict[str, str]) -> str:
    """One snmpbulkwalk process of ``subtree``; its output."""
    done = subprocess.run(
        [*argv_head, address, subtree], capture_output=True, text=True, env=env, check=False
    )
    if done.returncode != 0 or "Timeout" in done.stderr or not done.stdout.strip():
        raise SandboxError(
            f"snmpbulkwalk of {subtree} on {address} failed ({done.returncode}): "
            f"{done.stderr.strip()[-300:]}"
        )
    return done.stdout


def _walk_tables(argv_head: list[str], address: str, env: dict[str, str]) -> int:
    """Walk both tables (two processes); return the number of ifTable rows seen."""
    rows = len(_IF_INDEX_CELL.findall(_walk(argv_head, address, IF_TABLE, env)))
    _walk(argv_head, address, IFX_TABLE, env)
    return rows


def _timed(repeats: int, once: Callable[[], object]) -> tuple[float, ...]:
    """Call ``once()`` untimed (warm-up), then ``repeats`` times timed."""
    once()
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        once()
        samples.append(time.perf_counter() - started)
    return tuple(samples)


def _walk_setup(version: str, client_dir: Path) -> tuple[list[str], dict[str, str]]:
    client_dir.mkdir(exist_ok=True)
    # -m "" / MIBS="": Debian has no IF-MIB module. Client state stays in our folder.
    env = {**os.environ, "MIBS": "", "SNMP_PERSISTENT_DIR": str(client_dir)}
    argv_head = [find_program("snmpbulkwalk"), *_walk_auth_args(version), "-m", "", "-Cr25"]
    return argv_head, env


def time_walks(agent: Snmpd, version: str, repeats: int, client_dir: Path) -> Timing:
    """Time ``repeats`` snmpbulkwalks of both tables (two processes, start-up included)."""
    argv_head, env = _walk_setup(version, client_dir)
    rows = _walk_tables(argv_head, agent.address, env)
    samples = _timed(repeats, lambda: _walk_tables(argv_head, agent.address, env))
    return Timing("snmpbulkwalk ifTable + ifXTable (2 processes)", version, samples, rows)


def time_walk_startups(agent: Snmpd, version: str, repeats: int, client_dir: Path) -> Timing:
    """Time ``repeats`` snmpbulkwalks of sysUpTime alone: one process's start-up cost."""
    argv_head, env = _walk_setup(version, client_dir)
    samples = _timed(repeats, lambda: _walk(argv_head, agent.address, STARTUP_OID, env))
    return Timing("snmpbulkwalk start-up (sysUpTime alone, 1 process)", version, samples, 0)


def _auth(version: str) -> V2cAuth | V3Auth:
    if version == "v2c":
        return V2cAuth(COMMUNITY)
    return V3Auth(V3_USER, V3_AUTH_KEY, V3_PRIV_KEY)


def _secrets(version: str) -> list[str]:
    return [COMMUNITY] if version == "v2c" else [V3_USER, V3_AUTH_KEY, V3_PRIV_KEY]


def time_fresh_polls(agent: Snmpd, version: str, repeats: int) -> Timing:
    """Time ``repeats`` agent polls, each in a fresh Python process (start-up included)."""
    argv = [
        sys.executable,
        "-c",
        _ONE_POLL,
        agent.host,
        str(agent.port),
        str(MAX_REPETITIONS),
        version,
        *_secrets(version),
    ]
    # This checkout's packages, whatever the caller's working directory.
    inherited = os.environ.get("PYTHONPATH")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), inherited]))}
    found: list[int] = []

    def once() -> None:
        done = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
        if done.returncode != 0:
            raise SandboxError(
                f"a one-poll Python process ({version}) failed ({done.returncode}): "
                f"{done.stderr.strip()[-300:]}"
            )
        found.append(int(done.stdout.strip()))

    samples = _timed(repeats, once)
    if len(set(found)) != 1:
        raise SandboxError(f"one-poll processes returned different interface counts: {found}")
    return Timing("agent poll in a fresh python process", version, samples, found[0])


def time_polls(agent: Snmpd, version: str, repeats: int) -> Timing:
    """Time ``repeats`` agent polls in one asyncio loop, one client (after one warm-up)."""

    async def polls() -> Timing:
        client = SwitchClient(
            agent.host, agent.port, _auth(version), timeout_s=2.0, max_repetitions=MAX_REPETITIONS
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
            "agent SwitchClient.poll(), client kept",
            version,
            tuple(samples),
            len(first.interfaces),
            first.requests,
        )

    return asyncio.run(polls())


__all__ = [
    "MAX_REPETITIONS",
    "STARTUP_OID",
    "Timing",
    "time_fresh_polls",
    "time_polls",
    "time_walk_startups",
    "time_walks",
]
