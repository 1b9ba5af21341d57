"""A thin stand-in for the few Grafana HTTP API calls ``collector.dashboards.push`` makes.

Grafana cannot be installed on these machines (not in Debian, PyPI or npm), so the push
is tested against this: a real HTTP server on a free loopback port (in a thread of the
test process) that answers like Grafana 11 does for ``GET /api/health``,
``POST /api/folders``, ``POST``/``PUT`` datasources and ``POST /api/dashboards/db``
(versions counted per uid; ``overwrite: false`` on an existing uid -> 412), checks the
``Authorization`` header against the expected token (401 otherwise), and records every
request. :attr:`FakeGrafana.answers` forces an answer for a method and path, to play a
Grafana that refuses (403, 404, 412 ...). It proves the client side of the protocol,
not Grafana's behaviour: that is for a check in a real Grafana (dashboards/PROOF.md).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, Self

from sandbox.servers.base import LOOPBACK

if TYPE_CHECKING:
    from email.message import Message
    from types import TracebackType


@dataclass
class Recorded:
    """One request the fake received."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class _State:
    token: str
    requests: list[Recorded] = field(default_factory=list)
    answers: dict[tuple[str, str], tuple[int, dict[str, Any]]] = field(default_factory=dict)
    dashboards: dict[str, dict[str, Any]] = field(default_factory=dict)
    versions: dict[str, int] = field(default_factory=dict)
    folders: set[str] = field(default_factory=set)
    datasources: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


class FakeGrafana:
    """The stand-in on ``127.0.0.1:<free port>`` (see the module docstring); a context manager."""

    def __init__(self, token: str = "glsa_test_token") -> None:  # noqa: S107 - a test token
        """Prepare a server expecting ``Authorization: Bearer <token>``."""
        self.state = _State(token=token)
        state = self.state

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                del format, args  # quiet: the test reads the recorded requests

            def do_GET(self) -> None:
                self._handle("GET")

            def do_POST(self) -> None:
                self._handle("POST")

            def do_PUT(self) -> None:
                self._handle("PUT")

            def _handle(self, method: str) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                with state.lock:
                    state.requests.append(Recorded(method, self.path, dict(self.headers), body))
                    status, reply = _answer(state, method, self.path, self.headers, body)
                data = json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="fake-grafana", daemon=True
        )

    @property
    def url(self) -> str:
        """The root URL, like ``http://127.0.0.1:3000``."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def requests(self) -> list[Recorded]:
        """Every request so far, oldest first."""
        with self.state.lock:
            return list(self.state.requests)

    @property
    def answers(self) -> dict[tuple[str, str], tuple[int, dict[str, Any]]]:
        """``(method, path) -> (status, JSON body)`` answered instead of the normal reply."""
        return self.state.answers

    @property
    def dashboards(self) -> dict[str, dict[str, Any]]:
        """The stored dashboards by uid."""
        with self.state.lock:
            return dict(self.state.dashboards)

    def start(self) -> Self:
        """Serve from a thread (the socket already listens)."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        """Start serving."""
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Stop serving."""
        self.stop()


def _answer(  # noqa: PLR0911 - one return per route, as a router reads
    state: _State,
    method: str,
    path: str,
    headers: Message,
    body: Any,  # noqa: ANN401 - parsed JSON
) -> tuple[int, dict[str, Any]]:
    if (method, path) in state.answers:
        return state.answers[(method, path)]
    if path == "/api/health":
        return 200, {"commit": "fake", "database": "ok", "version": "11.6.0"}
    if headers.get("Authorization") != f"Bearer {state.token}":
        return 401, {"message": "Invalid API key", "traceID": ""}
    if method == "POST" and path == "/api/folders":
        if body["uid"] in state.folders:
            return 412, {"message": "a folder with the same uid already exists"}
        state.folders.add(body["uid"])
        return 200, {"uid": body["uid"], "title": body["title"], "id": len(state.folders)}
    if method == "POST" and path == "/api/datasources":
        if body["uid"] in state.datasources:
            return 409, {"message": "data source with the same name already exists"}
        state.datasources[body["uid"]] = body
        return 200, {"message": "Datasource added", "datasource": body}
    if method == "PUT" and path.startswith("/api/datasources/uid/"):
        state.datasources[path.rsplit("/", 1)[1]] = body
        return 200, {"message": "Datasource updated"}
    if method == "POST" and path == "/api/dashboards/db":
        return _save_dashboard(state, body)
    return 404, {"message": "Not found"}


def _save_dashboard(state: _State, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    dashboard = body["dashboard"]
    uid = dashboard["uid"]
    folder = body.get("folderUid")
    if folder is not None and folder not in state.folders:
        return 400, {"message": "folder not found", "status": "folder-not-found"}
    if uid in state.dashboards and not body.get("overwrite"):
        return 412, {
            "message": "The dashboard has been changed by someone else",
            "status": "version-mismatch",
        }
    version = state.versions.get(uid, 0) + 1
    state.versions[uid] = version
    state.dashboards[uid] = {**dashboard, "version": version, "folderUid": folder}
    return 200, {
        "id": len(state.dashboards),
        "uid": uid,
        "url": f"/d/{uid}/{uid}",
        "status": "success",
        "version": version,
    }


__all__ = ["FakeGrafana", "Recorded"]
