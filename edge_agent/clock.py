"""Reading timestamps: UTC nanoseconds, strictly increasing per device.

InfluxDB keys a point by series and timestamp: two readings of one device with the same
``ts`` would overwrite each other. The wall clock can repeat a value (coarse clock,
NTP stepping back), so a device's clock never returns a value at or below its last one.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable


class DeviceClock:
    """Timestamps for one device: ``time.time_ns()``, bumped to stay strictly increasing."""

    def __init__(self, now_ns: Callable[[], int] = time.time_ns) -> None:
        """Use ``now_ns`` (nanoseconds since the Unix epoch, UTC) as the time source."""
        self._now_ns = now_ns
        self._last = 0
        self._lock = threading.Lock()

    def next_ns(self) -> int:
        """Return the current time in ns, or 1 ns after the previous value if not later."""
        with self._lock:
            self._last = max(self._now_ns(), self._last + 1)
            return self._last
