"""Where the job's time goes: thin timing wrappers around its stores, and the phases derived.

The job (:class:`collector.attendance.job.Job`) is run unchanged; only the objects it is
handed are wrapped: the tap store (its two calls), the registry (its two calls) and the
InfluxDB writer under the tap store (``select`` for the tap query and the day's
``DELETE``, ``write`` for the ``attendance_day`` POSTs). Each wrapper adds one
``perf_counter`` pair per call: a few hundred calls a month, microseconds in all.

What is left when every timed call is subtracted from the job's total is the rules
(:func:`~collector.attendance.rules.compute_days`) and the job's own grouping by day.
"""

from __future__ import annotations

import time
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from collector.storage.influx_v1 import InfluxV1Writer

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence
    from datetime import date, datetime

    from collector.attendance.model import DayResult, Tap, UnknownTap
    from collector.attendance.registry import Registry
    from collector.attendance.rules import RegistryValues
    from collector.attendance.taps import TapStore
    from collector.config import InfluxV1Settings

# Raw timers (what the wrappers measure).
SELECT: Final = "select"
DELETE: Final = "delete"
WRITE: Final = "write"
TAPS: Final = "taps"
REPLACE: Final = "replace_days"
VALUES: Final = "values"
SAVE: Final = "save_day_results"

JOB_PHASES: Final = (
    ("tap query: InfluxDB HTTP + JSON decode + row dicts", "query"),
    ("tap decode: rows to Tap values", "decode"),
    ("registry values: state DB reads", "values"),
    ("rules: compute_days + grouping by day", "rules"),
    ("attendance_day DELETE per run of days", "delete"),
    ("attendance_day points + line protocol", "lines"),
    ("attendance_day write: HTTP POST", "write"),
    ("state DB save_day_results", "save"),
)
"""Printed label and figure key of each phase of the job, in the order a chunk runs them."""


@dataclass
class Stopwatch:
    """Seconds spent per named timer, summed over calls."""

    spent: dict[str, float] = field(default_factory=lambda: defaultdict(float))

    @contextmanager
    def timing(self, name: str) -> Iterator[None]:
        """Add the block's duration to ``name``."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self.spent[name] += time.perf_counter() - started

    def reset(self) -> None:
        """Forget everything measured so far."""
        self.spent.clear()

    def job_phases(self, total_s: float) -> dict[str, float]:
        """The job's phases (keys of :data:`JOB_PHASES`) from the raw timers and its total."""
        spent = self.spent
        phases = {
            "query": spent[SELECT],
            "decode": spent[TAPS] - spent[SELECT],
            "values": spent[VALUES],
            "delete": spent[DELETE],
            "lines": spent[REPLACE] - spent[DELETE] - spent[WRITE],
            "write": spent[WRITE],
            "save": spent[SAVE],
        }
        phases["rules"] = total_s - spent[TAPS] - spent[REPLACE] - spent[VALUES] - spent[SAVE]
        return {key: phases[key] for _, key in JOB_PHASES}


class TimedWriter(InfluxV1Writer):
    """An :class:`InfluxV1Writer` whose ``select`` and ``write`` calls are timed."""

    def __init__(self, settings: InfluxV1Settings, *, watch: Stopwatch) -> None:
        """The writer of ``settings``, timing into ``watch``."""
        super().__init__(settings)
        self.watch = watch

    def select(self, statement: str) -> list[dict[str, Any]]:
        """Timed as ``delete`` for a ``DELETE``, else as ``select``."""
        name = DELETE if statement.lstrip().upper().startswith("DELETE") else SELECT
        with self.watch.timing(name):
            return super().select(statement)

    def write(self, lines: Sequence[str]) -> None:
        """Timed as ``write``."""
        with self.watch.timing(WRITE):
            super().write(lines)


@dataclass(frozen=True)
class TimedTapStore:
    """A :class:`~collector.attendance.taps.TapStore` whose two calls are timed."""

    store: TapStore
    watch: Stopwatch

    def taps(self, start: datetime, end: datetime) -> list[Tap]:
        """Timed as ``taps``."""
        with self.watch.timing(TAPS):
            return self.store.taps(start, end)

    def replace_days(self, days: Sequence[date], results: Sequence[DayResult]) -> None:
        """Timed as ``replace_days``."""
        with self.watch.timing(REPLACE):
            self.store.replace_days(days, results)


@dataclass(frozen=True)
class TimedRegistry:
    """The job's view of a :class:`~collector.attendance.registry.Registry`, timed."""

    registry: Registry
    watch: Stopwatch

    def values(self, first: date, last: date) -> RegistryValues:
        """Timed as ``values``."""
        with self.watch.timing(VALUES):
            return self.registry.values(first, last)

    def save_day_results(
        self, day: date, results: Iterable[DayResult], unknown_taps: Iterable[UnknownTap]
    ) -> None:
        """Timed as ``save_day_results``."""
        with self.watch.timing(SAVE):
            self.registry.save_day_results(day, results, unknown_taps)


@contextmanager
def timed() -> Iterator[list[float]]:
    """Measure a block's duration: ``took[0]`` holds its seconds once the block ends."""
    took: list[float] = []
    started = time.perf_counter()
    try:
        yield took
    finally:
        took.append(time.perf_counter() - started)
