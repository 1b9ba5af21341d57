"""Today's recap (collector.attendance.today): counts per unit, the late, those not yet in."""

from __future__ import annotations

from datetime import date, datetime, time

from collector.attendance.model import WITA, DayResult, Employee, Status
from collector.attendance.today import TodayRecap

DAY = date(2026, 12, 3)
UNITS = {"umum": "Bagian Umum", "satpam": "Satuan Pengamanan"}


def at(hour: int, minute: int) -> datetime:
    return datetime.combine(DAY, time(hour, minute), WITA)


def recap() -> TodayRecap:
    results = [
        DayResult("a", DAY, "umum", Status.HADIR, check_in=at(7, 20)),
        DayResult("b", DAY, "umum", Status.HADIR, check_in=at(7, 46), minutes_late=16, tl=1),
        # one tap after the midpoint: present, no check-in, TL4 by default
        DayResult("c", DAY, "umum", Status.HADIR, check_out=at(13, 5), tl=4),
        DayResult("d", DAY, "umum", Status.TANPA_KETERANGAN),
        DayResult("e", DAY, "umum", Status.SAKIT),
        DayResult("f", DAY, "satpam", Status.LIBUR),
    ]
    names = {"a": "Ani", "b": "Budi", "c": "Citra", "d": "Dedi", "e": "Eka", "f": "Fajar"}
    employees = {key: Employee(key, name, "umum") for key, name in names.items()}
    return TodayRecap(at(10, 15), results, employees, UNITS)


def test_counts_per_unit_and_in_all() -> None:
    summary = recap().tables()[0]
    assert summary.title == ("Kehadiran Kamis, 3 Desember 2026, pukul 10:15 WITA",)
    assert summary.rows == (
        ("Bagian Umum", 5, 3, 2, 1, 1, 0),
        ("Satuan Pengamanan", 1, 0, 0, 0, 0, 1),
        ("Jumlah", 6, 3, 2, 1, 1, 1),
    )


def test_the_late_include_a_missing_check_in_and_the_absent_are_not_yet_in() -> None:
    _, late, absent = recap().tables()
    assert late.rows == (
        ("Budi", "Bagian Umum", "07:46", 16, "TL1"),
        ("Citra", "Bagian Umum", None, 0, "TL4"),
    )
    assert absent.rows == (("Dedi", "Bagian Umum"),)


def test_everyone_present_on_request() -> None:
    tables = recap().tables(everyone=True)
    assert [row[0] for row in tables[-1].rows] == ["Ani", "Budi", "Citra"]
