"""Rate-limited logging: the first few problems in full, then one summary a minute.

A noisy serial line or a broker that stays down must not flood the log (journald over a
weak SSH link); but the technician still needs to see that problems keep happening.
Pure: time is passed in as monotonic seconds.
"""

from __future__ import annotations

from collections import Counter


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
