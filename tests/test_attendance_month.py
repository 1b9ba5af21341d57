"""The golden month: March 2026 through the real job, the report checked cell by cell.

The month (``sandbox/attendance_scenario_data.py``) goes through real servers: taps
stored in InfluxDB 1.6 as ``card_read`` points, the registry in SQLite and in PostgreSQL,
``Job.compute`` for every day of March (then a backlog replayed a day late), and
``build_report`` for the month. The CSV and XLSX files it writes must equal the golden
files in ``tests/data/attendance-month/`` cell by cell.

The golden files are not merely a snapshot: ``test_the_golden_files_hold_the_hand_computed
_cells`` checks cells worked out by hand from the rules of issue 10, each with why.

Regenerating the goldens (after a deliberate change of the rules or the layout)::

    PELANGI_REGENERATE_GOLDEN=1 .venv/bin/pytest tests/test_attendance_month.py

then read the diff (``git diff tests/data/attendance-month``) row by row before committing.
"""

from __future__ import annotations

import csv
import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from openpyxl import load_workbook

from collector.attendance.report_files import slug, write_csv, write_xlsx
from collector.attendance.reporting import build_report
from collector.config import InfluxV1Settings
from collector.storage.influx_v1 import InfluxV1Writer
from sandbox.attendance_scenario import MonthRun, march_2026, run_month
from sandbox.attendance_scenario_data import FIRST, LAST, key

if TYPE_CHECKING:
    from collections.abc import Iterator

    from collector.attendance.report_tables import Report
    from collector.state import StateDatabase
    from sandbox.servers import InfluxDB

GOLDEN = Path(__file__).parent / "data" / "attendance-month"
REGENERATE = os.environ.get("PELANGI_REGENERATE_GOLDEN") == "1"
STEM = "rekap-2026-03"
FILES = (
    f"{STEM}.csv",
    f"{STEM}-ringkasan-bappeda.csv",
    f"{STEM}-ringkasan-diskominfo.csv",
    f"{STEM}-ringkasan-satpam.csv",
    f"{STEM}-kartu-tak-dikenal.csv",
)
NUMBER = re.compile(r"-?\d{1,6}(\.\d+)?")
LAYOUT = "workbook.json"
"""The XLSX's sheet names, title lines, frozen pane, column widths and row count."""


@pytest.fixture
def month(influxdb: InfluxDB, influx_db: str, state_db: StateDatabase) -> Iterator[MonthRun]:
    writer = InfluxV1Writer(InfluxV1Settings(url=influxdb.url, database=influx_db))
    try:
        yield run_month(march_2026(), writer, state_db)
    finally:
        writer.close()


@pytest.fixture
def report(month: MonthRun) -> Report:
    return build_report(month.registry, month.scenario.settings, FIRST, LAST)


def read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


def cell_differences(name: str, got: list[list[str]], want: list[list[str]]) -> list[str]:
    """Every cell that differs, named by file, row and column header."""
    header = want[0] if want else []
    problems = [f"{name}: {len(got)} rows, golden has {len(want)}"] * (len(got) != len(want))
    for number, (row, golden) in enumerate(zip(got, want, strict=False), start=1):
        if len(row) != len(golden):
            problems.append(f"{name} row {number}: {row} != golden {golden}")
            continue
        problems += [
            f"{name} row {number} {header[c]!r}: got {a!r}, golden {b!r}"
            for c, (a, b) in enumerate(zip(row, golden, strict=True))
            if a != b
        ]
    return problems


@pytest.mark.servers
def test_the_month_report_equals_the_golden_csv_and_xlsx(report: Report, tmp_path: Path) -> None:
    tables = report.tables()
    written = write_csv(tables, tmp_path / f"{STEM}.csv")
    workbook = tmp_path / f"{STEM}.xlsx"
    write_xlsx(tables, workbook)
    if REGENERATE:
        for path in written:
            (GOLDEN / path.name).write_bytes(path.read_bytes())
        (GOLDEN / LAYOUT).write_text(
            json.dumps(xlsx_layout(workbook), indent=1, ensure_ascii=False) + "\n"
        )

    assert tuple(p.name for p in written) == FILES
    problems = [
        problem
        for path in written
        for problem in cell_differences(path.name, read_csv(path), read_csv(GOLDEN / path.name))
    ]
    assert problems == []

    # The XLSX holds the same cells as the golden CSV, under the golden layout.
    assert xlsx_layout(workbook) == json.loads((GOLDEN / LAYOUT).read_text())
    book = load_workbook(workbook)
    for number, sheet in enumerate(book.worksheets):
        csv_name = FILES[0] if number == 0 else f"{STEM}-{slug(sheet.title)}.csv"
        header_row = len(tables[number].title) + 2
        grid = [
            [number_text(value) for value in row]
            for row in sheet.iter_rows(
                min_row=header_row,
                max_row=header_row + len(tables[number].rows),
                max_col=len(tables[number].headers),
                values_only=True,
            )
        ]
        golden = [[number_text(cell) for cell in row] for row in read_csv(GOLDEN / csv_name)]
        assert cell_differences(sheet.title, grid, golden) == []


@pytest.mark.servers
def test_a_unit_report_holds_that_units_golden_rows(month: MonthRun, tmp_path: Path) -> None:
    settings = month.scenario.settings
    unit = build_report(month.registry, settings, FIRST, LAST, unit="satpam").tables("satpam")
    daily, summary = write_csv(unit, tmp_path / "satpam.csv")
    header, *rows = read_csv(GOLDEN / FILES[0])
    guards = [row for row in rows if row[4] == settings.units["satpam"].name]
    assert len(guards) == 4 * 31
    assert cell_differences(daily.name, read_csv(daily), [header, *guards]) == []
    assert cell_differences(summary.name, read_csv(summary), read_csv(GOLDEN / FILES[3])) == []


def number_text(value: object) -> str:
    """A cell as text, numbers as floats: the XLSX stores 1.0 % as the number 1, CSV "1.0"."""
    if value is None:
        return ""
    text = str(value)
    return repr(float(text)) if NUMBER.fullmatch(text) else text  # not NIPs: 18 digits


def xlsx_layout(path: Path) -> list[dict[str, object]]:
    """What a unit head sees of each sheet besides its cells (compared with ``workbook.json``)."""
    book = load_workbook(path)
    layout: list[dict[str, object]] = []
    for sheet in book.worksheets:
        title = []
        for (value,) in sheet.iter_rows(min_row=1, max_col=1, values_only=True):
            if value is None:
                break
            title.append(str(value))
        layout.append(
            {
                "name": sheet.title,
                "title": title,
                "frozen": sheet.freeze_panes,
                "print_titles": sheet.print_title_rows,
                "widths": {c: d.width for c, d in sorted(sheet.column_dimensions.items())},
                "rows": sheet.max_row,
                "signature": [
                    str(cell.value)
                    for row in sheet.iter_rows(min_row=sheet.max_row - 6)
                    for cell in row
                    if isinstance(cell.value, str)
                    and cell.value.startswith(("Mengetahui", "Kepala"))
                ],
            }
        )
    return layout


def golden_table(name: str) -> dict[tuple[str, ...], dict[str, str]]:
    """A golden CSV's rows keyed by their identifying cells, each as header -> cell."""
    header, *rows = read_csv(GOLDEN / name)
    by_key: dict[tuple[str, ...], dict[str, str]] = {}
    for row in rows:
        cells = dict(zip(header, row, strict=True))
        ident = (cells["Tanggal"], cells["NIP / ID"]) if "Tanggal" in cells else (row[0],)
        by_key[ident] = cells
    return by_key


def test_the_golden_files_hold_the_hand_computed_cells() -> None:  # noqa: PLR0915 - one list
    daily = golden_table(FILES[0])

    def day(d: int, number: int) -> dict[str, str]:
        return daily[f"2026-03-{d:02d}", key(number)]

    def cells(d: int, number: int, *headers: str) -> tuple[str, ...]:
        return tuple(day(d, number)[h] for h in headers)

    times = ("Status", "Jam Masuk", "Jam Pulang", "Terlambat (menit)", "TL")
    early = ("Jam Pulang", "Pulang Cepat (menit)", "PSW", "Potongan (%)")
    # 24 employees x 31 days, less 24 days before number 17 joins (25th) and 14 after
    # number 18 left (17th): one row per employee per day, days off included.
    assert len(daily) == 24 * 31 - 24 - 14
    # Ramadan (start 08:00): 08:00:59 is on time, 08:01:00 one minute late (TL1, 0.5 %);
    # a check-out at 14:59:01 is on time (59 s early is no whole minute).
    assert cells(2, 1, *times) == ("H", "08:00", "15:00", "", "")
    assert cells(3, 1, *times, "Pulang Cepat (menit)") == ("H", "08:01", "14:59", "1", "TL1", "")
    assert day(3, 1)["Keterangan"] == "Jam kerja Ramadan"
    # After Ramadan (07:30-16:00): 07:31:00 is TL1 and 15:59:00 PSW1; 0.5 + 0.5 = 1 %.
    assert cells(25, 1, *times, *early[1:]) == (
        "H",
        "07:31",
        "15:59",
        "1",
        "TL1",
        "1",
        "PSW1",
        "1.0",
    )
    assert cells(26, 1, "Terlambat (menit)", "Pulang Cepat (menit)", "Jam Kerja (menit)") == (
        "",
        "",
        "508",  # 07:30:59 to 15:59:01 is 8 h 28 min 2 s: 508 whole minutes
    )
    # Fridays end later: 15:20 is 10 minutes before Ramadan's Friday 15:30, 16:15 is 15
    # minutes before the ordinary Friday 16:30 (on a Thursday it would be on time).
    assert cells(13, 1, *early) == ("15:20", "10", "PSW1", "0.5")
    assert cells(27, 1, *early) == ("16:15", "15", "PSW1", "0.5")
    # Bands 31-60, 61-90, > 90 (Ramadan 08:00-15:00, Friday 15:30).
    assert cells(4, 2, "Terlambat (menit)", "TL", "Potongan (%)") == ("45", "TL2", "1.0")
    assert cells(5, 2, "Terlambat (menit)", "TL", "Potongan (%)") == ("75", "TL3", "1.5")
    assert cells(6, 2, "Terlambat (menit)", "TL", "Potongan (%)") == ("120", "TL4", "2.0")
    assert cells(9, 2, *early) == ("14:15", "45", "PSW2", "1.0")
    assert cells(10, 2, *early) == ("13:45", "75", "PSW3", "1.5")
    assert cells(11, 2, *early) == ("12:30", "150", "PSW4", "2.0")
    # 90 minutes late is still TL3, 91 early is PSW4: 1.5 + 2 = 3.5 %, capped daily at 3 %.
    assert cells(12, 2, "Terlambat (menit)", "TL", *early[1:]) == ("90", "TL3", "91", "PSW4", "3.0")
    # A single tap before the midpoint (11:30) is a check-in without check-out (PSW4, 2 %);
    # at or after it a check-out without check-in (TL4); 11:30:00 is "at".
    assert cells(2, 3, *times, "PSW") == ("H", "07:50", "", "", "", "PSW4")
    assert cells(3, 3, *times, "PSW") == ("H", "", "15:05", "", "TL4", "")
    assert cells(4, 3, *times, "Pulang Cepat (menit)") == ("H", "", "11:30", "", "TL4", "210")
    assert day(4, 3)["Potongan (%)"] == "3.0"  # TL4 + PSW4 = 4 %, capped at 3 %
    assert cells(5, 3, *times, "PSW") == ("H", "11:29", "", "209", "TL4", "PSW4")
    assert day(2, 3)["Keterangan"] == "Jam kerja Ramadan; Tidak absen pulang"
    # Duplicates: 07:50:40 (other reader) and 15:11:00 (exactly 60 s) are within 60 s of
    # the tap kept before them, so the day is 07:50-15:10, 440 minutes.
    assert cells(2, 4, "Jam Masuk", "Jam Pulang", "Jam Kerja (menit)") == ("07:50", "15:10", "440")
    # 07:55:30 is a duplicate of 07:55:00: one tap, a check-in without check-out.
    assert cells(3, 4, "Jam Masuk", "Jam Pulang", "PSW") == ("07:55", "", "PSW4")
    # 07:55:50 is a duplicate; 07:56:40 is 100 s after the tap kept (07:55:00): kept, and
    # the day's last tap: a check-out 423 min before 15:00 (7 h 3 min 20 s), 1 min worked.
    assert cells(4, 4, "Jam Pulang", "Pulang Cepat (menit)", "Jam Kerja (menit)") == (
        "07:56",
        "423",
        "1",
    )
    # Card 5 is number 5's until the 15th, number 6's from the 16th: 23:59:59 on Sunday
    # the 15th is 5's (a day off), 00:00:01 on the 16th is 6's (outside the 05:30-20:00
    # window). Both are 15 March in UTC.
    assert day(15, 5)["Keterangan"] == "Minggu; Tap pada hari libur tidak dihitung"
    assert day(16, 6)["Keterangan"] == (
        "Jam kerja Ramadan; 1 tap di luar jendela absen (tidak dihitung)"
    )
    assert day(16, 5)["Status"] == day(16, 6)["Status"] == "H"  # 5 taps the new card
    # Cuti from Thursday the 5th to Tuesday the 10th: four working days C, the weekend
    # libur; sakit from the 17th into cuti bersama (18th) and Nyepi (19th): only the 17th.
    assert [day(d, 7)["Status"] for d in (5, 6, 7, 8, 9, 10)] == [
        "C",
        "C",
        "libur",
        "libur",
        "C",
        "C",
    ]
    assert day(7, 7)["Keterangan"] == "Sabtu; Cuti tahunan pada hari libur tidak dihitung"
    assert [day(d, 7)["Status"] for d in (17, 18, 19)] == ["S", "libur", "libur"]
    assert day(19, 7)["Keterangan"] == (
        "Libur nasional: Hari Suci Nyepi (Tahun Baru Saka 1948); "
        "Sakit pada hari libur tidak dihitung"
    )
    # Dinas luar decides the day; its taps are shown without bands or penalty.
    assert cells(10, 8, "Status", "Jam Masuk", "Jam Pulang", "TL", "PSW", "Potongan (%)") == (
        "DL",
        "07:40",
        "15:10",
        "",
        "",
        "",
    )
    assert day(25, 8)["Keterangan"] == "Izin (Surat 12/2026)"
    # Izin datang terlambat until 10:00 excuses 09:45; pulang cepat from 13:00 excuses
    # 13:10; until 09:00 leaves 09:20 20 minutes late (TL1).
    assert cells(3, 9, "Jam Masuk", "Terlambat (menit)", "TL") == ("09:45", "", "")
    assert cells(4, 9, "Jam Pulang", "Pulang Cepat (menit)", "PSW") == ("13:10", "", "")
    assert cells(5, 9, "Jam Masuk", "Terlambat (menit)", "TL") == ("09:20", "20", "TL1")
    assert day(3, 9)["NIP / ID"] == "honorer-09"  # contract staff: the office's own id
    # No taps: TK (3 %); taps on the server room's reader only: still TK. On the 9th its
    # 06:00 tap is ignored too: the check-in is 08:10, 10 minutes late.
    assert [day(d, 10)["Status"] for d in (2, 3, 4)] == ["TK", "TK", "TK"]
    assert day(4, 10)["Potongan (%)"] == "3.0"
    assert cells(9, 10, "Jam Masuk", "Terlambat (menit)") == ("08:10", "10")
    # The corrected clock is counted and flagged.
    assert cells(11, 11, "Jam Masuk", "Keterangan") == (
        "07:55",
        "Jam kerja Ramadan; Jam gateway gw-timur diragukan: tap 07:55:00 WITA",
    )
    # The backlog of the 12th (east entrance) is in: 14's check-out, 15's whole day.
    assert cells(12, 14, "Jam Masuk", "Jam Pulang", "PSW") == ("07:50", "15:05", "")
    assert cells(12, 15, "Status", "Jam Masuk", "Jam Pulang") == ("H", "07:45", "15:10")
    # 23:59:59 on the 10th and 00:00:01 on the 11th are listed on their own WITA dates.
    assert day(10, 20)["Keterangan"].endswith("1 tap di luar jendela absen (tidak dihitung)")
    assert day(11, 20)["Keterangan"].endswith("1 tap di luar jendela absen (tidak dihitung)")
    assert min(d for d, ident in daily if ident == key(17)) == "2026-03-25"  # joined then
    assert day(18, 20)["Keterangan"].endswith("Tap pada hari libur tidak dihitung")

    guard = ("Status", "Jam Masuk", "Jam Pulang", "Terlambat (menit)", "TL", "Jam Kerja (menit)")

    def shift(d: int, number: int) -> tuple[str, ...]:
        cells = daily[f"2026-03-{d:02d}", f"satpam-{number}"]
        return tuple(cells[h] for h in guard)

    # Night shift 19:00-07:00 on the date it starts: 18:52 to 07:07 the next morning,
    # 735 minutes. Guard 3's 07:07 on the 1st closed the shift of 28 February.
    assert shift(1, 3) == ("H", "18:52", "07:07", "", "", "735")
    assert shift(1, 4)[:3] == ("libur", "", "")  # off; its 07:08 belongs to 28 February
    assert shift(2, 1) == ("H", "19:40", "07:05", "40", "TL2", "685")
    # The night of the 7th crosses the job's week boundary; its midnight round taps
    # (23:59:59, 00:00:01) are inside the shift and change nothing.
    assert shift(7, 2) == shift(8, 2) == ("H", "18:51", "07:06", "", "", "735")
    assert shift(19, 1)[0] == "H"  # rostered guards work on Nyepi
    assert shift(31, 2)[2] == "07:06"  # the check-out on 1 April closes 31 March's night
    assert daily["2026-03-05", "satpam-4"]["PSW"] == "PSW4"  # no check-out

    # Summaries: days per status, the month's penalty, PP 94/2021 flags.
    office = golden_table(FILES[2])
    gita, joko = office[key(7),], office[key(10),]
    assert (gita["H"], gita["C"], gita["S"], gita["libur"]) == ("12", "4", "1", "14")
    # Joko: 3 days TK (3 % each), TL1 six times and PSW1 once (0.5 % each): 12.5 %.
    assert (joko["TK"], joko["Potongan (%)"], joko["TK tahun ini"]) == ("3", "12.5", "3")
    assert joko["Peringatan PP 94/2021"] == (
        "TK 3 hari dalam 2026: hukuman disiplin ringan, teguran lisan (PP 94/2021); "
        "Kurang 1 hari TK lagi menuju teguran tertulis"
    )
    budi = office[key(2),]
    # TL2 on the 4th, TL3 on the 5th and the 12th, TL4 on the 6th; PSW2-4 on the 9th-11th,
    # PSW4 again on the 12th.
    assert [budi[f"TL{n}"] for n in (2, 3, 4)] == ["1", "2", "1"]
    assert [budi[f"PSW{n}"] for n in (2, 3, 4)] == ["1", "1", "2"]
    unknown = read_csv(GOLDEN / FILES[4])[1:]
    assert unknown == [
        [
            "2026-03-02 07:12:00",
            "0BADCAFE",
            "bukit-pelangi",
            "gw-lobi",
            "rfid-lobby",
            "Kartu tidak terdaftar",
        ],
        [
            "2026-03-10 23:59:59",
            "0BADCAFE",
            "bukit-pelangi",
            "gw-timur",
            "rfid-timur",
            "Kartu tidak terdaftar",
        ],
        [
            "2026-03-11 00:00:01",
            "0BADCAFE",
            "bukit-pelangi",
            "gw-timur",
            "rfid-timur",
            "Kartu tidak terdaftar",
        ],
        [
            "2026-03-17 07:45:00",
            "00A00006",
            "bukit-pelangi",
            "gw-lobi",
            "rfid-lobby",
            "Kartu tidak terdaftar",
        ],
        [
            "2026-03-23 09:00:00",
            "00A00011",
            "bukit-pelangi",
            "gw-lobi",
            "rfid-lobby",
            "Pemegang kartu (honorer-17) tidak aktif pada tanggal ini",
        ],
    ]  # not the server room's 0BADCAFE of the 3rd; 6's old card; 17 before joining
