"""Real servers for the tests, the demo and the benchmarks; production code never imports it.

It is not part of the installed packages: tests, ``make demo`` and ``make bench`` import it
from the checkout. Its rooms:

- :mod:`sandbox.servers`: one module per server (Mosquitto, InfluxDB 1.x, socat ptys
  standing in for serial readers, snmpd standing in for a switch, VictoriaMetrics for the
  InfluxDB v2 write API) on free loopback ports, each in its own work folder, stopped by PID.
- :mod:`sandbox.demo`: what ``make demo`` runs (``python -m sandbox.demo``).
- :mod:`sandbox.bench`: what ``make bench`` runs (``python -m sandbox.bench``).

and the tools they share, one module each:

- :mod:`sandbox.processes`: child processes with a log file (the base of the servers,
  and how the agent and collector CLIs are run).
- :mod:`sandbox.waiting`: :func:`wait_until`, the one way tests wait.
- :mod:`sandbox.logbook`: which logs matter right now, so a failure shows their tails.
- :mod:`sandbox.card_frames`: frames an RDM6300 reader sends.
- :mod:`sandbox.load`: numbered card reads published at a steady pace (fault tests).
- :mod:`sandbox.supervisor`: restarts a dead or frozen child, standing in for systemd.
- :mod:`sandbox.probes`: test-side MQTT clients, and the agent in a thread or a process.
- :mod:`sandbox.deployment`: ``pelangi-agent`` + ``pelangi-collector`` run for real.

:mod:`sandbox.probes`, :mod:`sandbox.deployment`, the demo and the benchmarks import the
deployables (``edge_agent``, ``collector``), so this package does not import them: only
what needs nothing but ``pelangi`` is re-exported here.

Errors::

    PelangiError
    └── SandboxError          a program is missing, failed, or a server answered badly
        ├── ServerError       a server did not start; the message carries its log tail
        ├── InfluxQueryError  InfluxDB refused a query or write
        └── DemoFailedError   something ``make demo`` checks did not hold

:func:`wait_until` raises the built-in :class:`TimeoutError`, naming what it waited for.
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
