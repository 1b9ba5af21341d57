"""Taps read from, and day recaps written to, a real InfluxDB 1.x (collector.attendance.taps)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

import pytest
from hypothesis import given
from hypothesis import strategies as st

from collector.attendance.model import WITA, DayResult, Status, Tap
from collector.attendance.taps import (
    ATTENDANCE_DAY,
    InfluxTapStore,
    day_lines,
    day_points,
    epoch_ns,
    pseudonym,
)
from collector.config import InfluxV1Settings
from collector.encoding import LineEncoder
from collector.storage.influx_v1 import InfluxV1Writer
from collector.storage.lineprotocol import to_line
from pelangi.card import CardId, em4100
from pelangi.payloads import SCHEMA_VERSION, CardRead, Envelope

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sandbox.servers import InfluxDB

pytestmark = pytest.mark.servers

DAY = date(2026, 3, 2)
MIDNIGHT = datetime.combine(DAY, time(), WITA)


@pytest.fixture
def writer(influxdb: InfluxDB, influx_db: str) -> Iterator[InfluxV1Writer]:
    backend = InfluxV1Writer(InfluxV1Settings(url=influxdb.url, database=influx_db))
    yield backend
    backend.close()


def store(writer: InfluxV1Writer, reader: str, *reads: CardRead, historical: bool = False) -> None:
    envelope = Envelope(
        v=SCHEMA_VERSION,
        site="bukit-pelangi",
        gateway="gw-1",
        device=reader,
        readings=reads,
        historical=historical,
    )
    lines, refused = LineEncoder().encode(envelope)
    assert not refused
    writer.write(lines)


def test_taps_in_a_range_come_back_with_their_reader_and_clock_flag(
    writer: InfluxV1Writer,
) -> None:
    card = em4100(bytes.fromhex("01001293D8"))
    wiegand = CardId(raw="12:37848", uid="00129398", bits=24)
    at = MIDNIGHT + timedelta(hours=7, minutes=29, seconds=59, microseconds=123456)
    store(writer, "rfid-lobby", CardRead(seq=1, ts=epoch_ns(at), card=card))
    store(
        writer,
        "rfid-hall",
        CardRead(seq=2, ts=epoch_ns(at + timedelta(hours=9)), card=wiegand, clock_corrected=True),
        historical=True,
    )
    store(
        writer,
        "rfid-lobby",
        CardRead(seq=3, ts=epoch_ns(MIDNIGHT - timedelta(seconds=1)), card=card),
    )

    taps = sorted(
        InfluxTapStore(writer).taps(MIDNIGHT, MIDNIGHT + timedelta(days=1)), key=lambda t: t.at
    )

    assert taps == [
        Tap("001293D8", at, "bukit-pelangi", "gw-1", "rfid-lobby"),
        Tap(
            "00129398",
            at + timedelta(hours=9),
            "bukit-pelangi",
            "gw-1",
            "rfid-hall",
            bits=24,
            clock_suspect=True,
        ),
    ]
    assert taps[0].local.time() == time(7, 29, 59, 123456)  # microseconds survive the trip


def result(employee: str, status: Status, **fields: object) -> DayResult:
    return DayResult(employee=employee, day=DAY, unit="diskominfo", status=status, **fields)  # type: ignore[arg-type]


def test_replace_day_leaves_exactly_the_new_results(
    writer: InfluxV1Writer, influxdb: InfluxDB, influx_db: str
) -> None:
    tapped = MIDNIGHT + timedelta(hours=7, minutes=45)
    first = [
        result("199001012020121001", Status.TANPA_KETERANGAN),
        result("honorer-17", Status.TANPA_KETERANGAN),
        result("199203152019032002", Status.TANPA_KETERANGAN),
    ]
    store_ = InfluxTapStore(writer)
    store_.replace_day(DAY, first)
    next_day = DayResult("honorer-17", DAY + timedelta(days=1), "diskominfo", Status.HADIR)
    store_.replace_day(DAY + timedelta(days=1), [next_day])
    # A late tap turns one absence into a late arrival: the day is recomputed.
    second = [
        first[0],
        result(
            "honorer-17",
            Status.HADIR,
            check_in=tapped,
            minutes_late=15,
            tl=1,
        ),
        first[2],
    ]
    store_.replace_day(DAY, second)

    rows = influxdb.query(f"SELECT * FROM {ATTENDANCE_DAY}", db=influx_db)  # noqa: S608
    by_employee = {
        row["employee"]: row for row in rows if row["time"] < epoch_ns(MIDNIGHT) + 86_400e9
    }
    assert len(rows) == 4
    assert set(by_employee) == {pseudonym(r.employee) for r in second}
    late = by_employee[pseudonym("honorer-17")]
    assert (late["status"], late["unit"], late["minutes_late"], late["tl"], late["check_in"]) == (
        "H",
        "diskominfo",
        15,
        1,
        7 * 60 + 45,
    )
    assert late.get("check_out") is None
    # No names or NIPs reach InfluxDB: only pseudonyms.
    assert not any("1990" in str(value) for row in rows for value in row.values())


def test_points_of_one_day_never_share_a_timestamp() -> None:
    results = [result(f"employee-{n}", Status.HADIR) for n in range(3000)]
    points = day_points(results)
    assert len({p.time_ns for p in points}) == 3000
    assert min(p.time_ns for p in points) == epoch_ns(MIDNIGHT.astimezone(UTC))
    assert points == day_points(list(reversed(results)))  # the order handed in does not matter


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["199001012020121001", "honorer-7", "satpam-1"]),
            st.sampled_from(list(Status)),
            st.sampled_from(["diskominfo", "b.p-k_a.d", "U1"]),
            st.integers(0, 600),
            st.one_of(st.none(), st.integers(0, 24 * 60 * 60 - 1)),
            st.one_of(st.none(), st.integers(0, 2 * 24 * 60 * 60 - 1)),
        ),
        unique_by=lambda row: row[0],
    )
)
def test_the_direct_lines_are_the_points_lines(
    rows: list[tuple[str, Status, str, int, int | None, int | None]],
) -> None:
    """replace_day writes day_lines; they must be what to_line makes of day_points."""
    results = [
        DayResult(
            key,
            DAY,
            unit,
            status,
            check_in=None if check_in is None else MIDNIGHT + timedelta(seconds=check_in),
            # a night shift's check-out is the next morning: more than 24 h after midnight
            check_out=None if check_out is None else MIDNIGHT + timedelta(seconds=check_out),
            minutes_late=late,
            tl=min(4, late // 30),
            worked_minutes=late * 2,
        )
        for key, status, unit, late, check_in, check_out in rows
    ]
    assert day_lines(results) == [to_line(point) for point in day_points(results)]
