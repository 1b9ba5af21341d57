"""The running agent's status file: what ``pelangi-agent status`` reads. Never a network port.

Every :data:`STATUS_INTERVAL_S` the agent replaces ``status.json`` in its state directory
(a temporary file, fsync, rename: a reader sees the old document or the new one, never
half of one; mode 0640, readable by the service's group). The content is the health
reading the agent already assembles (:meth:`edge_agent.agent.Agent.health_parts`), laid
out for a person. A document older than :data:`STALE_FACTOR` intervals means the agent
is not running, or stuck.

A failed write is logged (at most every :data:`LOG_EVERY_S`) and never stops the agent:
the status is a convenience, the readings are not.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

from edge_agent.statefile import replace_atomically

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

log = logging.getLogger(__name__)

STATUS_NAME: Final = "status.json"
STATUS_INTERVAL_S: Final = 5.0
"""How often the agent writes it: a technician's ``status`` is at most this old."""
STALE_FACTOR: Final = 3
"""Older than this many intervals: the agent is not running (or its main loop is stuck)."""
STATUS_MODE: Final = 0o640
LOG_EVERY_S: Final = 300.0
FORMAT: Final = 1
DELIVERY_PREFIXES: Final = ("outbox.", "fallback.", "mqtt.", "clock.", "unsendable")
"""Counters of delivery and the clock; every other counter is a driver's."""


def status_path(state_dir: Path) -> Path:
    """The status file of the agent keeping its state in ``state_dir``."""
    return state_dir / STATUS_NAME


def build_status(  # noqa: PLR0913 - the parts of one document
    *,
    identity: Mapping[str, object],
    counters: Mapping[str, int],
    problems: Sequence[str],
    wall_s: float,
    uptime_s: float,
    last_delivery_s: float | None,
    running: bool = True,
) -> dict[str, Any]:
    """The status document (JSON-ready). Pure.

    ``identity``: site, gateway, version, pid, mqtt address; ``counters`` and
    ``problems``: the health reading's; ``last_delivery_s``: when the outbox last saw
    readings acknowledged or confirmed (wall clock, seconds), None if never since start;
    ``running``: False in the last document, written as the agent stops.
    """
    depth = counters.get("outbox.telemetry", 0) + counters.get("outbox.events", 0)
    return {
        "format": FORMAT,
        **identity,
        "running": running,
        "written_at": _iso(wall_s),
        "interval_s": STATUS_INTERVAL_S,
        "uptime_s": round(uptime_s, 1),
        "connected": bool(counters.get("mqtt.connected", 0)),
        "holding": bool(counters.get("mqtt.holding", 0)),
        "bdseq": counters.get("mqtt.bdseq"),
        "outbox": {
            "readings": depth,
            "oldest_age_s": counters.get("outbox.oldest_age_s") if depth else None,
            "bytes": counters.get("outbox.bytes"),
            "max_bytes": counters.get("outbox.max_bytes"),
        },
        "last_delivery_at": None if last_delivery_s is None else _iso(last_delivery_s),
        "drivers": {k: v for k, v in counters.items() if not k.startswith(DELIVERY_PREFIXES)},
        "counters": dict(counters),
        "problems": list(problems),
    }


def age_s(document: Mapping[str, Any], wall_s: float) -> float:
    """Seconds since ``document`` was written (wall clock); ValueError if unreadable."""
    written = datetime.fromisoformat(str(document["written_at"]))
    return wall_s - written.timestamp()


def is_stale(document: Mapping[str, Any], wall_s: float) -> bool:
    """Whether ``document`` is too old to come from a running agent."""
    interval = float(document.get("interval_s", STATUS_INTERVAL_S))
    return age_s(document, wall_s) > STALE_FACTOR * interval


def read_status(path: Path) -> dict[str, Any]:
    """The document in ``path``; raises OSError (none there) or ValueError (not a status)."""
    document = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(document, dict) or "written_at" not in document:
        msg = f"{path} is not an agent status file"
        raise ValueError(msg)
    return document


class StatusWriter:
    """Writes the status file when due; remembers when readings were last delivered."""

    def __init__(self, path: Path) -> None:
        """Write to ``path`` (the first time at the first :meth:`due` check)."""
        self.path = path
        self._next = 0.0
        self._delivered = -1
        self._last_delivery_s: float | None = None
        self._failed_at: float | None = None

    def due(self, now: float) -> bool:
        """Whether to write now (``now``: monotonic seconds); if so, the next is scheduled."""
        if now < self._next:
            return False
        self._next = now + STATUS_INTERVAL_S
        return True

    def last_delivery(self, counters: Mapping[str, int], wall_s: float) -> float | None:
        """When delivery's counters last grew (at this writer's resolution, one interval)."""
        delivered = counters.get("outbox.acknowledged", 0) + counters.get("outbox.confirmed", 0)
        if self._delivered >= 0 and delivered > self._delivered:
            self._last_delivery_s = wall_s
        self._delivered = delivered
        return self._last_delivery_s

    def write(self, document: Mapping[str, Any], now: float) -> None:
        """Replace the status file; a failure is logged (throttled), never raised."""
        text = json.dumps(document, indent=2, sort_keys=True, ensure_ascii=True) + "\n"
        try:
            replace_atomically(self.path, text, mode=STATUS_MODE)
        except OSError as exc:
            if self._failed_at is None or now - self._failed_at >= LOG_EVERY_S:
                log.warning(
                    "cannot write the status file %s: %s (pelangi-agent status cannot "
                    "tell how the agent is doing; the readings are not affected)",
                    self.path,
                    os.strerror(exc.errno) if exc.errno else exc,
                )
                self._failed_at = now
            return
        if self._failed_at is not None:
            log.info("the status file %s is written again", self.path)
            self._failed_at = None


def _iso(wall_s: float) -> str:
    return datetime.fromtimestamp(wall_s, UTC).isoformat(timespec="milliseconds")
