"""The attendance report's layout and files (report_tables, report_files), cell by cell."""

from __future__ import annotations

import csv
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from openpyxl import load_workbook

from collector.attendance.model import WITA, DayResult, Employee, Status, Tap, UnknownTap
from collector.attendance.report_files import slug, write_csv, write_xlsx
from collector.attendance.report_tables import DAILY_HEADERS, Report, long_date

if TYPE_CHECKING:
    from pathlib import Path

MONDAY = date(2026, 3, 2)
NIP = "199001012020121001"
TUESDAY_ROW = (
    "2026-03-03",
    "Selasa",
    NIP,
    "Siti Rahmawati",
    "Dinas Komunikasi dan Informatika",
    "H",
    "07:45",
    "16:02",
)
"""The first eight cells of the day with taps, in the daily table and the CSV alike."""


def at(day: date, hour: int, minute: int, second: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute, second), WITA)


def report() -> Report:
    tuesday = MONDAY + timedelta(days=1)
    results = [
        DayResult(
            NIP,
            tuesday,
            "diskominfo",
            Status.HADIR,
            check_in=at(tuesday, 7, 45, 59),
            check_out=at(tuesday, 16, 2),
            minutes_late=15,
            tl=1,
            worked_minutes=496,
            penalty_pct=0.5,
        ),
        DayResult("honorer-7", MONDAY, "satpam", Status.TANPA_KETERANGAN, notes=("tanpa tap",)),
        DayResult(NIP, MONDAY, "diskominfo", Status.SAKIT),
    ]
    employees = {
        NIP: Employee(NIP, "Siti Rahmawati", "diskominfo", nip=NIP),
        "honorer-7": Employee("honorer-7", "Andi Saputra", "satpam"),
    }
    tap = Tap("DEADBEEF", at(MONDAY, 7, 1).astimezone(WITA), "bukit-pelangi", "gw-1", "rfid-lobby")
    return Report(
        first=MONDAY,
        last=MONDAY + timedelta(days=30),
        results=results,
        employees=employees,
        units={"diskominfo": "Dinas Komunikasi dan Informatika", "satpam": "Satuan Pengamanan"},
        unknown=[UnknownTap(tap, MONDAY, note="Kartu tidak terdaftar")],
        penalty_pct={NIP: 0.5},
        sanctions={"honorer-7": "teguran lisan"},
        absences_this_year={"honorer-7": 3, NIP: 0},
    )


def test_daily_rows_sorted_by_day_then_unit_and_name_with_wita_minutes() -> None:
    daily = report().tables()[0]
    assert daily.headers == DAILY_HEADERS
    assert [row[:8] for row in daily.rows] == [
        (
            "2026-03-02",
            "Senin",
            NIP,
            "Siti Rahmawati",
            "Dinas Komunikasi dan Informatika",
            "S",
            None,
            None,
        ),
        ("2026-03-02", "Senin", "honorer-7", "Andi Saputra", "Satuan Pengamanan", "TK", None, None),
        TUESDAY_ROW,
    ]
    assert daily.rows[2][8:] == (15, "TL1", None, None, 496, 0.5, None)
    assert daily.rows[1][-1] == "tanpa tap"
    assert daily.title[1] == "Periode: 2 Maret 2026 - 1 April 2026"


def test_one_summary_per_unit_counts_statuses_and_bands() -> None:
    tables = report().tables()
    names = [t.name for t in tables]
    assert names == [
        "Rekap Harian",
        "Ringkasan diskominfo",
        "Ringkasan satpam",
        "Kartu Tak Dikenal",
    ]
    summary = tables[1]
    row = dict(zip(summary.headers, summary.rows[0], strict=True))
    assert (row["H"], row["S"], row["TK"], row["TL1"], row["TL2"], row["PSW1"]) == (
        1,
        1,
        0,
        1,
        0,
        0,
    )
    assert (row["Potongan (%)"], row["TK tahun ini"], row["Peringatan PP 94/2021"]) == (
        0.5,
        0,
        None,
    )
    assert summary.signature == "Kepala Dinas Komunikasi dan Informatika"
    guards = dict(zip(tables[2].headers, tables[2].rows[0], strict=True))
    assert (guards["TK"], guards["Peringatan PP 94/2021"]) == (1, "teguran lisan")
    assert tables[3].rows == (
        (
            "2026-03-02 07:01:00",
            "DEADBEEF",
            "bukit-pelangi",
            "gw-1",
            "rfid-lobby",
            "Kartu tidak terdaftar",
        ),
    )


def test_a_unit_report_holds_only_that_unit() -> None:
    tables = report().tables(unit="satpam")
    assert [t.name for t in tables] == ["Rekap Harian", "Ringkasan satpam"]
    assert {row[4] for row in tables[0].rows} == {"Satuan Pengamanan"}
    assert tables[0].title[2] == "Unit: Satuan Pengamanan"


def test_xlsx_has_titles_a_frozen_header_widths_print_setup_and_a_signature(tmp_path: Path) -> None:
    path = tmp_path / "rekap-maret.xlsx"
    assert write_xlsx(report().tables(), path) == [path]
    book = load_workbook(path)
    sheet = book["Rekap Harian"]
    assert sheet["A1"].value == "Rekap Kehadiran Pegawai"
    assert sheet["A1"].font.bold
    assert [c.value for c in sheet[5]] == list(DAILY_HEADERS)
    assert sheet.freeze_panes == "A6"
    assert sheet["G8"].value == "07:45"
    assert sheet["I8"].value == 15
    assert sheet.column_dimensions["D"].width == len("Siti Rahmawati") + 2
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.print_title_rows == "$5:$5"
    summary = book["Ringkasan diskominfo"]
    values = [c.value for row in summary.iter_rows() for c in row if c.value is not None]
    assert "Mengetahui," in values
    assert "Kepala Dinas Komunikasi dan Informatika" in values


def test_csv_files_one_per_table_utf8_with_bom(tmp_path: Path) -> None:
    path = tmp_path / "rekap.csv"
    written = write_csv(report().tables(), path)
    assert [p.name for p in written] == [
        "rekap.csv",
        "rekap-ringkasan-diskominfo.csv",
        "rekap-ringkasan-satpam.csv",
        "rekap-kartu-tak-dikenal.csv",
    ]
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == list(DAILY_HEADERS)
    assert tuple(rows[3][:8]) == TUESDAY_ROW
    assert rows[1][6] == ""  # no check-in: an empty cell, not "None"


def test_words() -> None:
    assert long_date(date(2026, 8, 17)) == "17 Agustus 2026"
    assert slug("Ringkasan Bidang TIK / 2") == "ringkasan-bidang-tik-2"
