"""The gateway's idea of the true time, learnt from the collectors. Pure: time is passed in.

A gateway without a battery-backed clock may boot before NTP answers and stamp readings a
year behind or a day ahead; the collector would dead-letter them (``ts_too_old``,
``ts_in_future``). Every collector's presence message carries its own ``ts``; published
just now, it is a *time signal*. From signals the agent estimates the true time on the
monotonic clock (immune to later steps of the wall clock)::

    true_now = reference_ns + (mono_now - local_mono_ns)

using the median of the last :data:`SIGNALS_KEPT` signals (a signal is one-way, so network
latency makes it a little late: milliseconds, far below any tolerance). The *offset* is
``true_now - wall_now``: how far the gateway's clock is behind (negative: ahead).

Stamping (:meth:`TimeBase.stamp`)
    While ``|offset|`` exceeds ``tolerance_s`` readings get the true time and are marked
    ``clock_corrected``; correction stops again only below half the tolerance (hysteresis:
    no flapping around the edge). Before any signal in this boot a reading gets the local
    clock and is *provisional*: it carries its monotonic time into the outbox.

Correcting provisional readings (:meth:`TimeBase.correct`)
    The first signal of a boot is frozen as the :class:`Anchor` and persisted (with the
    kernel's boot id) before it is used. A provisional reading's true time is
    ``anchor.reference_ns + (mono_ns - anchor.local_mono_ns)``; it replaces the reading's
    ``ts`` when the two differ by more than the tolerance. Because the anchor never
    changes within a boot, even across agent restarts, a reading re-sent after a restart
    gets exactly the same ``ts`` (the collector's write is idempotent on ``ts``).

An anchor of the current boot handed in at start counts as a signal: after an agent
restart the estimate is known at once.
"""

from __future__ import annotations

import json
import logging
import statistics
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from collections.abc import Callable

log = logging.getLogger(__name__)

SIGNALS_KEPT: Final = 5
"""How many recent signals the estimate is the median of (one wild signal is outvoted)."""
_NS_PER_S: Final = 1_000_000_000
_MAX_TS: Final = 2**63 - 1


@dataclass(frozen=True, slots=True)
class Anchor:
    """The first time signal of a boot: what provisional readings are corrected with."""

    boot_id: str
    reference_ns: int
    """The collector's time carried by the signal (ns since the epoch, UTC)."""
    local_wall_ns: int
    """The gateway's wall clock when the signal arrived."""
    local_mono_ns: int
    """The gateway's monotonic clock when the signal arrived."""

    @property
    def offset_ns(self) -> int:
        """How far the gateway's clock was behind the collector's at the signal."""
        return self.reference_ns - self.local_wall_ns

    def true_ns(self, mono_ns: int) -> int:
        """The true time at monotonic time ``mono_ns`` (same boot), by this anchor."""
        return self.reference_ns + (mono_ns - self.local_mono_ns)


@dataclass(frozen=True, slots=True)
class Stamp:
    """The time for one reading."""

    ts: int
    corrected: bool = False
    """``ts`` is the true time, not the gateway's wall clock."""
    mono_ns: int | None = None
    """The monotonic time, for a provisional reading (stamped before any signal); else None."""


@dataclass(frozen=True, slots=True)
class ClockStatus:
    """What the birth and the health reading say about the gateway's clock."""

    offset_ms: int | None
    """True time minus the gateway's clock, in ms; None before any signal."""
    correcting: bool
    """Whether readings are being stamped with the true time."""
    synchronized: bool | None
    """Whether the kernel says NTP keeps the clock; None if it cannot tell."""


def _unknown() -> bool | None:
    return None


class TimeBase:
    """The true time from the collectors' signals, and the stamps it gives (module docstring)."""

    def __init__(  # noqa: PLR0913 - each clock and hook is separately injectable for tests
        self,
        tolerance_s: float,
        *,
        boot_id: str = "",
        wall_ns: Callable[[], int] = time.time_ns,
        mono_ns: Callable[[], int] = time.monotonic_ns,
        anchor: Anchor | None = None,
        on_anchor: Callable[[Anchor], object] | None = None,
        synchronized: Callable[[], bool | None] = _unknown,
    ) -> None:
        """Correct beyond ``tolerance_s`` seconds of offset.

        Args:
            tolerance_s: an offset beyond this (seconds) switches correction on.
            boot_id: the kernel's id of the current boot, recorded in a new anchor.
            wall_ns: the local wall clock (ns since the epoch).
            mono_ns: the local monotonic clock (ns).
            anchor: the anchor of the current boot, if one was saved (an agent restart);
                an anchor of another boot must not be handed in.
            on_anchor: called with the new anchor, before it is used, to persist it.
            synchronized: whether NTP keeps the clock (see :mod:`edge_agent.ntp`).
        """
        if tolerance_s <= 0:
            msg = f"tolerance_s must be above 0 seconds, got {tolerance_s}"
            raise ValueError(msg)
        self.tolerance_ns = round(tolerance_s * _NS_PER_S)
        self._boot_id = boot_id
        self._wall = wall_ns
        self._mono = mono_ns
        self._on_anchor = on_anchor
        self._synchronized = synchronized
        self._lock = threading.Lock()
        self._anchor = anchor
        # Each signal as "true time minus monotonic time": the median is the estimate.
        self._bases: deque[int] = deque(maxlen=SIGNALS_KEPT)
        if anchor is not None:
            self._bases.append(anchor.reference_ns - anchor.local_mono_ns)
        self._correcting = False

    @property
    def known(self) -> bool:
        """Whether a time signal has been seen in this boot (readings are not provisional)."""
        with self._lock:
            return bool(self._bases)

    @property
    def provisional(self) -> bool:
        """Whether readings stamped now are provisional (no signal yet in this boot)."""
        return not self.known

    @property
    def anchor(self) -> Anchor | None:
        """The first signal of this boot, or None before it."""
        with self._lock:
            return self._anchor

    def observe(self, reference_ns: int, *, local_wall_ns: int, local_mono_ns: int) -> None:
        """Take a fresh time signal: ``reference_ns`` is the collectors' time just now.

        The first signal of a boot becomes the anchor, persisted (``on_anchor``) before
        it is used.
        """
        if not 0 < reference_ns <= _MAX_TS:
            log.warning("ignoring a time signal out of range: %d ns", reference_ns)
            return
        with self._lock:
            if self._anchor is None:
                anchor = Anchor(self._boot_id, reference_ns, local_wall_ns, local_mono_ns)
                if self._on_anchor is not None:
                    self._on_anchor(anchor)
                self._anchor = anchor
                log.info(
                    "first time signal of this boot: the gateway's clock is %s",
                    describe_offset(anchor.offset_ns),
                )
            self._bases.append(reference_ns - local_mono_ns)
            self._evaluate_locked()

    def observe_signal(self, reference_ns: int, local_wall_ns: int, local_mono_ns: int) -> None:
        """:meth:`observe` with positional arguments (the uplink's ``time_signal``)."""
        self.observe(reference_ns, local_wall_ns=local_wall_ns, local_mono_ns=local_mono_ns)

    def stamp(self) -> Stamp:
        """The time for a reading stamped now (see the module docstring)."""
        with self._lock:
            if not self._bases:
                return Stamp(self._wall(), mono_ns=self._mono())
            wall, true = self._evaluate_locked()
            return Stamp(true, corrected=True) if self._correcting else Stamp(wall)

    def now_ns(self) -> tuple[int, bool]:
        """``(timestamp, corrected)`` for now: the true time while correcting, else local."""
        stamp = self.stamp()
        return stamp.ts, stamp.corrected

    def age_clock_ns(self) -> int:
        """The clock readings' ages are judged by: the earlier of the local and true time.

        A stored reading carries either the local clock's ``ts`` (provisional) or the
        true time (corrected); judged by the earlier clock, it counts as old only if it
        is old by both, so a correction never makes readings look old (a gateway a year
        behind that starts correcting, or one a year ahead).
        """
        with self._lock:
            if not self._bases:
                return self._wall()
            return min(self._evaluate_locked())

    def correct(self, reading_json: bytes, mono_ns: int) -> bytes:
        """A provisional reading's JSON with its ``ts`` from the anchor, if it needs it.

        Unchanged when no signal has been seen yet, or the reading's ``ts`` is within the
        tolerance of its true time; else ``ts`` is replaced and ``clock_corrected`` set.
        The same reading and ``mono_ns`` always give the same bytes within a boot.
        """
        anchor = self.anchor
        if anchor is None:
            return reading_json
        true = anchor.true_ns(mono_ns)
        try:
            reading = json.loads(reading_json)
            ts = reading["ts"]
        except (ValueError, TypeError, KeyError):
            return reading_json  # not ours to judge: the collector will say what is wrong
        if (
            not isinstance(ts, int)
            or abs(ts - true) <= self.tolerance_ns
            or not 0 < true <= _MAX_TS
        ):
            return reading_json
        reading["ts"] = true
        reading["clock_corrected"] = True
        return json.dumps(reading, separators=(",", ":"), ensure_ascii=False).encode()

    def status(self) -> ClockStatus:
        """The offset (ms), whether correcting, and whether NTP keeps the clock."""
        synchronized = self._synchronized()
        with self._lock:
            if not self._bases:
                return ClockStatus(None, correcting=False, synchronized=synchronized)
            wall, true = self._evaluate_locked()
            return ClockStatus(
                round((true - wall) / 1e6), correcting=self._correcting, synchronized=synchronized
            )

    def _evaluate_locked(self) -> tuple[int, int]:
        """(wall, true) now, switching correction on or off as the offset says."""
        wall = self._wall()
        true = self._mono() + statistics.median_low(self._bases)
        offset = abs(true - wall)
        if not self._correcting and offset > self.tolerance_ns:
            self._correcting = True
            log.warning(
                "the gateway's clock is %s: stamping readings with the collectors' time "
                "(marked clock_corrected) until it is within %.3g s",
                describe_offset(true - wall),
                self.tolerance_ns / 2 / _NS_PER_S,
            )
        elif self._correcting and 2 * offset < self.tolerance_ns:
            self._correcting = False
            log.warning(
                "the gateway's clock is right again (%s): stamping readings with it",
                describe_offset(true - wall),
            )
        return wall, true


def describe_offset(offset_ns: int) -> str:
    """An offset in words: ``"86400.000 s ahead of the collectors'"``."""
    seconds = abs(offset_ns) / _NS_PER_S
    if offset_ns == 0:
        return "in step with the collectors'"
    side = "behind" if offset_ns > 0 else "ahead of"
    return f"{seconds:.3f} s {side} the collectors'"
