"""Dead letters: what the collector refused, why, and all of it, kept for a replay.

Every refused message (unparseable, unknown version, invalid, wrong topic, too large),
every refused reading (timestamp out of window, unstorable) and every point InfluxDB
refused on its own becomes:

- a point in the ``dead_letter`` measurement, written through the same pipeline as the
  readings (a refused message is acknowledged, and confirmed to its gateway, once its dead
  letter is stored), and
- a JSON line in a rotating log file, if ``dead_letter.log_file`` is set: still there
  when InfluxDB itself is what refused, and never cut.

Each keeps what a replay needs (``pelangi-collector dead-letters replay``,
:mod:`collector.replay`) once the cause is fixed:

- a whole message: its ``topic`` and its ``payload``. InfluxDB 1.x documents 64 KB as the
  longest string field, so the payload is stored in pieces of at most
  :data:`PIECE_BYTES` UTF-8 bytes: fields ``payload``, ``payload_2``, ``payload_3``...;
  ``payload_bytes`` is the payload's size, ``payload_encoding`` is ``base64`` when it was
  not UTF-8, and ``payload_cut`` is ``true`` when more than
  ``dead_letter.max_payload_chars`` characters had to be left out (the log file has it);
- a single reading: ``topic``, ``historical``, ``reading`` (the reading's JSON), and
  ``seq`` and ``reading_ts`` to query by;
- a point InfluxDB refused: the point's line, as ``payload`` (in pieces, with
  ``payload_bytes``).

Tags ``collector`` and ``reason`` (both bounded sets); ``detail`` says the reason in
words. Its time is when the collector refused it, strictly increasing per collector, so
two dead letters never overwrite each other, and a replay marks one as done by adding
``replayed_ns`` to that same point.
"""

from __future__ import annotations

import base64
import json
import logging
import logging.handlers
import threading
import time
from typing import TYPE_CHECKING, Final

from collector.storage.lineprotocol import FieldValue, Point, to_line
from collector.storage.points import DEAD_LETTER

if TYPE_CHECKING:
    from collections.abc import Callable

    from collector.config import DeadLetterSettings
    from collector.plausibility import Refusal

MEASUREMENT: Final = DEAD_LETTER
STORAGE_REFUSED: Final = "storage_refused"
"""Reason of a point InfluxDB refused (its message is the detail)."""
PIECE_BYTES: Final = 60_000
"""Longest piece of a payload in one string field (InfluxDB 1.x documents 64 KB)."""
BASE64: Final = "base64"


class UniqueClock:
    """Nanoseconds since the epoch, strictly increasing across calls (thread-safe)."""

    def __init__(self, clock_ns: Callable[[], int] = time.time_ns) -> None:
        """Read time from ``clock_ns``."""
        self._clock_ns = clock_ns
        self._last = 0
        self._lock = threading.Lock()

    def __call__(self) -> int:
        """The current time, or one nanosecond after the last value given."""
        with self._lock:
            self._last = max(self._clock_ns(), self._last + 1)
            return self._last


def pieces(text: str, limit: int = PIECE_BYTES) -> list[str]:
    """``text`` in consecutive pieces of at most ``limit`` UTF-8 bytes each. Pure.

    A piece never ends inside a character; the pieces joined are ``text``.
    """
    data = text.encode("utf-8", errors="surrogatepass")
    out: list[str] = []
    start = 0
    while start < len(data):
        end = min(start + limit, len(data))
        while end < len(data) and (data[end] & 0xC0) == 0x80:  # inside a character
            end -= 1
        out.append(data[start:end].decode("utf-8", errors="surrogatepass"))
        start = end
    return out


def payload_fields(text: str) -> dict[str, FieldValue]:
    """``payload``, ``payload_2``, ... holding ``text`` in pieces (see the module docstring)."""
    return {
        ("payload" if k == 1 else f"payload_{k}"): piece
        for k, piece in enumerate(pieces(text), start=1)
    }


class DeadLetters:
    """Builds ``dead_letter`` lines and appends each to the rotating log."""

    def __init__(self, collector_id: str, settings: DeadLetterSettings, clock: UniqueClock) -> None:
        """Dead letters of ``collector_id``; the log file opens now if one is configured."""
        self._collector = collector_id
        self._max_payload = settings.max_payload_chars
        self._clock = clock
        self._log: logging.Logger | None = None
        if settings.log_file is not None:
            settings.log_file.parent.mkdir(parents=True, exist_ok=True)
            handler = logging.handlers.RotatingFileHandler(
                settings.log_file,
                maxBytes=settings.max_bytes,
                backupCount=settings.backups,
                encoding="utf-8",
            )
            handler.setFormatter(logging.Formatter("%(message)s"))
            self._log = logging.getLogger(f"pelangi.dead_letter.{collector_id}")
            self._log.handlers[:] = [handler]
            self._log.propagate = False
            self._log.setLevel(logging.INFO)

    def message(self, topic: str, payload: bytes, reason: str, detail: str) -> str:
        """The dead letter of a whole refused message (keeping its payload for a replay)."""
        try:
            text, encoding = payload.decode("utf-8"), None
        except UnicodeDecodeError:
            text, encoding = base64.b64encode(payload).decode("ascii"), BASE64
        fields: dict[str, FieldValue] = {"topic": topic, "payload_bytes": len(payload)}
        if encoding is not None:
            fields["payload_encoding"] = encoding
        return self._record(reason, detail, fields, text)

    def reading(self, topic: str, refusal: Refusal, *, historical: bool) -> str:
        """The dead letter of one refused reading of an otherwise valid message."""
        fields: dict[str, FieldValue] = {
            "topic": topic,
            "seq": refusal.seq,
            "reading_ts": refusal.ts,
            "reading": refusal.reading.model_dump_json(),
            "historical": historical,
        }
        return self._record(refusal.reason, refusal.detail, fields)

    def point(self, line: str, detail: str) -> str:
        """The dead letter of a point storage refused (``line`` is the point)."""
        return self._record(STORAGE_REFUSED, detail, {"payload_bytes": len(line.encode())}, line)

    def close(self) -> None:
        """Close the log file."""
        if self._log is not None:
            for handler in self._log.handlers:
                handler.close()

    def _record(
        self, reason: str, detail: str, fields: dict[str, FieldValue], payload: str | None = None
    ) -> str:
        now = self._clock()
        fields = {k: _clean(v) if isinstance(v, str) else v for k, v in fields.items()}
        fields = {"detail": _clean(detail or reason), **fields}
        payload = None if payload is None else _clean(payload)
        if self._log is not None:
            whole = fields if payload is None else fields | {"payload": payload}
            record = {"time_ns": now, "collector": self._collector, "reason": reason, **whole}
            self._log.info(json.dumps(record, ensure_ascii=False))
        if payload is not None:
            kept = payload[: self._max_payload]
            fields |= payload_fields(kept)
            if len(kept) < len(payload):
                fields["payload_cut"] = True
        point = Point(MEASUREMENT, {"collector": self._collector, "reason": reason}, fields, now)
        return to_line(point)


def _clean(text: str) -> str:
    # Whatever a bad message carried, its dead letter must be storable: no lone surrogates
    # (they cannot be UTF-8), so a poison message can never fail the dead-letter point.
    return text.encode("utf-8", errors="replace").decode("utf-8")


__all__ = [
    "BASE64",
    "MEASUREMENT",
    "PIECE_BYTES",
    "STORAGE_REFUSED",
    "DeadLetters",
    "UniqueClock",
    "payload_fields",
    "pieces",
]
