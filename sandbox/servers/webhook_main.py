"""The HTTP server process behind :class:`sandbox.servers.webhook.Webhook` (standard library only).

Run as ``python -m sandbox.servers.webhook_main --port P --folder DIR``. Every POST is
answered with the status code written in ``DIR/status`` (200 when the file is missing),
read again for each request so a test can switch the server from failing to working
without a restart, and recorded as ``DIR/requests/NNNNNN.json``: the path, the headers,
the body (parsed when it is JSON, else the text) and the status it was answered with.
``GET /ready`` always answers 200, for the parent to wait on.
"""

from __future__ import annotations

import argparse
import itertools
import json
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence


class Recording(ThreadingHTTPServer):
    """The server, with where it records and a thread-safe request counter."""

    def __init__(self, address: tuple[str, int], folder: Path) -> None:
        """Listen on ``address``; record into ``folder``."""
        super().__init__(address, Handler)
        self.folder = folder
        self.requests = folder / "requests"
        self.requests.mkdir(parents=True, exist_ok=True)
        start = 1 + max((int(p.stem) for p in self.requests.glob("*.json")), default=0)
        self._numbers = itertools.count(start)
        self._lock = threading.Lock()

    def status(self) -> int:
        """The status code to answer with now."""
        try:
            return int((self.folder / "status").read_text(encoding="utf-8").strip())
        except FileNotFoundError:
            return 200

    def record(self, entry: dict[str, Any]) -> None:
        """Write one request, aside then renamed, so a reader never sees half of it."""
        with self._lock:
            number = next(self._numbers)
        final = self.requests / f"{number:06d}.json"
        partial = final.with_suffix(".partial")
        partial.write_text(json.dumps(entry, ensure_ascii=False), encoding="utf-8")
        partial.rename(final)


class Handler(BaseHTTPRequestHandler):
    """Answers POSTs with the configured status and records them."""

    server: Recording

    def do_GET(self) -> None:
        """``/ready``: 200; anything else: 404."""
        self._answer(200 if self.path == "/ready" else 404)

    def do_POST(self) -> None:
        """Record the request and answer with the configured status."""
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length).decode("utf-8", errors="replace")
        try:
            body: Any = json.loads(raw)
        except json.JSONDecodeError:
            body = raw
        status = self.server.status()
        self.server.record(
            {"path": self.path, "headers": dict(self.headers), "body": body, "status": status}
        )
        self._answer(status)

    def _answer(self, status: int) -> None:
        payload = json.dumps({"status": status}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002, ANN401 - the base signature
        """One line per request on stderr (the server's log), flushed."""
        sys.stderr.write(f"{self.address_string()} {format % args}\n")
        sys.stderr.flush()


def main(argv: Sequence[str] | None = None) -> None:
    """Serve until SIGTERM or SIGINT."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--folder", required=True)
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    server = Recording((args.host, args.port), Path(args.folder))

    def stop(signum: int, frame: object) -> None:
        del signum, frame
        # shutdown() waits for serve_forever(), which runs in this very thread: hand it off.
        threading.Thread(target=server.shutdown).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    server.serve_forever(poll_interval=0.05)
    server.server_close()


if __name__ == "__main__":
    main()
