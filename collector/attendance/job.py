"""The attendance job: compute days from what is stored, write the results back.

``attendance compute`` runs :func:`compute` once for the dates asked; ``attendance run``
(:class:`Service`) recomputes today so far every few minutes and the last few days now
and then, so a gateway's backlog replayed a day late updates its own day. Both read the
taps of :func:`~collector.attendance.windows.tap_range` from the :class:`TapStore` and
the registry's values, apply the pure rules (:func:`~collector.attendance.rules.compute_days`),
and replace each day's results: ``attendance_day`` points in InfluxDB (for Grafana) and
rows in the state database (for reports). Replacing makes a recomputation idempotent and
independent of the order the taps arrived in.

Dates are done a week at a time: memory stays bounded for a year's recompute, and the
caller hears of progress after each week.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Final, Protocol

from collector.attendance.model import WITA
from collector.attendance.rules import compute_days
from collector.attendance.windows import tap_range
from collector.errors import CollectorError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

    from collector.attendance.calendar import Calendar
    from collector.attendance.model import (
        DayResult,
        UnknownTap,
    )
    from collector.attendance.rules import RegistryValues
    from collector.attendance.settings import AttendanceSettings
    from collector.attendance.taps import TapStore

log = logging.getLogger(__name__)

CHUNK_DAYS: Final = 7
"""Dates computed together: one InfluxDB query and one progress report per chunk."""


class RegistryView(Protocol):
    """What the job needs of the registry (:class:`collector.attendance.registry.Registry`)."""

    def values(self, first: date, last: date) -> RegistryValues:
        """Employees, cards, leave and roster of ``first``..``last``, as the rules take them."""
        ...

    def save_day_results(
        self, day: date, results: Iterable[DayResult], unknown_taps: Iterable[UnknownTap]
    ) -> None:
        """Replace the day's stored results."""
        ...


@dataclass
class Computed:
    """What a computation did, for the command's summary line and the service's log."""

    days: int = 0
    taps: int = 0
    results: int = 0
    unknown_taps: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    def add(self, other: Computed) -> None:
        """Count ``other`` in too."""
        self.days += other.days
        self.taps += other.taps
        self.results += other.results
        self.unknown_taps += other.unknown_taps
        self.statuses.update(other.statuses)
        self.seconds += other.seconds

    def summary(self) -> str:
        """One line: ``31 days, 129,357 taps -> 93,124 results (H 80,110, TK 2,012, ...)``."""
        statuses = ", ".join(f"{s} {n:,}" for s, n in sorted(self.statuses.items()))
        return (
            f"{self.days} days, {self.taps:,} taps -> {self.results:,} results"
            f" ({statuses or 'none'}), {self.unknown_taps:,} taps of unknown cards,"
            f" in {self.seconds:.1f} s"
        )


@dataclass(frozen=True)
class Job:
    """The job's inputs and outputs: the stores, the settings and the calendar."""

    taps: TapStore
    registry: RegistryView
    settings: AttendanceSettings
    calendar: Calendar

    def compute(
        self, days: Sequence[date], progress: Callable[[date, date, Computed], None] | None = None
    ) -> Computed:
        """Compute and store ``days`` (any order), a week at a time; what was done.

        ``progress(first, last, done_so_far)`` is called after each week.

        Raises:
            StorageError: InfluxDB failed (days stored before it stay stored).
            StateError / RegistryError: the state database failed or refused.
            AttendanceError: the registry and the settings disagree (e.g. an unknown unit).
        """
        done = Computed()
        ordered = sorted(set(days))
        for start in range(0, len(ordered), CHUNK_DAYS):
            chunk = ordered[start : start + CHUNK_DAYS]
            done.add(self._compute_chunk(chunk))
            if progress is not None:
                progress(chunk[0], chunk[-1], done)
        return done

    def _compute_chunk(self, days: list[date]) -> Computed:
        started = time.perf_counter()
        first, last = days[0], days[-1]
        # A night shift rostered the evening before reaches into the first date.
        before, after = first - timedelta(days=1), last + timedelta(days=1)
        taps = self.taps.taps(*tap_range(days, self.settings))
        results, unknown = compute_days(
            days,
            taps=taps,
            registry=self.registry.values(before, after),
            calendar=self.calendar,
            settings=self.settings,
        )
        by_day: dict[date, list[DayResult]] = {day: [] for day in days}
        for result in results:
            by_day[result.day].append(result)
        unknown_by_day: dict[date, list[UnknownTap]] = {day: [] for day in days}
        for found in unknown:
            unknown_by_day[found.day].append(found)
        self.taps.replace_days(days, results)
        for day in days:
            self.registry.save_day_results(day, by_day[day], unknown_by_day[day])
        return Computed(
            days=len(days),
            taps=len(taps),
            results=len(results),
            unknown_taps=len(unknown),
            statuses=Counter(str(r.status) for r in results),
            seconds=time.perf_counter() - started,
        )


def days_between(first: date, last: date) -> list[date]:
    """Every date from ``first`` to ``last``, inclusive."""
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def today(now: datetime) -> date:
    """The WITA date of ``now``."""
    return now.astimezone(WITA).date()


@dataclass
class Service:
    """``attendance run``: yesterday and today often, the last ``lookback_days`` hourly.

    Yesterday is in every pass because its windows (a night shift, a late check-out)
    reach into today: a day is closed within one interval of its last window ending. A
    backlog older than the lookback needs ``attendance compute --from``.
    """

    job: Job
    interval_s: float = 300.0
    lookback_days: int = 7
    lookback_interval_s: float = 3600.0
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(WITA))
    stopping: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        """Loop until :meth:`stop`; a failing pass is logged and retried next interval."""
        next_lookback = 0.0
        warned: set[int] = set()
        while not self.stopping.is_set():
            now = self.clock()
            # Yesterday too: its night shifts and check-out windows reach into today.
            days = [today(now) - timedelta(days=1), today(now)]
            if time.monotonic() >= next_lookback:
                days = days_between(today(now) - timedelta(days=self.lookback_days), today(now))
                next_lookback = time.monotonic() + self.lookback_interval_s
            for year in set(self.job.calendar.missing_years(days)) - warned:
                warned.add(year)  # once per year: a service runs across New Year
                log.warning(
                    "attendance: the holiday file has no dates for %d: its holidays and cuti "
                    "bersama count as working days until it is added and the days recomputed",
                    year,
                )
            try:
                done = self.job.compute(days)
            except CollectorError as exc:  # InfluxDB or the state database away: said once
                log.warning(
                    "attendance: computing %s..%s failed: %s; retrying in %g s",
                    days[0],
                    days[-1],
                    exc,
                    self.interval_s,
                )
            except Exception:  # a pass that fails must not end the service; next one retries
                log.exception("attendance: computing %s..%s failed", days[0], days[-1])
            else:
                log.info("attendance: %s", done.summary())
            self.stopping.wait(self.interval_s)

    def stop(self) -> None:
        """End :meth:`run` after the pass in progress."""
        self.stopping.set()
