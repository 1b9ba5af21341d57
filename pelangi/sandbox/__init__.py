"""Real servers for the tests and the demo; production code never imports this package.

- :mod:`pelangi.sandbox.servers`: Mosquitto, InfluxDB 1.x and socat ptys (simulated serial
  readers) on free loopback ports, each in its own work folder, stopped by PID.
- :mod:`pelangi.sandbox.processes`: child processes with a log file (the base of the above,
  and how the agent and collector CLIs are run).
- :mod:`pelangi.sandbox.waiting`: :func:`wait_until`, the one way tests wait.
- :mod:`pelangi.sandbox.victoria`: VictoriaMetrics, a real server for the InfluxDB v2 write API.
- :mod:`pelangi.sandbox.supervisor`: restarts a dead or frozen child, standing in for systemd.
- :mod:`pelangi.sandbox.load`: numbered card reads published at a steady pace (fault tests).
- :mod:`pelangi.sandbox.rdm6300`: frames an RDM6300 reader sends.
- :mod:`pelangi.sandbox.pipeline`: ``pelangi-agent`` + ``pelangi-collector`` run for real
  (imported on its own: it depends on both deployables).
- :mod:`pelangi.sandbox.demo`: what ``make demo`` runs.

Errors::

    PelangiError
    └── SandboxError        a program is missing, failed, or a server answered badly
        ├── ServerError     a server did not start; the message carries its log tail
        └── InfluxQueryError  InfluxDB refused a query or write
"""

from pelangi.sandbox.processes import (
    ChildProcess,
    SandboxError,
    ServerError,
    find_program,
    venv_program,
)
from pelangi.sandbox.rdm6300 import rdm6300_frame
from pelangi.sandbox.servers import (
    InfluxDB,
    InfluxQueryError,
    Mosquitto,
    SerialPty,
    Server,
    free_port,
)
from pelangi.sandbox.waiting import wait_until

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
