"""``attendance run``'s loop (:class:`collector.attendance.job.Service`) through an outage.

InfluxDB is SIGKILLed before the service's first pass: every pass fails with one
warning line (no traceback) and the service carries on; once InfluxDB is back, the next
pass computes the days, yesterday (a closed day) included.
"""

from __future__ import annotations

import logging
import threading
from datetime import date, datetime, time
from typing import TYPE_CHECKING

import pytest

from collector.attendance.calendar import Calendar
from collector.attendance.job import Job, Service
from collector.attendance.model import WITA, CardAssignment, Employee, Status, Tap
from collector.attendance.registry import Registry
from collector.attendance.settings import AttendanceSettings, UnitSettings
from collector.attendance.taps import InfluxTapStore
from collector.config import InfluxV1Settings
from collector.storage.influx_v1 import InfluxV1Writer
from sandbox.attendance import card_read_lines
from sandbox.waiting import wait_until

if TYPE_CHECKING:
    from collector.state import StateDatabase
    from sandbox.servers import InfluxDB

pytestmark = pytest.mark.servers

MONDAY = date(2026, 3, 2)
TUESDAY = date(2026, 3, 3)


def at(day: date, hour: int, minute: int) -> datetime:
    return datetime.combine(day, time(hour, minute), WITA)


def test_a_pass_that_fails_is_one_warning_and_the_next_one_catches_up(
    own_influx: InfluxDB, state_db: StateDatabase, caplog: pytest.LogCaptureFixture
) -> None:
    registry = Registry(state_db)
    with registry.changes() as changes:
        changes.put_employee(Employee("honorer-1", "Andi Saputra", "umum"))
        changes.assign_card(CardAssignment("00A00001", "honorer-1", date(2025, 1, 1)))
    writer = InfluxV1Writer(InfluxV1Settings(url=own_influx.url, database="pelangi", timeout_s=2))
    lines = card_read_lines(
        [
            Tap("00A00001", at(MONDAY, 7, 20), "bukit-pelangi", "gw-1", "rfid-lobby"),
            Tap("00A00001", at(MONDAY, 16, 5), "bukit-pelangi", "gw-1", "rfid-lobby"),
        ]
    )
    writer.write(lines)
    settings = AttendanceSettings(units={"umum": UnitSettings(name="Bagian Umum")})
    job = Job(InfluxTapStore(writer), registry, settings, Calendar())
    own_influx.kill()
    service = Service(job, interval_s=0.1, lookback_days=1, clock=lambda: at(TUESDAY, 10, 0))
    caplog.set_level(logging.WARNING, logger="collector.attendance.job")
    thread = threading.Thread(target=service.run, name="attendance-service")
    thread.start()
    try:
        wait_until(
            lambda: len([r for r in caplog.records if "retrying in" in r.getMessage()]) >= 2,
            timeout=30,
            what="two failed passes, each logged",
        )
        assert all(record.exc_info is None for record in caplog.records)  # one line each
        assert registry.day_results(MONDAY, TUESDAY) == []
        own_influx.start()
        stored = wait_until(
            lambda: registry.day_results(MONDAY, MONDAY) or None,
            timeout=30,
            what="Monday computed once InfluxDB is back",
        )
    finally:
        service.stop()
        thread.join(timeout=30)
        writer.close()
    assert not thread.is_alive()
    assert [(r.employee, r.status, r.minutes_late) for r in stored] == [
        ("honorer-1", Status.HADIR, 0)
    ]
    assert {r.day for r in registry.day_results(MONDAY, TUESDAY)} == {MONDAY, TUESDAY}


def test_a_year_the_holiday_file_lacks_is_warned_about_once(
    own_influx: InfluxDB, state_db: StateDatabase, caplog: pytest.LogCaptureFixture
) -> None:
    writer = InfluxV1Writer(InfluxV1Settings(url=own_influx.url, database="pelangi", timeout_s=2))
    settings = AttendanceSettings(units={"umum": UnitSettings(name="Bagian Umum")})
    job = Job(InfluxTapStore(writer), Registry(state_db), settings, Calendar())  # no holidays
    service = Service(job, interval_s=0.05, lookback_days=1, clock=lambda: at(TUESDAY, 10, 0))
    caplog.set_level(logging.INFO, logger="collector.attendance.job")
    thread = threading.Thread(target=service.run, name="attendance-service")
    thread.start()
    try:
        wait_until(
            lambda: (
                len(
                    [
                        r
                        for r in caplog.records
                        if " days, " in r.getMessage()  # the summary line of each pass
                    ]
                )
                >= 3
            ),
            timeout=30,
            what="three passes done",
        )
    finally:
        service.stop()
        thread.join(timeout=30)
        writer.close()
    warnings = [r for r in caplog.records if "has no dates for 2026" in r.getMessage()]
    assert len(warnings) == 1
