"""Dead letters: what the collector refused, why, kept where a technician can query it.

Every refused message (unparseable, unknown version, invalid, wrong topic, too large),
every refused reading (timestamp out of window, unstorable) and every point InfluxDB
refused on its own becomes:

- a point in the ``dead_letter`` measurement, written through the same pipeline as the
  readings (a refused message is acknowledged once its dead letter is stored), and
- a JSON line in a rotating log file, if ``dead_letter.log_file`` is set: still there
  when InfluxDB itself is what refused.

``dead_letter`` schema: tags ``collector`` and ``reason`` (both bounded sets); fields
``topic``, ``detail`` (the reason in words), ``payload`` (the start of the refused
payload or point) and, for a single reading, ``seq`` and ``reading_ts``. Its time is when
the collector refused it, strictly increasing per collector, so two dead letters never
overwrite each other.
"""

from __future__ import annotations

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
        """The dead letter of a whole refused message."""
        text = payload[: self._max_payload * 4].decode("utf-8", errors="replace")
        return self._record(reason, detail, {"topic": topic, "payload": self._cut(text)})

    def reading(self, topic: str, refusal: Refusal, *, historical: bool) -> str:
        """The dead letter of one refused reading of an otherwise valid message."""
        del historical
        extra: dict[str, FieldValue] = {
            "topic": topic,
            "seq": refusal.seq,
            "reading_ts": refusal.ts,
        }
        return self._record(refusal.reason, refusal.detail, extra)

    def point(self, line: str, detail: str) -> str:
        """The dead letter of a point storage refused (``line`` is the point)."""
        return self._record(STORAGE_REFUSED, detail, {"topic": "", "payload": self._cut(line)})

    def close(self) -> None:
        """Close the log file."""
        if self._log is not None:
            for handler in self._log.handlers:
                handler.close()

    def _cut(self, text: str) -> str:
        return text if len(text) <= self._max_payload else text[: self._max_payload] + "..."

    def _record(self, reason: str, detail: str, extra: dict[str, FieldValue]) -> str:
        now = self._clock()
        fields: dict[str, FieldValue] = {"detail": _clean(detail or reason)}
        fields |= {k: _clean(v) if isinstance(v, str) else v for k, v in extra.items()}
        if fields.get("topic") == "":
            del fields["topic"]
        if self._log is not None:
            record = {"time_ns": now, "collector": self._collector, "reason": reason, **fields}
            self._log.info(json.dumps(record, ensure_ascii=False))
        point = Point(MEASUREMENT, {"collector": self._collector, "reason": reason}, fields, now)
        return to_line(point)


def _clean(text: str) -> str:
    # Whatever a bad message carried, its dead letter must be storable: no lone surrogates
    # (they cannot be UTF-8), so a poison message can never fail the dead-letter point.
    return text.encode("utf-8", errors="replace").decode("utf-8")


__all__ = ["MEASUREMENT", "STORAGE_REFUSED", "DeadLetters", "UniqueClock"]
