"""A local HTTP server process recording the JSON POSTs a webhook channel sends it.

:class:`Webhook` runs :mod:`sandbox.servers.webhook_main` as a child process on a free
loopback port. It answers every POST with :attr:`Webhook.status` (200 by default; set it
to 500 to simulate a chat gateway that fails, back to 200 to let it recover: no restart
needed) and records each request, whatever it answered; :meth:`Webhook.requests` reads them
back, :meth:`Webhook.wait_for_requests` waits for some.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

import urllib3

from sandbox.servers.base import LOOPBACK, Server, free_port
from sandbox.servers.pyserver import child_env
from sandbox.waiting import wait_until

if TYPE_CHECKING:
    from pathlib import Path


class Webhook(Server):
    """The recording HTTP server on ``127.0.0.1:<port>`` (see the module docstring)."""

    name = "webhook"

    def __init__(self, workdir: Path, *, status: int = 200, port: int | None = None) -> None:
        """Prepare a server in ``workdir`` answering POSTs with ``status``."""
        super().__init__(workdir)
        self.host = LOOPBACK
        self.port = port if port is not None else free_port()
        self._http = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(2.0))
        self.status = status

    @property
    def status(self) -> int:
        """The status code POSTs are answered with (read by the server on every request)."""
        return int(self._status_path.read_text(encoding="utf-8"))

    @status.setter
    def status(self, code: int) -> None:
        self._status_path.write_text(str(code), encoding="utf-8")

    @property
    def _status_path(self) -> Path:
        return self.workdir / "status"

    def url(self, path: str = "/hook") -> str:
        """The URL of ``path`` on this server."""
        return f"http://{self.host}:{self.port}{path}"

    def _env(self) -> dict[str, str]:
        return child_env()

    def _argv(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "sandbox.servers.webhook_main",
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--folder",
            str(self.workdir),
        ]

    def _is_ready(self) -> bool:
        try:
            return self._http.request("GET", self.url("/ready")).status == 200
        except urllib3.exceptions.HTTPError:
            return False

    def requests(self) -> list[dict[str, Any]]:
        """Every POST received so far (all runs), oldest first: path, headers, body, status."""
        return [
            json.loads(path.read_text(encoding="utf-8"))
            for path in sorted((self.workdir / "requests").glob("*.json"))
        ]

    def wait_for_requests(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Wait until at least ``count`` POSTs were received; return them all."""

        def enough() -> list[dict[str, Any]] | None:
            found = self.requests()
            return found if len(found) >= count else None

        return wait_until(enough, timeout=timeout, what=f"the webhook got {count} request(s)")


__all__ = ["Webhook"]
