"""The attendance benchmark end to end: load the month, then time (a), (b) and (c) in rounds."""

from __future__ import annotations

import gc
from dataclasses import dataclass, field
from statistics import median
from typing import TYPE_CHECKING, Any, Final

from collector.attendance.job import Computed, Job
from collector.attendance.report_files import write_csv, write_xlsx
from collector.attendance.reporting import build_report
from collector.attendance.taps import ATTENDANCE_DAY, InfluxTapStore
from collector.config import InfluxV1Settings
from collector.state import StateSettings, open_state
from collector.storage.points import CARD_READ
from sandbox.attendance import card_read_lines
from sandbox.bench.attendance import office, report
from sandbox.bench.attendance.baseline import QueryTiming, RawQueries, job_ranges, month_range
from sandbox.bench.attendance.phases import (
    Stopwatch,
    TimedRegistry,
    TimedTapStore,
    TimedWriter,
    timed,
)
from sandbox.bench.report import BenchResult
from sandbox.servers import InfluxDB

if TYPE_CHECKING:
    from datetime import date
    from pathlib import Path

    from collector.attendance.registry import Registry
    from collector.attendance.settings import AttendanceSettings
    from collector.state import StateDatabase
    from sandbox.attendance import Month

NAME: Final = "attendance"
DATABASE: Final = "bench_attendance"
INFLUX_TIMEOUT_S: Final = 120.0


@dataclass(frozen=True, slots=True)
class Sizes:
    """How big a run is."""

    staff: int
    repeats: int


FULL: Final = Sizes(staff=3_000, repeats=3)
QUICK: Final = Sizes(staff=300, repeats=3)


@dataclass(frozen=True, slots=True)
class Round:
    """One round: (a) InfluxDB alone, (b) the job, (c) the export, one after the other."""

    influx: QueryTiming
    influx_month: QueryTiming
    job_s: float
    job_phases: dict[str, float]
    computed: Computed
    export_phases: dict[str, float]
    daily_rows: int
    files_bytes: int

    @property
    def export_s(self) -> float:
        """The whole export (c)."""
        return sum(self.export_phases.values())

    def export_without(self, phase: str) -> float:
        """The export with one file format left out: (c) as one format's export."""
        return self.export_s - self.export_phases[phase]


@dataclass
class Loaded:
    """What the untimed preparation left: the office, its month and the objects under test."""

    settings: AttendanceSettings
    month: Month
    days: list[date]
    influx: InfluxDB
    database: StateDatabase
    registry: Registry
    writer: TimedWriter
    watch: Stopwatch
    raw: RawQueries
    outdir: Path
    load_s: dict[str, float] = field(default_factory=dict)

    def job(self) -> Job:
        """The job exactly as ``attendance compute`` builds it, over the timed wrappers."""
        return Job(
            TimedTapStore(InfluxTapStore(self.writer), self.watch),
            TimedRegistry(self.registry, self.watch),
            self.settings,
            office.office_calendar(self.settings),
        )


def measure_round(loaded: Loaded, job: Job) -> Round:
    """(a), (b), (c) once each; a full garbage collection before each, outside the clock."""
    gc.collect()
    influx = loaded.raw.run(job_ranges(loaded.days, loaded.settings))
    influx_month = loaded.raw.run(month_range(loaded.days, loaded.settings))
    gc.collect()
    loaded.watch.reset()
    with timed() as took:
        computed = job.compute(loaded.days)
    job_s = took[0]
    job_phases = loaded.watch.job_phases(job_s)
    gc.collect()
    export, daily_rows, files_bytes = export_month(loaded)
    return Round(influx, influx_month, job_s, job_phases, computed, export, daily_rows, files_bytes)


def export_month(loaded: Loaded) -> tuple[dict[str, float], int, int]:
    """(c): build the month's report, lay it out, write XLSX and CSV; phases, rows, bytes."""
    first, last = loaded.days[0], loaded.days[-1]
    phases: dict[str, float] = {}
    with timed() as took:
        report = build_report(loaded.registry, loaded.settings, first, last)
    phases["build_report"] = took[0]
    with timed() as took:
        tables = report.tables()
    phases["tables"] = took[0]
    with timed() as took:
        written = write_xlsx(tables, loaded.outdir / "rekap.xlsx")
    phases["xlsx"] = took[0]
    with timed() as took:
        written += write_csv(tables, loaded.outdir / "rekap.csv")
    phases["csv"] = took[0]
    return phases, len(tables[0].rows), sum(path.stat().st_size for path in written)


def load(workdir: Path, influx: InfluxDB, staff: int) -> Loaded:
    """Make the month, store its taps, seed the registry (timed for the notes only)."""
    load_s: dict[str, float] = {}
    settings = office.office_settings()
    with timed() as took:
        month = office.month_of(staff)
        lines = card_read_lines(month.taps)
    load_s["synthetic month"] = took[0]
    influx.create_database(DATABASE)
    watch = Stopwatch()
    writer = TimedWriter(
        InfluxV1Settings(url=influx.url, database=DATABASE, timeout_s=INFLUX_TIMEOUT_S),
        watch=watch,
    )
    with timed() as took:
        office.store_taps(writer, lines)
    load_s["taps into InfluxDB"] = took[0]
    database = open_state(StateSettings(url=f"sqlite:///{workdir / 'state.db'}"))
    with timed() as took:
        registry = office.seed_registry(database, settings, month)
    load_s["registry into SQLite"] = took[0]
    outdir = workdir / "export"
    outdir.mkdir()
    return Loaded(
        settings=settings,
        month=month,
        days=office.month_days(month),
        influx=influx,
        database=database,
        registry=registry,
        writer=writer,
        watch=watch,
        raw=RawQueries(influx, DATABASE),
        outdir=outdir,
        load_s=load_s,
    )


def stored_counts(loaded: Loaded) -> dict[str, int]:
    """What the stores hold after the rounds: taps, attendance_day points, state DB rows."""
    first, last = loaded.days[0], loaded.days[-1]

    def influx_count(measurement: str, field_name: str) -> int:
        # S608: both names are this module's constants.
        statement = f'SELECT count("{field_name}") FROM "{measurement}"'  # noqa: S608
        rows = loaded.influx.query(statement, DATABASE)
        return int(rows[0]["count"]) if rows else 0

    return {
        "card_read": influx_count(CARD_READ, "uid"),
        "attendance_day": influx_count(ATTENDANCE_DAY, "employee"),
        "state_results": len(loaded.registry.day_results(first, last)),
    }


def lost_lines(loaded: Loaded, rounds: list[Round], stored: dict[str, int]) -> list[str]:
    """Every count that disagrees: a run that did not see, store or export everything."""
    expected_results = len(loaded.month.employees) * len(loaded.days)
    problems = []
    if stored["card_read"] != len(loaded.month.taps):
        problems.append(f"InfluxDB holds {stored['card_read']} taps of {len(loaded.month.taps)}")
    problems += [
        f"{name}: {stored[name]} stored, expected {expected_results}"
        for name in ("attendance_day", "state_results")
        if stored[name] != expected_results
    ]
    for number, done in enumerate(rounds):
        if done.computed.taps != done.influx.rows:
            problems.append(
                f"round {number}: the job read {done.computed.taps} taps, "
                f"InfluxDB alone returned {done.influx.rows}"
            )
        if done.computed.results != expected_results or done.daily_rows != expected_results:
            problems.append(
                f"round {number}: {done.computed.results} results, {done.daily_rows} "
                f"report rows; expected {expected_results}"
            )
    return problems


def medians(rounds: list[Round]) -> dict[str, Any]:
    """The median of every timed figure over ``rounds``."""
    keys = rounds[0].job_phases
    exports = rounds[0].export_phases
    return {
        "influx_s": median(r.influx.total_s for r in rounds),
        "influx_http_s": median(r.influx.http_s for r in rounds),
        "influx_json_s": median(r.influx.json_s for r in rounds),
        "influx_month_s": median(r.influx_month.total_s for r in rounds),
        "job_s": median(r.job_s for r in rounds),
        "export_s": median(r.export_s for r in rounds),
        "job_and_export_s": median(r.job_s + r.export_s for r in rounds),
        "job_and_csv_s": median(r.job_s + r.export_without("xlsx") for r in rounds),
        "job_and_xlsx_s": median(r.job_s + r.export_without("csv") for r in rounds),
        # What no design can skip: InfluxDB answering the tap queries, the rows decoded,
        # and the results written back (DELETE + POST); the rules and SQL come on top.
        "influx_round_trips_s": median(
            r.job_phases["query"]
            + r.job_phases["decode"]
            + r.job_phases["delete"]
            + r.job_phases["write"]
            for r in rounds
        ),
        "job_phases": {k: median(r.job_phases[k] for r in rounds) for k in keys},
        "export_phases": {k: median(r.export_phases[k] for r in rounds) for k in exports},
    }


def measure(workdir: Path, sizes: Sizes) -> tuple[Loaded, Round, list[Round], dict[str, int]]:
    """Start InfluxDB, load, one untimed first round, ``sizes.repeats`` timed rounds."""
    with InfluxDB(workdir / "influxdb") as influx:
        loaded = load(workdir, influx, sizes.staff)
        try:
            job = loaded.job()
            # The first computation has no attendance_day points to replace yet; the timed
            # rounds are recomputations, as `attendance run` makes all day long.
            first = measure_round(loaded, job)
            rounds = [measure_round(loaded, job) for _ in range(sizes.repeats)]
            stored = stored_counts(loaded)
        finally:
            loaded.raw.close()
            loaded.writer.close()
            loaded.database.close()
    return loaded, first, rounds, stored


def run(workdir: Path, *, quick: bool = False, sizes: Sizes | None = None) -> BenchResult:
    """Run the attendance benchmark in ``workdir`` (the servers' folders go there).

    Args:
        workdir: an empty folder; removed by the caller.
        quick: use :data:`QUICK` sizes (ignored when ``sizes`` is given).
        sizes: explicit sizes (the smoke test uses tiny ones).
    """
    sizes = sizes or (QUICK if quick else FULL)
    loaded, first, rounds, stored = measure(workdir, sizes)
    m = medians(rounds)
    full_size = sizes.staff >= FULL.staff
    return BenchResult(
        name=NAME,
        title=(
            "compute and export a month of attendance, against InfluxDB alone returning its taps"
        ),
        parameters={
            "staff": sizes.staff,
            "employees": len(loaded.month.employees),
            "taps": len(loaded.month.taps),
            "days": len(loaded.days),
            "rounds": sizes.repeats,
        },
        tables=(
            report.totals_table(loaded, first, rounds, m),
            report.phases_table(m),
        ),
        checks=report.checks(m, full_size=full_size),
        figures=report.figures(loaded, first, rounds, m, stored),
        notes=tuple(report.notes(loaded, first, m, full_size=full_size)),
        lost=tuple(lost_lines(loaded, [first, *rounds], stored)),
    )
