"""What every attendance command opens: settings, calendar, state database, InfluxDB.

:func:`opened` loads the collector's configuration file, resolves the holiday file
against the configuration file's folder, opens the state database (and, when asked,
InfluxDB's tap store) and turns every expected failure into one clear line on stderr and
exit status 1 (2 for a bad configuration file), so no command prints a traceback for a
database that is down or a holiday file with a bad date.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

import typer

from collector.attendance.calendar import Calendar
from collector.attendance.holidays import HolidayCalendar, load_holidays
from collector.attendance.job import Job
from collector.attendance.registry import Registry
from collector.attendance.taps import InfluxTapStore
from collector.attendance.vocabulary import Vocabulary
from collector.cli_common import EXIT_FAILED, failures_reported
from collector.config import CollectorSettings, InfluxV1Settings
from collector.state import open_state
from collector.storage.influx_v1 import InfluxV1Writer
from pelangi.cli import load_or_exit

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
    from datetime import date
    from pathlib import Path

    from collector.attendance.settings import AttendanceSettings
    from collector.state import StateDatabase

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class Opened:
    """The open attendance context of one command."""

    config: CollectorSettings
    calendar: Calendar
    database: StateDatabase
    registry: Registry
    writer: InfluxV1Writer | None = None
    _warned: set[int] = field(default_factory=set)

    @property
    def settings(self) -> AttendanceSettings:
        """The ``attendance:`` section."""
        return self.config.attendance

    def job(self) -> Job:
        """The attendance job over InfluxDB and the state database (needs ``influx=True``)."""
        if self.writer is None:  # a programming error: the command did not ask for InfluxDB
            raise RuntimeError("opened(..., influx=True) is needed for the job")
        return Job(InfluxTapStore(self.writer), self.registry, self.settings, self.calendar)

    def warn_missing_holidays(self, days: Iterable[date]) -> None:
        """Say once per year when the holiday file does not cover days about to be computed."""
        for year in self.calendar.missing_years(days):
            if year not in self._warned:
                self._warned.add(year)
                typer.echo(
                    f"warning: the holiday file has no dates for {year}: its holidays and "
                    "cuti bersama count as working days (attendance.holidays_file)",
                    err=True,
                )


def load_settings(config: Path) -> tuple[CollectorSettings, Calendar]:
    """The configuration file and its calendar; exits with a clear message on a bad file."""
    settings = load_or_exit(config, CollectorSettings)
    attendance = settings.attendance
    holidays = HolidayCalendar()
    if attendance.holidays_file is not None:
        # A relative path is relative to the configuration file, not to the working folder
        # of whoever runs the command (systemd, a technician's shell).
        path = attendance.holidays_file
        if not path.is_absolute():
            path = config.parent / path
        holidays = _or_exit(lambda: load_holidays(path))
    return settings, Calendar.of(attendance, holidays)


@contextmanager
def opened(config: Path, *, influx: bool = False, upgrade: bool | None = None) -> Iterator[Opened]:
    """Open everything an attendance command needs; close it after (see the module docstring).

    ``upgrade``: bring the state database's schema up to date (None: as configured).
    """
    settings, calendar = load_settings(config)
    writer: InfluxV1Writer | None = None
    if influx:
        if not isinstance(settings.influxdb, InfluxV1Settings):
            typer.echo(
                f"{config}: attendance reads card taps with InfluxQL: set influxdb.backend to "
                "influxdb1 (InfluxDB 1.x, or 2.x/3.x through their v1 compatibility API); "
                f"got {settings.influxdb.backend}",
                err=True,
            )
            raise typer.Exit(EXIT_FAILED)
        writer = InfluxV1Writer(settings.influxdb)
    database = _or_exit(lambda: open_state(settings.state, upgrade=upgrade))
    registry = Registry(database, Vocabulary.from_settings(settings.attendance))
    try:
        with failures_reported():
            yield Opened(settings, calendar, database, registry, writer)
    finally:
        database.close()
        if writer is not None:
            writer.close()


def _or_exit(action: Callable[[], T]) -> T:
    with failures_reported():
        return action()


__all__ = ["Opened", "load_settings", "opened"]
