"""Reading timestamps: UTC nanoseconds, strictly increasing per device.

InfluxDB keys a point by series and timestamp: two readings of one device with the same
``ts`` would overwrite each other. The wall clock can repeat a value (coarse clock,
NTP stepping back), so a device's clock never returns a value at or below its last one.

One exception: a step back of more than :data:`BIG_STEP_BACK_NS` (the gateway's clock was
found a day ahead, and stamping switched to the collectors' time) is followed, not
pinned at ``last + 1 ns`` for a day. The readings before such a step carried a wrong
time; those stamped before the first time signal are corrected before they are sent
(:meth:`edge_agent.timebase.TimeBase.correct`), so the step does not make two readings
share a ``ts``.

A provisional reading's monotonic time (what it is corrected with later) is kept
strictly increasing per device too, so corrected readings never share a ``ts`` either.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Final

from edge_agent.timebase import Stamp

if TYPE_CHECKING:
    from collections.abc import Callable

BIG_STEP_BACK_NS: Final = 10 * 1_000_000_000
"""A backward step of the time source beyond this (10 s) is followed, not pinned."""


def local_stamp() -> Stamp:
    """The local wall clock, uncorrected (the default source; tests and tools)."""
    return Stamp(time.time_ns())


class DeviceClock:
    """Stamps for one device: the source's time, bumped to stay strictly increasing."""

    def __init__(self, source: Callable[[], Stamp] = local_stamp) -> None:
        """Take the time from ``source`` (e.g. :meth:`edge_agent.timebase.TimeBase.stamp`)."""
        self._source = source
        self._last = 0
        self._last_mono = 0
        self._lock = threading.Lock()

    def next(self) -> Stamp:
        """The source's stamp, its ``ts`` (and ``mono_ns``) bumped past the previous one's.

        A ``ts`` more than :data:`BIG_STEP_BACK_NS` below the previous one is taken as it is.
        """
        with self._lock:
            stamp = self._source()
            if stamp.ts < self._last - BIG_STEP_BACK_NS:
                self._last = stamp.ts
            else:
                self._last = max(stamp.ts, self._last + 1)
            mono = stamp.mono_ns
            if mono is not None:
                mono = self._last_mono = max(mono, self._last_mono + 1)
            if self._last == stamp.ts and mono == stamp.mono_ns:
                return stamp
            return Stamp(self._last, corrected=stamp.corrected, mono_ns=mono)

    def next_ns(self) -> int:
        """Only the ``ts`` of :meth:`next`."""
        return self.next().ts
