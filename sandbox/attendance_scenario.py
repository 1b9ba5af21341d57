"""The golden month (March 2026) as the attendance job sees it, and running the job on it.

For ``tests/test_attendance_month*.py``: :func:`march_2026` is the month of
:mod:`sandbox.attendance_scenario_data` (24 employees in three units, every tap chosen)
with its settings and calendar; :func:`run_month` seeds a real state database, stores the
taps in a real InfluxDB as the collector would, computes the month, then stores the
backlog of :data:`~sandbox.attendance_scenario_data.BACKLOG_DAY` a day late and
recomputes that day only; :func:`stored` reads back what the job left in both stores.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Final

from collector.attendance.job import Job
from collector.attendance.model import WITA
from collector.attendance.registry import Registry
from collector.attendance.settings import (
    AttendanceSettings,
    PenaltyRules,
    ReaderRef,
    ReaderSettings,
    UnitSettings,
)
from collector.attendance.taps import ATTENDANCE_DAY, InfluxTapStore
from collector.attendance.vocabulary import Vocabulary
from sandbox import attendance_scenario_data as data
from sandbox.attendance import card_read_lines
from sandbox.attendance_rules import RAMADAN_2026, SITE, office_calendar

if TYPE_CHECKING:
    from collections.abc import Iterable

    from collector.attendance.calendar import Calendar
    from collector.attendance.model import (
        CardAssignment,
        DayResult,
        Employee,
        Leave,
        RosterEntry,
        Tap,
        UnknownTap,
    )
    from collector.state import StateDatabase
    from collector.storage.influx_v1 import InfluxV1Writer

WRITE_BATCH: Final = 200
"""Lines per write: the collector writes in batches too, never the month at once."""


def settings() -> AttendanceSettings:
    """Three units, default schedules, the example penalties, the server room excluded."""
    return AttendanceSettings(
        units={
            code: UnitSettings(name=name, schedule="shift" if code == "satpam" else "kantor")
            for code, name in data.UNITS.items()
        },
        ramadan=[RAMADAN_2026],
        readers=ReaderSettings(
            exclude=[ReaderRef(site=SITE, gateway=data.SERVER_ROOM[0], reader=data.SERVER_ROOM[1])]
        ),
        penalties=[
            PenaltyRules(
                valid_from=date(2026, 1, 1),
                tl_pct=(0.5, 1, 1.5, 2),
                psw_pct=(0.5, 1, 1.5, 2),
                absent_pct=3,
                daily_cap_pct=3,
                monthly_cap_pct=100,
                regulation="contoh (config/attendance.example.yaml)",
            )
        ],
    )


@dataclass(frozen=True)
class Scenario:
    """The month: settings, calendar, registry contents and taps.

    Attributes:
        taps: stored before the first computation.
        backlog: :data:`~sandbox.attendance_scenario_data.BACKLOG_DAY`'s taps through the
            east entrance's gateway, stored only after the first computation.
    """

    settings: AttendanceSettings
    calendar: Calendar
    employees: tuple[Employee, ...]
    cards: tuple[CardAssignment, ...]
    leave: tuple[Leave, ...]
    roster: tuple[RosterEntry, ...]
    taps: tuple[Tap, ...]
    backlog: tuple[Tap, ...]

    def days(self) -> list[date]:
        """Every date of the month."""
        return [data.FIRST + timedelta(days=n) for n in range((data.LAST - data.FIRST).days + 1)]

    def seed(self, database: StateDatabase) -> Registry:
        """The registry in ``database``, filled with the scenario's employees, cards, leave."""
        registry = Registry(database, Vocabulary.from_settings(self.settings))
        with registry.changes() as changes:
            for employee in self.employees:
                changes.put_employee(employee)
            for card in self.cards:
                changes.assign_card(card)
            for entry in self.leave:
                changes.add_leave(entry)
            for shift in self.roster:
                changes.put_roster(shift)
        return registry


@functools.cache
def march_2026() -> Scenario:
    """The golden month (see :mod:`sandbox.attendance_scenario_data`)."""
    config = settings()
    taps = data.taps()
    late = [t for t in taps if t.gateway == data.TIMUR[0] and t.local.date() == data.BACKLOG_DAY]
    return Scenario(
        settings=config,
        calendar=office_calendar(config),
        employees=tuple(data.employees()),
        cards=tuple(data.cards()),
        leave=tuple(data.leave()),
        roster=tuple(data.roster()),
        taps=tuple(t for t in taps if t not in late),
        backlog=tuple(late),
    )


def store_taps(writer: InfluxV1Writer, taps: Iterable[Tap], *, reverse: bool = False) -> None:
    """Write ``taps`` as the collector stores them (``card_read``), newest first if ``reverse``."""
    lines = card_read_lines(list(taps))
    if reverse:
        lines.reverse()
    for first in range(0, len(lines), WRITE_BATCH):
        writer.write(lines[first : first + WRITE_BATCH])


Point = tuple[tuple[str, object], ...]
"""An ``attendance_day`` row as sorted (column, value) pairs: comparable and hashable."""


@dataclass(frozen=True)
class Stored:
    """What the job left: results and unknown taps (state database), points (InfluxDB)."""

    results: tuple[DayResult, ...]
    unknown: tuple[UnknownTap, ...]
    points: tuple[Point, ...]

    def on(self, day: date) -> Stored:
        """Only what belongs to ``day``."""
        return Stored(
            tuple(r for r in self.results if r.day == day),
            tuple(u for u in self.unknown if u.day == day),
            tuple(p for p in self.points if point_day(p) == day),
        )


def point_day(point: Point) -> date:
    """The WITA date of an ``attendance_day`` point (its time is that day's 00:00 + rank ns)."""
    nanoseconds = dict(point)["time"]
    if not isinstance(nanoseconds, int):  # InfluxDB answers epoch=ns queries with integers
        raise TypeError(f"expected the point's time in integer nanoseconds, got {nanoseconds!r}")
    at = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=nanoseconds // 1000)
    return at.astimezone(WITA).date()


def stored(registry: Registry, writer: InfluxV1Writer) -> Stored:
    """Everything the job stored for the month, in a fixed order."""
    rows = writer.select(f"SELECT * FROM {writer.measurement(ATTENDANCE_DAY)}")  # noqa: S608
    return Stored(
        tuple(registry.day_results(data.FIRST, data.LAST)),
        tuple(registry.unknown_taps(data.FIRST, data.LAST)),
        tuple(sorted((tuple(sorted(row.items())) for row in rows), key=repr)),
    )


@dataclass(frozen=True)
class MonthRun:
    """The month computed, the backlog stored a day late and its day recomputed.

    Attributes:
        before_backlog: what was stored after the first computation of the month.
    """

    scenario: Scenario
    writer: InfluxV1Writer
    registry: Registry
    job: Job
    before_backlog: Stored


def run_month(scenario: Scenario, writer: InfluxV1Writer, database: StateDatabase) -> MonthRun:
    """Seed, store the taps, compute the month; store the backlog, recompute its day only."""
    registry = scenario.seed(database)
    store_taps(writer, scenario.taps)
    job = Job(InfluxTapStore(writer), registry, scenario.settings, scenario.calendar)
    job.compute(scenario.days())
    before = stored(registry, writer)
    store_taps(writer, scenario.backlog)
    job.compute([data.BACKLOG_DAY])
    return MonthRun(scenario, writer, registry, job, before)
