"""How storage is doing, as the watchdog sees it: progress made, writers failing, outages.

The writer pool (:mod:`collector.writer_pool`) tells :class:`StorageProgress` when a
write is stored and when one fails, and hands the watchdog
(:func:`collector.watchdog.stall_reason`) a :class:`Progress` snapshot. A failing write
either got no answer (storage down or unreachable: waited out) or an error answer (it
refuses: once that persists, a person is needed). Pure (monotonic seconds passed in);
the pool's lock guards it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable


@dataclass(frozen=True, slots=True)
class Progress:
    """Storage as the watchdog sees it (monotonic seconds)."""

    waiting: int
    """Points held, not yet stored."""
    last_progress: float
    """When a write last succeeded, or (if later) when points began to wait."""
    refusing_since: float | None
    """Since when storage keeps *answering* with an error (None: it does not)."""
    failure: str | None
    """Why a writer's latest write failed, in words (None: no writer is failing)."""
    oldest_beat: float
    """The least recent sign of life among the writer threads."""


@dataclass(frozen=True, slots=True)
class _Failure:
    reason: str
    answered_since: float | None
    """Since when this writer's writes are answered with errors (None: not answered)."""


def _refusing_since(failures: Iterable[_Failure]) -> float | None:
    """Since when storage answers every failing writer with an error (None: not so)."""
    since = [failure.answered_since for failure in failures]
    if not since or None in since:
        return None
    return min(s for s in since if s is not None)


class StorageProgress:
    """When storage last made progress, which writers fail and since when."""

    def __init__(self, now: float) -> None:
        """Progress made at ``now``; no writer failing."""
        self._last_progress = now
        self._outage_since: float | None = None
        self._failing: dict[int, _Failure] = {}
        """Writers whose latest write failed, and how."""

    def waiting_begins(self, now: float) -> None:
        """Points begin to wait (none were held): the clock of a stall starts now."""
        self._last_progress = now

    def stored(self, k: int, now: float) -> None:
        """Writer ``k`` stored a write."""
        self._last_progress = now
        self._failing.pop(k, None)

    def failed(self, k: int, reason: str, now: float, *, answered: bool) -> None:
        """Writer ``k``'s write failed for ``reason`` (``answered``: with an error answer)."""
        if self._outage_since is None:
            self._outage_since = now
        before = self._failing.get(k)
        # An error answer that persists needs a person; no answer at all is waited out.
        since = None
        if answered:
            since = before.answered_since if before and before.answered_since else now
        self._failing[k] = _Failure(reason, since)

    def recovered(self) -> float | None:
        """A writer stores again: since when storage failed (None: another one said so first)."""
        since, self._outage_since = self._outage_since, None
        return since

    def progress(self, waiting: int, oldest_beat: float) -> Progress:
        """The watchdog's view, with ``waiting`` points held and the writers' ``oldest_beat``."""
        return Progress(
            waiting=waiting,
            last_progress=self._last_progress,
            refusing_since=_refusing_since(self._failing.values()),
            failure=next((f.reason for f in self._failing.values()), None),
            oldest_beat=oldest_beat,
        )
