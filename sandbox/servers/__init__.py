"""Real servers on free loopback ports for the tests, the demo and the benchmarks.

One module per server, all with the life cycle of :class:`Server` (:mod:`.base`):

- :mod:`.mosquitto`: :class:`Mosquitto`, a private broker with the product's delivery
  settings (``settings="reference"``) or Mosquitto's own defaults (``"debian"``);
- :mod:`.influxdb`: :class:`InfluxDB` 1.x, its queries and writes
  (:class:`InfluxQueryError` when it refuses one);
- :mod:`.pty`: :class:`SerialPty`, socat pseudo-terminals standing in for a serial reader
  or door controller;
- :mod:`.snmpd`: :class:`Snmpd`, Net-SNMP standing in for a network switch;
- :mod:`.postgres`: :class:`PostgreSQL`, a private cluster for the state database's tests;
- :mod:`.victoria`: :class:`VictoriaMetrics`, a real server for the InfluxDB v2 write API;
- :mod:`.smtp`: :class:`Smtp` (aiosmtpd: plain, STARTTLS or implicit TLS on a throwaway
  certificate from :func:`make_certificate`, AUTH, refused recipients), recording messages;
- :mod:`.webhook`: :class:`Webhook`, an HTTP server recording JSON POSTs, its answer settable.
"""

from sandbox.servers.base import LOOPBACK, Server, free_port
from sandbox.servers.influxdb import InfluxDB, InfluxQueryError
from sandbox.servers.mosquitto import Mosquitto, reference_directives
from sandbox.servers.postgres import PostgreSQL
from sandbox.servers.pty import SerialPty
from sandbox.servers.smtp import Certificate, Smtp, make_certificate
from sandbox.servers.snmpd import Snmpd
from sandbox.servers.victoria import VictoriaMetrics
from sandbox.servers.webhook import Webhook

__all__ = [
    "LOOPBACK",
    "Certificate",
    "InfluxDB",
    "InfluxQueryError",
    "Mosquitto",
    "PostgreSQL",
    "SerialPty",
    "Server",
    "Smtp",
    "Snmpd",
    "VictoriaMetrics",
    "Webhook",
    "free_port",
    "make_certificate",
    "reference_directives",
]
