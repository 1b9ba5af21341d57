"""The holiday file: loads whole or names every bad line; the 2026 example as published."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collector.attendance.errors import HolidayFileError
from collector.attendance.holidays import (
    HolidayCalendar,
    HolidayKind,
    load_holidays,
    parse_holidays_csv,
    parse_holidays_yaml,
)

if TYPE_CHECKING:
    from collections.abc import Callable

EXAMPLE = Path(__file__).resolve().parent.parent / "config" / "holidays-2026.example.yaml"
DAY_NAMES = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")


def _problems(parse: Callable[[str], HolidayCalendar], text: str) -> list[str]:
    with pytest.raises(HolidayFileError) as caught:
        parse(text)
    return caught.value.problems


def test_the_2026_example_is_the_skb_as_published() -> None:
    calendar = load_holidays(EXAMPLE)
    assert calendar.years == {2026}
    by_kind = {
        kind: [
            (h.day.strftime("%d %b"), DAY_NAMES[h.day.weekday()])
            for h in calendar.holidays
            if h.kind is kind
        ]
        for kind in HolidayKind
    }
    # Dates with the day names the published summaries give them.
    assert by_kind[HolidayKind.LIBUR_NASIONAL] == [
        ("01 Jan", "Kamis"), ("16 Jan", "Jumat"), ("17 Feb", "Selasa"), ("19 Mar", "Kamis"),
        ("21 Mar", "Sabtu"), ("22 Mar", "Minggu"), ("03 Apr", "Jumat"), ("05 Apr", "Minggu"),
        ("01 May", "Jumat"), ("14 May", "Kamis"), ("27 May", "Rabu"), ("31 May", "Minggu"),
        ("01 Jun", "Senin"), ("16 Jun", "Selasa"), ("17 Aug", "Senin"), ("25 Aug", "Selasa"),
        ("25 Dec", "Jumat"),
    ]  # fmt: skip
    assert by_kind[HolidayKind.CUTI_BERSAMA] == [
        ("16 Feb", "Senin"), ("18 Mar", "Rabu"), ("20 Mar", "Jumat"), ("23 Mar", "Senin"),
        ("24 Mar", "Selasa"), ("15 May", "Jumat"), ("28 May", "Kamis"), ("24 Dec", "Kamis"),
    ]  # fmt: skip
    nyepi = calendar.on(date(2026, 3, 19))
    assert nyepi is not None
    assert nyepi.name == "Hari Suci Nyepi (Tahun Baru Saka 1948)"
    assert calendar.on(date(2026, 3, 25)) is None


def test_a_bad_date_names_the_file_and_the_line(tmp_path: Path) -> None:
    path = tmp_path / "libur.yaml"
    path.write_text("2026:\n  libur_nasional:\n    2026-01-01: Tahun Baru\n    2026-02-30: X\n")
    with pytest.raises(HolidayFileError) as caught:
        load_holidays(path)
    assert caught.value.path == str(path)
    assert caught.value.problems == [
        "line 4: got '2026-02-30'; expected a real date written YYYY-MM-DD"
    ]
    assert str(caught.value).startswith(f"{path}: line 4: ")


def test_every_problem_is_reported_and_nothing_is_loaded() -> None:
    text = (
        "2026:\n"
        "  libur_nasional:\n"
        "    2026-03-21: Idul Fitri\n"
        "    2025-12-25: Natal\n"
        "    2026-13-01: X\n"
        "    2026-04-03:\n"
        "  cuti_bersama:\n"
        "    2026-03-21: Cuti bersama Idul Fitri\n"
        "  libur_daerah:\n"
        "    2026-05-01: X\n"
        "2026:\n"
        "  cuti_bersama: {}\n"
    )
    assert _problems(parse_holidays_yaml, text) == [
        "line 4: got 2025-12-25, which is not in 2026 (the section it is listed in)",
        "line 5: got '2026-13-01'; expected a real date written YYYY-MM-DD",
        "line 6: 2026-04-03 has no name; expected what the day is, e.g. 'Hari Natal'",
        "line 8: 2026-03-21 is listed twice (first on line 3)",
        "line 9: got 'libur_daerah'; expected libur_nasional, cuti_bersama",
        "line 11: got '2026' (listed twice); expected a year",
    ]


def test_shapes_that_are_not_a_holiday_file() -> None:
    assert _problems(parse_holidays_yaml, "- 2026-01-01\n") == [
        "line 1: expected a mapping of years, e.g. 2026:"
    ]
    assert _problems(parse_holidays_yaml, "tahun: {}\n") == [
        "line 1: got 'tahun' (not a year); expected a year"
    ]
    assert _problems(parse_holidays_yaml, "2026:\n  libur_nasional: [2026-01-01]\n") == [
        "line 2: expected dates with their names"
    ]
    assert _problems(parse_holidays_yaml, "2026: [\n")[0].startswith("line 2: not valid YAML: ")


def test_empty_files_and_sections_load_as_nothing() -> None:
    assert parse_holidays_yaml("") == HolidayCalendar()
    empty_year = parse_holidays_yaml("2027:\n  libur_nasional:\n  cuti_bersama: {}\n")
    assert empty_year.holidays == ()
    assert empty_year.years == {2027}  # covered, with nothing in it yet


def test_csv_files_load_with_a_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "libur.csv"
    path.write_bytes(
        "\ufefftanggal,jenis,keterangan\n"
        "2026-01-01,libur_nasional,Tahun Baru 2026 Masehi\n"
        "\n"
        '2026-03-20,cuti_bersama,"Cuti bersama Idul Fitri, hari pertama"\n'
        "2027-01-01,libur_nasional,Tahun Baru 2027 Masehi\n".encode()
    )
    calendar = load_holidays(path)
    assert calendar.years == {2026, 2027}
    assert [(h.day, h.kind) for h in calendar.holidays] == [
        (date(2026, 1, 1), HolidayKind.LIBUR_NASIONAL),
        (date(2026, 3, 20), HolidayKind.CUTI_BERSAMA),
        (date(2027, 1, 1), HolidayKind.LIBUR_NASIONAL),
    ]
    assert calendar.holidays[1].name == "Cuti bersama Idul Fitri, hari pertama"


def test_csv_problems_name_their_lines() -> None:
    assert _problems(parse_holidays_csv, "date,kind,name\n") == [
        "line 1: got header ['date', 'kind', 'name']; expected tanggal,jenis,keterangan"
    ]
    text = (
        "tanggal,jenis,keterangan\n"
        "2026-01-01,libur_nasional,Tahun Baru\n"
        "01/05/2026,libur_nasional,Hari Buruh\n"
        "2026-05-01,libur,Hari Buruh\n"
        "2026-05-14,libur_nasional\n"
        "2026-01-01,cuti_bersama,Tahun Baru\n"
    )
    assert _problems(parse_holidays_csv, text) == [
        "line 3: got '01/05/2026'; expected a real date written YYYY-MM-DD",
        "line 4: jenis: got 'libur'; expected one of libur_nasional, cuti_bersama",
        "line 5: got 2 columns; expected 3",
        "line 6: 2026-01-01 is listed twice (first on line 2)",
    ]


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(HolidayFileError, match="cannot read the file"):
        load_holidays(tmp_path / "absent.yaml")
    with pytest.raises(
        HolidayFileError, match=r"expected a \.yaml, \.yml or \.csv file, got 'l.txt'"
    ):
        load_holidays(tmp_path / "l.txt")
    latin = tmp_path / "latin.csv"
    latin.write_bytes(b"tanggal,jenis,keterangan\n2026-01-01,libur_nasional,Tahun Baru \xe9\n")
    with pytest.raises(HolidayFileError, match="not UTF-8"):
        load_holidays(latin)


# Peers' test runs share the CPUs: generation speed is not what is checked here.
_FUZZ = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=60)
_PARSERS = st.sampled_from([parse_holidays_yaml, parse_holidays_csv])
_PIECES = st.sampled_from(
    ["2026", "2026-01-01", "2026-02-30", "libur_nasional", "cuti_bersama", "Natal", "", "~", "x"]
)
_DOCS: st.SearchStrategy[Any] = st.recursive(
    _PIECES | st.integers() | st.dates(),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(_PIECES | st.integers(), inner, max_size=3)
    ),
    max_leaves=10,
)


def _loads_or_explains(parse: Callable[[str], HolidayCalendar], text: str) -> None:
    try:
        calendar = parse(text)
    except HolidayFileError as exc:
        problems = exc.problems
    else:
        assert all(h.day.year in calendar.years for h in calendar.holidays)
        return
    assert problems
    assert all(problem.startswith("line ") for problem in problems)


@_FUZZ
@given(_PARSERS, st.text(max_size=200))
def test_any_text_loads_or_raises_the_holiday_error(
    parse: Callable[[str], HolidayCalendar], text: str
) -> None:
    _loads_or_explains(parse, text)


@_FUZZ
@given(_DOCS)
def test_any_yaml_document_loads_or_raises_the_holiday_error(document: Any) -> None:
    _loads_or_explains(parse_holidays_yaml, yaml.safe_dump(document))
