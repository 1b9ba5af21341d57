"""Real servers for the tests and the demo; production code never imports this package.

- :mod:`sandbox.servers`: one module per server (Mosquitto, InfluxDB 1.x, socat ptys
  standing in for serial readers, snmpd standing in for a switch, VictoriaMetrics for the
  InfluxDB v2 write API) on free loopback ports, each in its own work folder, stopped by PID.
- :mod:`sandbox.processes`: child processes with a log file (the base of the above,
  and how the agent and collector CLIs are run).
- :mod:`sandbox.waiting`: :func:`wait_until`, the one way tests wait.
- :mod:`sandbox.supervisor`: restarts a dead or frozen child, standing in for systemd.
- :mod:`sandbox.load`: numbered card reads published at a steady pace (fault tests).
- :mod:`sandbox.card_frames`: frames an RDM6300 reader sends.
- :mod:`sandbox.deployment`: ``pelangi-agent`` + ``pelangi-collector`` run for real
  (imported on its own: it depends on both deployables).
- :mod:`sandbox.demo`: what ``make demo`` runs.

Errors::

    PelangiError
    └── SandboxError        a program is missing, failed, or a server answered badly
        ├── ServerError     a server did not start; the message carries its log tail
        └── InfluxQueryError  InfluxDB refused a query or write
"""

from sandbox.card_frames import rdm6300_frame
from sandbox.processes import (
    ChildProcess,
    SandboxError,
    ServerError,
    find_program,
    venv_program,
)
from sandbox.servers import (
    InfluxDB,
    InfluxQueryError,
    Mosquitto,
    SerialPty,
    Server,
    free_port,
)
from sandbox.waiting import wait_until

__all__ = [
    "ChildProcess",
    "InfluxDB",
    "InfluxQueryError",
    "Mosquitto",
    "SandboxError",
    "SerialPty",
    "Server",
    "ServerError",
    "find_program",
    "free_port",
    "rdm6300_frame",
    "venv_program",
    "wait_until",
]
