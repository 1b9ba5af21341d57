"""Imports of employees, leave and rosters: golden reports, applying, and never crashing.

The files under tests/data/imports hold one row per kind of problem (and of change); the
reports are checked line by line, as a person would read them. The registry they are
checked against is a real state database (SQLite; the registry itself is tested on both
backends in test_attendance_registry.py).
"""

from __future__ import annotations

import csv
from datetime import date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from collector.attendance.changes import NEW_LEAVE_ID
from collector.attendance.errors import CardConflict, ImportNotClean
from collector.attendance.imports import (
    ImportFileError,
    ImportPlan,
    Kind,
    apply_plan,
    employees,
    leave,
    plan_employee_file,
    plan_leave_file,
    plan_roster_file,
    roster,
)
from collector.attendance.imports.employees import read_employee
from collector.attendance.imports.leave import read_leave
from collector.attendance.imports.roster import read_roster
from collector.attendance.imports.table import Cell, Row, read_table, to_table
from collector.attendance.model import CardAssignment, Employee, Leave, PartialLeave, RosterEntry
from collector.attendance.registry import Registry
from collector.attendance.vocabulary import Vocabulary
from collector.state import StateSettings, open_state
from pelangi.card import CARD_FORMS

if TYPE_CHECKING:
    from collections.abc import Iterator

    from collector.attendance.imports.table import CellValue
    from collector.state import StateDatabase

DATA = Path(__file__).parent / "data" / "imports"
TODAY = date(2026, 12, 3)
NAMES = Vocabulary.of(
    units=["bappeda", "diskominfo", "umum"],
    schedules=["pelayanan", "satpam"],
    shifts=["pagi", "malam"],
    leave_kinds=["izin", "sakit", "cuti_tahunan", "dinas_luar"],
)
BUDI = Employee("198503122010011001", "Budi Santoso", "diskominfo", nip="198503122010011001")
SITI = Employee("199001012015022002", "Siti Aminah", "bappeda", "pelayanan", "199001012015022002")
RINA = Employee("198807072012012003", "Rina Wati", "bappeda", nip="198807072012012003")
AGUS = Employee("H-017", "Agus Satpam", "umum", "satpam")


@pytest.fixture
def database(tmp_path: Path) -> Iterator[StateDatabase]:
    with open_state(StateSettings(url=f"sqlite:///{tmp_path / 'state.db'}")) as db:
        yield db


@pytest.fixture
def registry(database: StateDatabase) -> Registry:
    cards = {
        BUDI: ("001293D8", date(2026, 1, 5)),
        SITI: ("00ABCDEF", date(2026, 11, 1)),
        RINA: ("00C0FFEE", date(2026, 6, 1)),
        AGUS: ("E3086CED", date(2026, 12, 5)),
    }
    registry = Registry(database, NAMES)
    with registry.changes() as changes:
        for person, (uid, first) in cards.items():
            changes.put_employee(person)
            changes.assign_card(CardAssignment(uid, person.key, first))
        changes.add_leave(
            Leave(
                NEW_LEAVE_ID,
                RINA.key,
                "dinas_luar",
                date(2026, 12, 1),
                date(2026, 12, 5),
                note="ST/12/2026",
            )
        )
        changes.add_leave(
            Leave(NEW_LEAVE_ID, AGUS.key, "izin", date(2026, 12, 3), date(2026, 12, 4))
        )
        changes.put_roster(RosterEntry(AGUS.key, date(2026, 12, 7), "pagi"))
        changes.put_roster(RosterEntry(AGUS.key, date(2026, 12, 10), "pagi"))
    return registry


def text(plan: ImportPlan) -> list[str]:
    return plan.report.text()


# -- employees ------------------------------------------------------------------------------

EMPLOYEE_REPORT = [
    "pegawai.csv: 19 row(s): 16 problem(s), 1 to confirm, 4 change(s), 1 unchanged",
    "pegawai.csv: columns not used: Jabatan",
    "problems (these rows are not imported):",
    (
        "  pegawai.csv:5: NIP: expected 18 digits (birth date, appointment month, sex, number), "
        "got '19850312201001100'"
    ),
    (
        "  pegawai.csv:6: NIP: expected a NIP beginning with a birth date (YYYYMMDD), "
        "got '198513122010011001'"
    ),
    (
        "  pegawai.csv:7: NIP: expected a NIP with its appointment month (digits 9-14, YYYYMM) "
        "after the 15th birthday and not in the future, got '199201012030011001'"
    ),
    (
        "  pegawai.csv:8: NIP: expected a NIP with 1 or 2 (sex) as its 15th digit, "
        "got '199201012015033001'"
    ),
    (
        "  pegawai.csv:9: Kode: expected each employee once in the file, got H-050 again "
        "(also on row 10)"
    ),
    (
        "  pegawai.csv:10: Kode: expected each employee once in the file, got H-050 again "
        "(also on row 9)"
    ),
    "  pegawai.csv:11: Unit: expected one of bappeda, diskominfo, umum, got 'dinkes'",
    "  pegawai.csv:11: Jadwal: expected one of pelayanan, satpam, got 'shift9'",
    f"  pegawai.csv:12: Kartu: expected {CARD_FORMS}, got '12345'",
    (
        "  pegawai.csv:13: Kartu: expected a card no one else in the file holds, got 00BEEF01 "
        "(also on row 14 (H-061))"
    ),
    (
        "  pegawai.csv:14: Kartu: expected a card no one else in the file holds, got 00BEEF01 "
        "(also on row 13 (H-060))"
    ),
    (
        "  pegawai.csv:15: Kartu: expected a card no one else holds from 2026-12-03, got E3086CED "
        "(held by H-017 (Agus Satpam) from 2026-12-05)"
    ),
    "  pegawai.csv:16: Nama: expected a name, got nothing",
    "  pegawai.csv:17: nip/kode: expected a NIP, or a kode for staff without one, got nothing",
    (
        "  pegawai.csv:18: Kartu Mulai: expected a date such as 2026-12-03 or 03/12/2026 "
        "(day first) that exists, got '31/02/2026'"
    ),
    "  pegawai.csv:19: Aktif Sampai: expected a day from 2026-03-01 on, got 2026-02-28",
    "to confirm:",
    (
        "  pegawai.csv:3: card 00C0FFEE moves from 198807072012012003 (Rina Wati) to "
        "199001012015022002 (Siti Aminah) on 2026-12-03; 198807072012012003's ends 2026-12-02"
    ),
    "changes:",
    "  pegawai.csv:3: employee 199001012015022002: unit 'bappeda' -> 'diskominfo'",
    "  pegawai.csv:4: new employee 199505052020122001 (Dewi Lestari, umum)",
    "  pegawai.csv:4: card 00C804D2 given to 199505052020122001 from 2026-12-03",
    "  pegawai.csv:20: employee H-017 is now 199102022019031004 (by NIP)",
]


def test_an_employee_file_with_every_kind_of_problem_is_reported_row_by_row(
    registry: Registry,
) -> None:
    before = registry.employees(), registry.cards(date.min, date.max)
    plan = plan_employee_file(DATA / "pegawai.csv", registry, NAMES, today=TODAY)
    assert text(plan) == EMPLOYEE_REPORT
    assert not plan.report.clean
    assert (registry.employees(), registry.cards(date.min, date.max)) == before


def test_a_report_with_problems_changes_nothing_unless_confirmed(registry: Registry) -> None:
    plan = plan_employee_file(DATA / "pegawai.csv", registry, NAMES, today=TODAY)
    before = registry.employees()
    with pytest.raises(ImportNotClean, match=r"pegawai\.csv: 17 problem"):
        apply_plan(registry, plan)
    assert registry.employees() == before


def test_confirmed_the_rows_without_problems_are_applied_and_history_kept(
    registry: Registry,
) -> None:
    plan = plan_employee_file(DATA / "pegawai.csv", registry, NAMES, today=TODAY)
    apply_plan(registry, plan, confirmed=True)
    assert {e.key for e in registry.employees()} == {
        BUDI.key,
        SITI.key,
        RINA.key,
        "199505052020122001",
        "199102022019031004",
    }
    agus = registry.show("199102022019031004")  # re-keyed by NIP: his card came along
    assert agus.employee.name == "Agus Satpam"
    assert [c.uid for c in agus.cards] == ["E3086CED"]
    assert registry.employee(SITI.key).unit == "diskominfo"
    assert registry.cards(date(2026, 12, 2), date(2026, 12, 3)) == [
        CardAssignment("001293D8", BUDI.key, date(2026, 1, 5)),
        CardAssignment("00ABCDEF", SITI.key, date(2026, 11, 1)),
        CardAssignment("00C0FFEE", RINA.key, date(2026, 6, 1), date(2026, 12, 2)),
        CardAssignment("00C0FFEE", SITI.key, date(2026, 12, 3)),
        CardAssignment("00C804D2", "199505052020122001", date(2026, 12, 3), bits=24),
    ]
    again = plan_employee_file(DATA / "pegawai.csv", registry, NAMES, today=TODAY)
    assert not again.report.of(Kind.CHANGE)
    assert not again.report.of(Kind.CONFIRM)
    assert again.report.unchanged == 4


def test_a_clean_file_applies_without_confirmation(registry: Registry, tmp_path: Path) -> None:
    path = tmp_path / "baru.csv"
    path.write_text("nip,nama,unit,kartu\n199505052020122001,Dewi,umum,0100FACE00\n")
    plan = plan_employee_file(path, registry, NAMES, today=TODAY)
    assert plan.report.clean
    assert apply_plan(registry, plan) == 2
    assert registry.find("00FACE00") == [registry.employee("199505052020122001")]


def test_a_card_no_longer_listed_ends_the_day_before(registry: Registry, tmp_path: Path) -> None:
    path = tmp_path / "ganti.csv"
    path.write_text(
        f"nip,nama,unit,kartu,kartu_mulai\n{BUDI.nip},Budi Santoso,diskominfo,00DDDDDD,10/12/2026\n"
    )
    plan = plan_employee_file(path, registry, NAMES, today=TODAY)
    assert text(plan)[1:] == [
        "to confirm:",
        f"  ganti.csv:2: card 001293D8 of {BUDI.key} ends 2026-12-09 (no longer listed)",
        "changes:",
        f"  ganti.csv:2: card 00DDDDDD given to {BUDI.key} from 2026-12-10",
    ]
    apply_plan(registry, plan, confirmed=True)
    assert [(c.uid, c.valid_to) for c in registry.show(BUDI.key).cards] == [
        ("001293D8", date(2026, 12, 9)),
        ("00DDDDDD", None),
    ]


def test_applying_is_all_or_nothing_when_the_registry_changed_since(
    registry: Registry, tmp_path: Path
) -> None:
    path = tmp_path / "dua.csv"
    path.write_text("kode,nama,unit,kartu\nH-080,Oki,umum,00111111\nH-081,Putri,umum,00222222\n")
    plan = plan_employee_file(path, registry, NAMES, today=TODAY)
    assert plan.report.clean
    with registry.changes() as changes:  # meanwhile, someone gives 00222222 away
        changes.assign_card(CardAssignment("00222222", BUDI.key, date(2026, 12, 1)))
    with pytest.raises(CardConflict):
        apply_plan(registry, plan)
    assert registry.find("H-08") == []  # Oki was not imported either


def test_the_same_file_as_xlsx_gives_the_same_report(registry: Registry, tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    with (DATA / "pegawai.csv").open(encoding="utf-8-sig", newline="") as file:
        for cells in csv.reader(file, delimiter=";"):
            sheet.append(cells)
    path = tmp_path / "pegawai.xlsx"
    workbook.save(path)
    plan = plan_employee_file(path, registry, NAMES, today=TODAY)
    assert text(plan) == [line.replace("pegawai.csv", "pegawai.xlsx") for line in EMPLOYEE_REPORT]


def test_an_xlsx_file_keeps_cell_types_and_its_title_rows(
    registry: Registry, tmp_path: Path
) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["DAFTAR PEGAWAI DISKOMINFO"])
    sheet.append([])
    sheet.append(["NIP", "Nama Pegawai", "Unit Kerja", "No Kartu", "Kartu Mulai"])
    sheet.append([BUDI.nip, "Budi Santoso", "diskominfo", 1217496])  # zeros dropped: still his
    sheet.append([1.98503122010011e17, "Angka", "umum"])
    sheet.append(["199505052020122001", "Dewi", "umum", "62:E3:08:6C:ED", date(2026, 12, 10)])
    sheet.append([RINA.nip, "Rina Wati", "bappeda", 3.5])
    sheet.append([SITI.nip, "Siti Aminah", "bappeda", None, datetime(2026, 12, 10, 8, 0)])  # noqa: DTZ001
    path = tmp_path / "pegawai.xlsx"
    workbook.save(path)
    plan = plan_employee_file(path, registry, NAMES, today=TODAY)
    assert text(plan) == [
        "pegawai.xlsx: 5 row(s): 3 problem(s), 1 to confirm, 1 change(s), 1 unchanged",
        "problems (these rows are not imported):",
        (
            "  pegawai.xlsx:5: NIP: expected the NIP as text (18 digits; format the column as "
            "Text: a number keeps only 15 digits), got 1.98503122010011e+17"
        ),
        (
            f"  pegawai.xlsx:7: No Kartu: expected {CARD_FORMS}; a number cell holds the printed "
            "decimal, got 3.5"
        ),
        (
            "  pegawai.xlsx:8: Kartu Mulai: expected a date such as 2026-12-03 or 03/12/2026 "
            "(day first), without a time of day, got 2026-12-10 08:00:00"
        ),
        "to confirm:",
        (
            "  pegawai.xlsx:6: card E3086CED moves from H-017 (Agus Satpam) to 199505052020122001 "
            "(Dewi) on 2026-12-10; H-017's ends 2026-12-09"
        ),
        "changes:",
        "  pegawai.xlsx:6: new employee 199505052020122001 (Dewi, umum)",
    ]


# -- leave and rosters ------------------------------------------------------------------------

LEAVE_REPORT = [
    "cuti.csv: 12 row(s): 9 problem(s), 1 to confirm, 3 change(s), 1 unchanged",
    "problems (these rows are not imported):",
    "  cuti.csv:4: mulai: expected each leave once in the file, got the same as row 3",
    "  cuti.csv:7: pegawai: expected the NIP or key of a registered employee, got 'nobody'",
    "  cuti.csv:8: jenis: expected one of cuti_tahunan, dinas_luar, izin, sakit, got 'libur'",
    "  cuti.csv:9: sampai: expected a day from 2026-12-10 on, got 2026-12-08",
    (
        "  cuti.csv:10: mulai: expected a date such as 2026-12-03 or 03/12/2026 (day first), "
        "got nothing"
    ),
    (
        "  cuti.csv:11: jam: expected the time of day the pulang_cepat permission runs to or from, "
        "got nothing"
    ),
    "  cuti.csv:12: sebagian: expected datang_terlambat or pulang_cepat, with a jam, got nothing",
    (
        "  cuti.csv:13: sebagian: expected datang_terlambat or pulang_cepat (or nothing: whole "
        "days), got 'sebentar'"
    ),
    "  cuti.csv:13: jam: expected a time of day such as 08:30 or 08.30 that exists, got '25:00'",
    "to confirm:",
    "  cuti.csv:5: leave sakit 2026-12-04 for H-017 overlaps leave 2 (izin 2026-12-03..2026-12-04)",
    "changes:",
    "  cuti.csv:2: leave cuti_tahunan 2026-12-07..2026-12-09 for 198503122010011001",
    "  cuti.csv:3: leave izin 2026-12-03 (datang_terlambat 09:30) for 199001012015022002",
    "  cuti.csv:5: leave sakit 2026-12-04 for H-017",
]


def test_a_leave_file_is_reported_and_applied_once(registry: Registry) -> None:
    plan = plan_leave_file(DATA / "cuti.csv", registry, NAMES)
    assert text(plan) == LEAVE_REPORT
    assert apply_plan(registry, plan, confirmed=True) == 3
    late = registry.leave(date(2026, 12, 3), date(2026, 12, 3), employee_key=SITI.key)
    assert [(x.kind, x.partial, x.until, x.note) for x in late] == [
        ("izin", PartialLeave.LATE_ARRIVAL, time(9, 30), "antar anak")
    ]
    again = plan_leave_file(DATA / "cuti.csv", registry, NAMES)
    assert (len(again.report.of(Kind.CHANGE)), again.report.unchanged) == (0, 4)


def test_a_roster_file_is_reported_and_applied(registry: Registry) -> None:
    plan = plan_roster_file(DATA / "jadwal-satpam.csv", registry, NAMES)
    assert text(plan) == [
        "jadwal-satpam.csv: 7 row(s): 4 problem(s), 0 to confirm, 2 change(s), 1 unchanged",
        "problems (these rows are not imported):",
        (
            "  jadwal-satpam.csv:4: Tanggal: expected one shift a day, got H-017 on 2026-12-09 "
            "again (also on row 5)"
        ),
        (
            "  jadwal-satpam.csv:5: Tanggal: expected one shift a day, got H-017 on 2026-12-09 "
            "again (also on row 4)"
        ),
        "  jadwal-satpam.csv:6: Shift: expected one of malam, pagi, got 'siang'",
        (
            "  jadwal-satpam.csv:7: Pegawai: expected the NIP or key of a registered employee, "
            "got 'nobody'"
        ),
        "changes:",
        "  jadwal-satpam.csv:2: roster H-017 on 2026-12-07: pagi -> malam",
        "  jadwal-satpam.csv:3: roster H-017 on 2026-12-08: off",
    ]
    apply_plan(registry, plan, confirmed=True)
    assert registry.roster(date(2026, 12, 1), date(2026, 12, 31)) == [
        RosterEntry(AGUS.key, date(2026, 12, 7), "malam"),
        RosterEntry(AGUS.key, date(2026, 12, 8), "off"),
        RosterEntry(AGUS.key, date(2026, 12, 10), "pagi"),
    ]


# -- reading files ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        ("nip;nama;unit\n1;Dédé;umum\n", "utf-8"),
        ("nip;nama;unit\n1;Dédé;umum\n", "utf-8-sig"),
        ("nip\tnama\tunit\n1\tDédé\tumum\n", "utf-16"),
        ("nip,nama,unit\n1,Dédé,umum\n", "cp1252"),
    ],
)
def test_csv_files_as_excel_writes_them(tmp_path: Path, data: str, encoding: str) -> None:
    path = tmp_path / "p.csv"
    path.write_bytes(data.encode(encoding))
    table = read_table(path, employees.COLUMNS)
    assert [(r.number, r.get("nama").value, r.get("unit").value) for r in table.rows] == [
        (2, "Dédé", "umum")
    ]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("p.ods", b"", "p.ods: expected a .csv or .xlsx file, got a .ods file"),
        ("p.csv", b"", "p.csv: expected a header row naming the columns (nip, kode, nama"),
        ("p.csv", b"nip,nama\n", "p.csv: row 1: expected the columns unit (or unit_kerja, opd"),
        (
            "p.csv",
            b"nip,nama,unit,Unit Kerja\n",
            "p.csv: row 1: columns 'unit' and 'Unit Kerja' are both 'unit'",
        ),
        ("p.xlsx", b"not a zip", "p.xlsx: not a readable XLSX workbook"),
        ("missing.csv", None, "missing.csv: cannot read the file: No such file or directory"),
    ],
)
def test_files_that_are_no_table_say_why(
    tmp_path: Path, name: str, content: bytes | None, message: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ImportFileError) as caught:
        read_table(path, employees.COLUMNS)
    assert str(caught.value).startswith(message)


# -- never anything but a value or a report line --------------------------------------------

cell_values: st.SearchStrategy[CellValue] = st.one_of(
    st.none(),
    st.text(max_size=30),
    st.sampled_from(
        [
            "198503122010011001",
            "0001217496",
            "018,37848",
            "2026-12-03",
            "31/02/2026",
            "08.30",
            "izin",
            "umum",
            "off",
            "datang_terlambat",
            ";;",
        ]
    ),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.dates(),
    st.datetimes(),
    st.times(),
)


def _row(columns: tuple[str, ...], values: list[CellValue]) -> Row:
    return Row(2, {name: Cell(name, value) for name, value in zip(columns, values, strict=False)})


@given(st.lists(cell_values, min_size=9, max_size=9))
def test_an_employee_row_is_read_or_reported_never_anything_else(values: list[CellValue]) -> None:
    row = _row(tuple(c.name for c in employees.COLUMNS), values)
    read = read_employee("f.csv", row, NAMES, today=TODAY, effective=TODAY)
    if isinstance(read, list):
        assert read
        assert all(
            str(line).startswith("f.csv:2: ") and ": expected " in str(line) for line in read
        )
    else:
        assert read.employee.unit in {"bappeda", "diskominfo", "umum"}


@given(st.lists(cell_values, min_size=7, max_size=7))
def test_a_leave_row_is_read_or_reported_never_anything_else(values: list[CellValue]) -> None:
    row = _row(tuple(c.name for c in leave.COLUMNS), values)
    read = read_leave("f.csv", row, NAMES, {"H-017": "H-017"})
    assert isinstance(read, list | Leave)
    assert read or isinstance(read, Leave)


@given(st.lists(cell_values, min_size=3, max_size=3))
def test_a_roster_row_is_read_or_reported_never_anything_else(values: list[CellValue]) -> None:
    row = _row(tuple(c.name for c in roster.COLUMNS), values)
    read = read_roster("f.csv", row, NAMES, {"H-017": "H-017"})
    assert isinstance(read, list | RosterEntry)


@given(st.lists(st.lists(cell_values, max_size=6), max_size=5))
def test_any_grid_is_a_table_or_a_file_error(grid: list[list[CellValue]]) -> None:
    header: list[CellValue] = ["nip", "nama", "unit"]
    numbered = list(enumerate([header, *grid], start=1))
    # Only ImportFileError may escape (a grid without the required columns cannot).
    table = to_table("f.csv", numbered, employees.COLUMNS)
    assert all(row.number > 1 for row in table.rows)
