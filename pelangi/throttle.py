"""Rate-limited logging: the first few problems in full, then one summary a window.

A noisy serial line or a broker that stays down must not flood the log (journald over a
weak SSH link); but the technician still needs to see that problems keep happening.
:class:`LogThrottle` is the pure policy (time passed in, monotonic seconds);
:class:`ThrottledLog` is the logger every recurring problem is reported through.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import logging
    from collections.abc import Callable


class LogThrottle:
    """Let the first ``burst`` events of a window be logged, count the rest by key.

    Call :meth:`allow` per event and :meth:`due` regularly (also when no events come):
    once ``interval_s`` has passed since the window began, :meth:`due` hands over what
    was suppressed. While events keep being suppressed only summaries follow; after a
    quiet window, the next event is logged in full again.
    """

    def __init__(self, burst: int = 5, interval_s: float = 60.0) -> None:
        """Allow ``burst`` full log lines, then summaries every ``interval_s`` seconds."""
        self.burst = burst
        self.interval_s = interval_s
        self._allowance = burst
        self._window_start: float | None = None
        self._suppressed: Counter[str] = Counter()

    def allow(self, now: float, key: str = "") -> bool:
        """Return True if this event should be logged in full; otherwise count it."""
        if self._window_start is None:
            self._window_start = now
        if self._allowance > 0:
            self._allowance -= 1
            return True
        self._suppressed[key] += 1
        return False

    def due(self, now: float) -> Counter[str]:
        """Return the events suppressed in a finished window (empty if none, or not yet)."""
        if self._window_start is None or now - self._window_start < self.interval_s:
            return Counter()
        suppressed, self._suppressed = self._suppressed, Counter()
        if suppressed:
            self._window_start = now
        else:
            self.reset()
        return suppressed

    def reset(self) -> None:
        """Forget the window: the next event is logged in full (call when things recover)."""
        self._allowance = self.burst
        self._window_start = None
        self._suppressed = Counter()


class ThrottledLog:
    """A logger for problems that repeat: the first few in full, then one summary a window.

    Every place that reports a recurring problem (a bad frame, a broker that stays down, a
    disk that stays full) logs through one of these instead of pairing a
    :class:`LogThrottle` with hand-written summary lines::

        trouble = ThrottledLog(log, burst=1, interval_s=300.0)
        trouble.log(logging.WARNING, "cannot reach %s: %s", address, exc)

    Suppressed events are logged at DEBUG and counted by ``key``; once ``interval_s`` has
    passed, the next :meth:`log` or :meth:`flush` writes one line with the latest
    suppressed message and how many more came, e.g. ``cannot reach 10.0.0.5:1883:
    timed out (and 59 more like this in the last 300 s)``. Thread-safe.
    """

    def __init__(
        self,
        logger: logging.Logger,
        *,
        burst: int = 5,
        interval_s: float = 60.0,
        hint: str = "",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Log to ``logger``; ``hint`` (e.g. what to check) ends every summary line."""
        self._logger = logger
        self._throttle = LogThrottle(burst=burst, interval_s=interval_s)
        self._hint = hint
        self._clock = clock
        self._lock = threading.Lock()
        self._last: tuple[int, str, tuple[object, ...]] | None = None

    @property
    def interval_s(self) -> float:
        """The length of a window, in seconds."""
        return self._throttle.interval_s

    def log(self, level: int, msg: str, *args: object, key: str = "") -> bool:
        """Log ``msg % args`` in full if the window allows it, else count it under ``key``.

        Returns whether it was logged in full. A summary that is due is written first.
        """
        now = self._clock()
        with self._lock:
            allowed = self._throttle.allow(now, key)
            if not allowed:
                self._last = (level, msg, args)
        if allowed:
            self._logger.log(level, msg, *args)
        else:
            self._logger.debug(msg, *args)
        self.flush()
        return allowed

    def flush(self) -> None:
        """Write the summary of a finished window, if any event was suppressed in it."""
        now = self._clock()
        with self._lock:
            suppressed = self._throttle.due(now)
            last = self._last
            if suppressed:
                self._last = None
        if not suppressed or last is None:
            return
        level, msg, args = last
        keys = sorted(k for k in suppressed if k)
        by_key = f": {', '.join(f'{k} {suppressed[k]}' for k in keys)}" if keys else ""
        hint = f"; {self._hint}" if self._hint else ""
        summary = f"{msg} (and %d more like this in the last %.0f s%s)%s"
        self._logger.log(
            level,
            summary,
            *args,
            suppressed.total(),
            self._throttle.interval_s,
            by_key,
            hint,
        )

    def reset(self) -> None:
        """Things recovered: the next problem is logged in full again."""
        with self._lock:
            self._throttle.reset()
            self._last = None
