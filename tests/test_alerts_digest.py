"""The daily digest: when it is due, what night and day it covers, and reading them.

Pure parts first (:mod:`collector.alerts.digest_plan`), then :class:`InfluxDigestSource`
against a real InfluxDB, and :class:`DigestJob` against it, against an InfluxDB port where
nothing listens, and against a real state database that already holds the day's digest.
The engine process sending it is in ``test_alerts_service.py``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

import pytest

from collector.alerts.codec import notification_from_json, notification_to_json
from collector.alerts.config import AlertsSection
from collector.alerts.digest_job import DigestJob, InfluxDigestSource
from collector.alerts.digest_plan import (
    DoorState,
    StatusCount,
    digest_notifications,
    doors_open,
    due_day,
    engine_parts,
    make_digest,
    night,
    unit_totals,
)
from collector.alerts.model import Alert, AlertKey, Audience, Phase, Severity
from collector.alerts.notify.digest import UnitAttendance
from collector.alerts.notify.render import Renderer
from collector.alerts.notify.settings import DigestSettings
from collector.alerts.store import AlertStore
from collector.attendance.model import WITA
from collector.attendance.taps import epoch_ns
from collector.config import InfluxV1Settings
from collector.storage.influx_v1 import InfluxV1Writer
from sandbox.servers.base import free_port
from sandbox.waiting import wait_until

if TYPE_CHECKING:
    from collections.abc import Iterator

    from collector.alerts.model import Notification
    from collector.state import StateDatabase
    from sandbox.servers import InfluxDB

DAY = date(2026, 12, 3)
SETTINGS = DigestSettings()
START, END = night(DAY, SETTINGS)  # 2 Dec 18:00 WITA to 3 Dec 07:00 WITA
SITE = "bukit-pelangi"
BUILDINGS = AlertsSection.model_validate({"buildings": {"kantor-bupati": {"gateways": ["gw-1"]}}})
NOWHERE = AlertsSection()


def wita(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), WITA)


def state(at: datetime, value: str, door: str = "pintu-utama") -> DoorState:
    return DoorState(SITE, "gw-1", door, at, value)


def alert(rule: str, phase: Phase, severity: Severity = Severity.WARNING, **labels: str) -> Alert:
    since = wita(DAY, 2)
    return Alert(
        key=AlertKey(rule, SITE, "gw-1"),
        severity=severity,
        audience=Audience.IT,
        phase=phase,
        since=since,
        fired_at=since if phase is Phase.FIRING else None,
        labels=labels,
    )


# -- when, and which night ---------------------------------------------------------------


def test_the_digest_is_due_from_its_time_in_wita_for_the_rest_of_that_day() -> None:
    assert due_day(wita(DAY, 6, 59), SETTINGS) is None
    assert due_day(wita(DAY, 7, 0), SETTINGS) == DAY
    assert due_day(wita(DAY, 23, 59), SETTINGS) == DAY
    # 23:30 UTC on the 2nd is 07:30 WITA on the 3rd: the day is taken in WITA.
    assert due_day(datetime(2026, 12, 2, 23, 30, tzinfo=UTC), SETTINGS) == DAY
    assert due_day(wita(DAY, 8), DigestSettings(enabled=False)) is None


def test_the_night_runs_from_night_from_the_evening_before_to_the_digest_time() -> None:
    start, end = night(DAY, SETTINGS)
    assert (start, end) == (wita(DAY - timedelta(days=1), 18), wita(DAY, 7))


# -- doors open overnight ----------------------------------------------------------------


def test_doors_open_overnight_episodes_from_changes_and_the_state_before_the_night() -> None:
    evening = DAY - timedelta(days=1)
    states = [
        # Opened in the afternoon, restated before the night, closed at 19:10: reported
        # from when it opened.
        state(wita(evening, 16, 5), "open"),
        state(wita(evening, 17, 59), "open"),
        state(wita(evening, 19, 10), "closed"),
        # Open again at 23:00, the sensor silent at 01:00, never closed: still open.
        state(wita(evening, 23), "open"),
        state(wita(DAY, 1), "unknown"),
        # Another door: open and closed before the night (not reported), then open after
        # the digest's time (not this night's either).
        state(wita(evening, 12), "open", door="pintu-belakang"),
        state(wita(evening, 13), "closed", door="pintu-belakang"),
        state(wita(DAY, 7, 30), "open", door="pintu-belakang"),
    ]
    found = doors_open(states, START, END, BUILDINGS.building_of)
    assert [(d.door, d.opened_at, d.closed_at, d.building) for d in found] == [
        ("pintu-utama", wita(evening, 16, 5), wita(evening, 19, 10), "kantor-bupati"),
        ("pintu-utama", wita(evening, 23), None, "kantor-bupati"),
    ]


def test_a_door_closed_all_night_is_not_reported() -> None:
    states = [
        state(START - timedelta(hours=2), "closed"),
        state(START + timedelta(hours=3), "closed"),
    ]
    assert doors_open(states, START, END, NOWHERE.building_of) == ()


# -- attendance, alerts, notifications ---------------------------------------------------


def test_unit_totals_split_present_and_late_and_count_leave_but_not_days_off() -> None:
    counts = [
        StatusCount("diskominfo", "H", 40, late=3),
        StatusCount("diskominfo", "TK", 2),
        StatusCount("diskominfo", "C", 1),
        StatusCount("diskominfo", "DL", 2),
        StatusCount("diskominfo", "libur", 5),
        StatusCount("setda", "H", 10),
    ]
    totals = unit_totals(counts, {"diskominfo": "Dinas Komunikasi dan Informatika"})
    assert totals == (
        UnitAttendance("Dinas Komunikasi dan Informatika", present=37, late=3, absent=2, leave=3),
        UnitAttendance("setda", present=10, late=0, absent=0, leave=0),
    )


def test_open_alerts_are_the_firing_ones_worst_first_and_gateways_offline_among_them() -> None:
    offline = alert("gateway_offline", Phase.FIRING, building="Bappeda")
    critical = alert("door_held_open", Phase.FIRING, Severity.CRITICAL)
    pending = alert("port_down", Phase.PENDING)
    open_alerts, gateways = engine_parts([offline, pending, critical])
    assert open_alerts == (critical, offline)
    assert [(g.gateway, g.building, g.since) for g in gateways] == [
        ("gw-1", "Bappeda", offline.since)
    ]


def digest_of_the_day(*, unavailable: bool = False) -> list[Notification]:
    doors = None if unavailable else ()
    attendance = None if unavailable else (UnitAttendance("setda", 1, 0, 0, 0),)
    digest = make_digest(DAY, wita(DAY, 7), [], doors, attendance)
    return digest_notifications(digest, (Audience.IT, Audience.SECURITY, Audience.IT))


def test_one_notification_per_audience_with_a_stable_id_that_survives_the_outbox() -> None:
    made = digest_of_the_day()
    assert [n.id for n in made] == ["digest-2026-12-03-it", "digest-2026-12-03-security"]
    assert [notification_from_json(notification_to_json(n)) for n in made] == made


def test_a_digest_notification_renders_and_says_what_could_not_be_read() -> None:
    (it, _) = digest_of_the_day(unavailable=True)
    message = Renderer("id").render(it)
    assert message.subject == "Ringkasan harian Pelangi 3 Des 2026"
    assert message.text.count("Data tidak tersedia") == 2
    (it, _) = digest_of_the_day()
    text = Renderer("en").render(it).text
    assert "Not available" not in text
    assert "* setda: Present 1, Late 0, Absent 0, On leave 0 (total 1)" in text


# -- reading InfluxDB --------------------------------------------------------------------


@pytest.fixture
def writer(influxdb: InfluxDB, influx_db: str) -> Iterator[InfluxV1Writer]:
    client = InfluxV1Writer(InfluxV1Settings(url=influxdb.url, database=influx_db))
    yield client
    client.close()


def door_line(at: datetime, value: str, *, change: bool, door: str = "pintu-utama") -> str:
    code = {"open": 1, "closed": 0, "unknown": -1}[value]
    return (
        f"door,site={SITE},gateway=gw-1,device={door} "
        f'state="{value}",state_code={code}i,change={str(change).lower()} {epoch_ns(at)}'
    )


def day_line(unit: str, status: str, rank: int, tl: int = 0, day: date = DAY) -> str:
    midnight = epoch_ns(datetime.combine(day, time(), WITA))
    return (
        f"attendance_day,status={status},unit={unit} "
        f'employee="e{rank}",tl={tl}i,psw=0i,minutes_late={tl * 10}i {midnight + rank}'
    )


def test_influx_source_reads_the_nights_doors_and_the_days_counts(writer: InfluxV1Writer) -> None:
    evening = DAY - timedelta(days=1)
    writer.write(
        [
            door_line(wita(evening, 16, 5), "open", change=True),
            door_line(wita(evening, 17, 59), "open", change=False),
            door_line(wita(evening, 19, 10), "closed", change=True),
            door_line(wita(evening, 20), "closed", change=False),  # periodic: not needed
            door_line(wita(evening, 10), "closed", change=True, door="pintu-belakang"),
        ]
    )
    source = InfluxDigestSource(writer)
    found = doors_open(source.door_states(START, END), START, END, NOWHERE.building_of)
    assert [(d.door, d.opened_at, d.closed_at) for d in found] == [
        ("pintu-utama", wita(evening, 16, 5), wita(evening, 19, 10))
    ]
    writer.write(
        [
            day_line("diskominfo", "H", 0),
            day_line("diskominfo", "H", 1, tl=2),
            day_line("diskominfo", "TK", 2),
            day_line("diskominfo", "H", 3, day=DAY + timedelta(days=1)),  # another day
        ]
    )
    counts = source.status_counts(
        datetime.combine(DAY, time(), WITA), datetime.combine(DAY + timedelta(days=1), time(), WITA)
    )
    assert sorted(counts, key=lambda c: c.status) == [
        StatusCount("diskominfo", "H", 2, late=1),
        StatusCount("diskominfo", "TK", 1),
    ]


def job(source: InfluxDigestSource | None, known: AlertStore | None = None) -> DigestJob:
    section = AlertsSection.model_validate({"notify": {"digest": {"audiences": ["it"]}}})
    return DigestJob(
        section, source, (known.known if known else lambda _ids: set()), {}, retry_s=0.05
    )


def made(digest_job: DigestJob, now: datetime) -> list[Notification]:
    """Ask ``digest_job`` until it hands out the notifications (its reads run on a worker)."""
    return wait_until(lambda: digest_job.due(now, list), timeout=10, what="the digest is made")


def test_the_job_reads_on_its_worker_and_makes_the_day_once(writer: InfluxV1Writer) -> None:
    writer.write([day_line("setda", "H", 0, day=DAY - timedelta(days=1))])
    digest_job = job(InfluxDigestSource(writer))
    try:
        assert digest_job.due(wita(DAY, 6, 59), list) == []
        (notification,) = made(digest_job, wita(DAY, 7, 0))
        assert notification.digest is not None
        assert notification.digest.attendance == (UnitAttendance("setda", 1, 0, 0, 0),)
        assert notification.digest.unavailable == ()
        assert digest_job.due(wita(DAY, 7, 1), list) == []  # made: not again today
    finally:
        digest_job.close()


def test_influxdb_unreachable_the_digest_goes_out_saying_so() -> None:
    dead = InfluxV1Writer(
        InfluxV1Settings(url=f"http://127.0.0.1:{free_port()}", database="pelangi", timeout_s=1)
    )
    digest_job = job(InfluxDigestSource(dead))
    try:
        (notification,) = made(digest_job, wita(DAY, 7))
        assert notification.digest is not None
        assert notification.digest.unavailable == ("doors", "attendance")
    finally:
        digest_job.close()
        dead.close()


@pytest.mark.parametrize("state_settings", ["sqlite"], indirect=True)
def test_a_digest_already_in_the_store_is_not_made_again(state_db: StateDatabase) -> None:
    store = AlertStore(state_db)
    (queued,) = made(job(None), wita(DAY, 7))
    assert store.apply([], [queued]) == 1
    again = job(None, known=store)
    assert again.due(wita(DAY, 9), list) == []
    assert again.due(wita(DAY + timedelta(days=1), 7), list) != []  # the next day's is new
