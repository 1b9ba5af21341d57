"""The golden month recomputed: idempotent, order-independent, late data on its own day.

Real InfluxDB 1.6 and the state database on SQLite and PostgreSQL, as in
``test_attendance_month.py``: the month is computed, the east entrance's taps of the 12th
arrive a day late and only the 12th is recomputed; then the month is recomputed again,
from taps written in reverse order and from taps read in shuffled order. And nothing
personal reaches InfluxDB: ``attendance_day`` carries unit and status tags only.
"""

from __future__ import annotations

import random
from dataclasses import replace
from typing import TYPE_CHECKING

import pytest

from collector.attendance.job import Job
from collector.attendance.model import WITA, Status
from collector.attendance.taps import ATTENDANCE_DAY, InfluxTapStore, pseudonym
from collector.config import InfluxV1Settings
from collector.storage.influx_v1 import InfluxV1Writer
from sandbox.attendance_scenario import MonthRun, march_2026, run_month, store_taps, stored
from sandbox.attendance_scenario_data import BACKLOG_DAY, key

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from datetime import date, datetime

    from collector.attendance.model import DayResult, Tap
    from collector.state import StateDatabase
    from sandbox.servers import InfluxDB

pytestmark = pytest.mark.servers


@pytest.fixture
def month(influxdb: InfluxDB, influx_db: str, state_db: StateDatabase) -> Iterator[MonthRun]:
    writer = InfluxV1Writer(InfluxV1Settings(url=influxdb.url, database=influx_db))
    try:
        yield run_month(march_2026(), writer, state_db)
    finally:
        writer.close()


def by_employee(results: Sequence[DayResult]) -> dict[str, DayResult]:
    return {result.employee: result for result in results}


def test_a_backlog_replayed_a_day_late_changes_its_day_only_and_recomputing_nothing(
    month: MonthRun,
) -> None:
    scenario, before = month.scenario, month.before_backlog
    after = stored(month.registry, month.writer)
    for day in scenario.days():
        if day != BACKLOG_DAY:
            assert after.on(day) == before.on(day), day

    # Who tapped at the east entrance on the 12th, by the cards they held that day.
    holders = {c.uid: c.employee for c in scenario.cards if c.valid_on(BACKLOG_DAY)}
    late = {holders[tap.uid] for tap in scenario.backlog}
    then, now = (by_employee(s.on(BACKLOG_DAY).results) for s in (before, after))
    assert set(then) == set(now)
    assert {k for k in now if now[k] != then[k]} == late
    assert len(late) >= 5  # the regular east-entrance taps and the two cases below
    # Nur Aini (14) came in by the lobby: without her east-entrance check-out she had
    # no check-out (PSW4); Oki (15) used only the east entrance: TK, then present.
    assert (then[key(14)].check_out, then[key(14)].psw) == (None, 4)
    checked_out = now[key(14)].check_out
    assert checked_out is not None
    assert (checked_out.astimezone(WITA).strftime("%H:%M:%S"), now[key(14)].psw) == ("15:05:00", 0)
    assert then[key(15)].status is Status.TANPA_KETERANGAN
    assert now[key(15)].status is Status.HADIR
    points_then, points_now = before.on(BACKLOG_DAY).points, after.on(BACKLOG_DAY).points
    assert len(points_then) == len(points_now) == len(now)
    assert points_then != points_now

    # Computing the whole month again changes nothing, in either store.
    month.job.compute(scenario.days())
    assert stored(month.registry, month.writer) == after


class Shuffled:
    """A tap store handing out the taps of a real one in a shuffled order."""

    def __init__(self, store: InfluxTapStore, seed: int) -> None:
        self._store = store
        self._random = random.Random(seed)  # noqa: S311 - test order, not secrets

    def taps(self, start: datetime, end: datetime) -> list[Tap]:
        taps = self._store.taps(start, end)
        self._random.shuffle(taps)
        return taps

    def replace_days(self, days: Sequence[date], results: Sequence[DayResult]) -> None:
        self._store.replace_days(days, results)


def test_taps_written_in_reverse_or_read_shuffled_give_the_same_month(
    month: MonthRun, influxdb: InfluxDB, influx_db: str
) -> None:
    scenario = month.scenario
    expected = stored(month.registry, month.writer)
    shuffled = replace(month.job, taps=Shuffled(InfluxTapStore(month.writer), seed=10))
    shuffled.compute(list(reversed(scenario.days())))
    assert stored(month.registry, month.writer) == expected

    name = f"{influx_db}_reversed"
    influxdb.create_database(name)
    writer = InfluxV1Writer(InfluxV1Settings(url=influxdb.url, database=name))
    try:
        store_taps(writer, [*scenario.backlog, *scenario.taps], reverse=True)
        Job(InfluxTapStore(writer), month.registry, scenario.settings, scenario.calendar).compute(
            scenario.days()
        )
        assert stored(month.registry, writer) == expected
    finally:
        writer.close()
        influxdb.drop_database(name)


def test_attendance_day_has_unit_and_status_tags_only_and_no_names_or_nips_anywhere(
    month: MonthRun,
) -> None:
    writer, scenario = month.writer, month.scenario

    def column(statement: str, name: str) -> set[str]:
        return {str(row[name]) for row in writer.select(statement)}

    measurement = writer.measurement(ATTENDANCE_DAY)
    assert column(f"SHOW TAG KEYS FROM {measurement}", "tagKey") == {"unit", "status"}
    assert column(f"SHOW FIELD KEYS FROM {measurement}", "fieldKey") == {
        "employee",
        "minutes_late",
        "minutes_early",
        "worked_minutes",
        "tl",
        "psw",
        "check_in",
        "check_out",
    }
    units = column(f'SHOW TAG VALUES FROM {measurement} WITH KEY = "unit"', "value")
    assert units == set(scenario.settings.units)
    statuses = column(f'SHOW TAG VALUES FROM {measurement} WITH KEY = "status"', "value")
    assert statuses == {str(s) for s in Status}  # the month has every status
    points = stored(month.registry, writer).points
    results = month.registry.day_results(scenario.days()[0], scenario.days()[-1])
    assert len(points) == len(results)  # one point per employee per day
    assert {dict(p)["employee"] for p in points} == {pseudonym(e.key) for e in scenario.employees}

    personal = {e.name for e in scenario.employees} | {e.key for e in scenario.employees}
    personal |= {e.nip for e in scenario.employees if e.nip} | {"Satpam", "Pegawai"}
    everything = [
        value
        for name in column("SHOW MEASUREMENTS", "name")
        for row in writer.select(f'SELECT * FROM "{name}"')  # noqa: S608 - names from InfluxDB
        for value in row.values()
    ]
    assert len(everything) > len(points)  # card_read and attendance_day were both read
    assert [v for v in everything if any(p in str(v) for p in personal)] == []
