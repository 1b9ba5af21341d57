"""VictoriaMetrics (Debian's ``victoria-metrics``): a real server for the InfluxDB v2 *write* API.

It accepts InfluxDB line protocol on ``/api/v2/write`` (what influxdb-client sends), so the
collector's v2 backend can be tested against a real HTTP server here, where no InfluxDB 2.x
or 3.x can run. It is not InfluxDB: it keeps timestamps in milliseconds, drops string
fields, stores each numeric field as a metric ``<measurement>_<field>`` with the tags as
labels, and answers no InfluxQL/Flux. :meth:`VictoriaMetrics.export` reads data back.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import urllib3

from sandbox.processes import find_program
from sandbox.servers.base import LOOPBACK, Server, free_port

if TYPE_CHECKING:
    from pathlib import Path


class VictoriaMetrics(Server):
    """A private VictoriaMetrics single-node server on a free loopback port."""

    name = "victoria-metrics"

    def __init__(self, workdir: Path, *, port: int | None = None) -> None:
        """Prepare a server with its data in ``workdir``."""
        super().__init__(workdir)
        self.host = LOOPBACK
        self.port = port if port is not None else free_port()
        self._http = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(5.0))

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:40123``."""
        return f"http://{self.host}:{self.port}"

    def _argv(self) -> list[str]:
        return [
            find_program("victoria-metrics"),
            f"-httpListenAddr={self.host}:{self.port}",
            f"-storageDataPath={self.workdir / 'data'}",
            "-retentionPeriod=100y",  # the default (1 month) refuses older test points
            "-loggerLevel=WARN",
        ]

    def _is_ready(self) -> bool:
        try:
            return self._http.request("GET", f"{self.url}/health").status == 200
        except urllib3.exceptions.HTTPError:
            return False

    def export(self, match: str) -> list[dict[str, Any]]:
        """Every series matching ``match`` (a series selector), after a flush."""
        self._http.request("GET", f"{self.url}/internal/force_flush")
        response = self._http.request("GET", f"{self.url}/api/v1/export", fields={"match[]": match})
        text = response.data.decode()
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    def count(self, metric: str) -> int:
        """How many samples ``metric`` holds, over all its series."""
        return sum(len(series["values"]) for series in self.export(f'{{__name__="{metric}"}}'))


__all__ = ["VictoriaMetrics"]
