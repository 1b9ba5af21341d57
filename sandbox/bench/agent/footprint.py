"""The footprint of ``pelangi-agent run`` at pilot load: RSS and CPU, read from ``/proc``."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import yaml

from edge_agent.config import AgentSettings
from sandbox.bench.agent.replay import GATEWAY, SITE
from sandbox.bench.procfs import cpu_seconds, status_kib
from sandbox.bench.snmp_switch import SimulatedSwitch
from sandbox.card_frames import rdm6300_frame
from sandbox.probes import announce_collector
from sandbox.processes import ChildProcess, venv_program
from sandbox.servers import Mosquitto, SerialPty
from sandbox.servers.snmpd import COMMUNITY
from sandbox.waiting import wait_until

if TYPE_CHECKING:
    from pathlib import Path

DOORS: Final = 10


@dataclass
class Footprint:
    """RSS and CPU of ``pelangi-agent run`` over a window at pilot load."""

    seconds: float = 0.0
    rss_max: int = 0
    rss_end: int = 0
    cpu_percent: float = 0.0
    lost: list[str] = field(default_factory=list)


def measure_footprint(workdir: Path, window_s: float, switch_interval_s: float) -> Footprint:
    """Run ``pelangi-agent run`` at pilot load for ``window_s`` s and read its RSS and CPU.

    Pilot load: two card readers and :data:`DOORS` doors on ptys, two simulated 48-port
    switches polled every ``switch_interval_s`` s, a tap and a door change now and then.
    """
    result = Footprint()
    with (
        Mosquitto(workdir / "mosquitto-pilot") as broker,
        SerialPty(workdir / "pty", "ttyLOBBY") as lobby,
        SerialPty(workdir / "pty", "ttySIDE") as side,
        SerialPty(workdir / "pty", "ttyDOORS") as doors,
        SimulatedSwitch(workdir / "switch-1") as switch_1,
        SimulatedSwitch(workdir / "switch-2") as switch_2,
    ):
        announce_collector(broker, "collector-1", online=True)
        config: dict[str, Any] = {
            "site": SITE,
            "gateway": GATEWAY,
            "mqtt": {"host": broker.host, "port": broker.port},
            "readers": [
                {"id": "rfid-lobby", "port": str(lobby.device)},
                {"id": "rfid-side", "port": str(side.device)},
            ],
            "doors": [
                {
                    "id": f"door-{n}",
                    "source": "serial",
                    "port": str(doors.device),
                    "remote_id": f"d{n}",
                }
                for n in range(1, DOORS + 1)
            ],
            "switches": [
                {
                    "id": f"sw-{n}",
                    "host": switch.host,
                    "port": switch.port,
                    "community": COMMUNITY,
                    "interval_s": switch_interval_s,
                }
                for n, switch in ((1, switch_1), (2, switch_2))
            ],
            "state_dir": str(workdir / "state-pilot"),
        }
        config_path = workdir / "agent-pilot.yaml"
        config_path.write_text(yaml.safe_dump(config), encoding="utf-8")
        agent = ChildProcess(
            [venv_program("pelangi-agent"), "run", "--config", config_path],
            log_path=workdir / "agent-pilot.log",
            name="pelangi-agent",
        )
        with agent:
            client_id = AgentSettings.model_validate(config).client_id
            wait_until(
                lambda: broker.has_connected(client_id), timeout=30, what="the agent connects"
            )
            # Warm-up: the first polls and the first health reading are done.
            pause = threading.Event()
            pause.wait(5.0)
            started, cpu_start = time.monotonic(), cpu_seconds(agent.pid)
            rss: list[int] = []
            n = 0
            while time.monotonic() - started < window_s:
                rss.append((status_kib(agent.pid, "VmRSS") or 0) * 1024)
                if len(rss) % 20 == 0:  # a tap and a door change now and then
                    n += 1
                    lobby.write(rdm6300_frame(f"01E{n:07X}"))
                    doors.write(f"DOOR d{n % DOORS + 1} {'OPEN' if n % 2 else 'CLOSED'}\n".encode())
                pause.wait(1.0)
            result.seconds = time.monotonic() - started
            result.cpu_percent = 100 * (cpu_seconds(agent.pid) - cpu_start) / result.seconds
            result.rss_max, result.rss_end = max(rss), rss[-1]
            if not agent.running:
                result.lost.append(f"the agent {agent.describe_exit()} during the footprint run")
    return result
