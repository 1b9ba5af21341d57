"""Holidays and cuti bersama per year, from a data file the office edits (YAML or CSV).

National holidays (*libur nasional*) and collective leave (*cuti bersama*) are set every
year by a joint decree of three ministers (SKB 3 Menteri), and dates of the Hijri
calendar may still move after the government's isbat: they are data, never code.

YAML (``config/holidays-2026.example.yaml``): years, then the two kinds, then date ->
name::

    2026:
      libur_nasional:
        2026-01-01: Tahun Baru 2026 Masehi
      cuti_bersama:
        2026-02-16: Cuti bersama Tahun Baru Imlek 2577 Kongzili

CSV: a header ``tanggal,jenis,keterangan``, then one row per date, ``jenis`` being
``libur_nasional`` or ``cuti_bersama``.

A file loads whole or not at all: every problem (a bad date, a date outside its year, a
date listed twice, an unknown kind) is collected with its line and raised together as
:class:`~collector.attendance.errors.HolidayFileError`.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING, Final

import yaml

from collector.attendance.errors import HolidayFileError

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from pathlib import Path

_ISO_DATE: Final = re.compile(r"^\d{4}-\d{2}-\d{2}$")
CSV_HEADER: Final = ("tanggal", "jenis", "keterangan")


class HolidayKind(StrEnum):
    """A national holiday or a day of cuti bersama."""

    LIBUR_NASIONAL = "libur_nasional"
    CUTI_BERSAMA = "cuti_bersama"

    @property
    def label(self) -> str:
        """How reports name the kind."""
        return "Libur nasional" if self is HolidayKind.LIBUR_NASIONAL else "Cuti bersama"


@dataclass(frozen=True, slots=True)
class Holiday:
    """One day off for everyone (on schedules that observe it).

    Attributes:
        day: the date.
        kind: libur nasional or cuti bersama.
        name: what the day is, as the file names it (reports show it).
    """

    day: date
    kind: HolidayKind
    name: str


@dataclass(frozen=True, slots=True)
class HolidayCalendar:
    """The holidays of the years a file covers.

    Attributes:
        holidays: every holiday, in date order.
        years: the years the file covers (a year without holidays is still covered: one
            not covered means "not loaded yet", which the job reports).
    """

    holidays: tuple[Holiday, ...] = ()
    years: frozenset[int] = frozenset()
    _by_day: Mapping[date, Holiday] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Index the holidays by date."""
        by_day = MappingProxyType({holiday.day: holiday for holiday in self.holidays})
        object.__setattr__(self, "_by_day", by_day)

    def on(self, day: date) -> Holiday | None:
        """The holiday on ``day``, if any."""
        return self._by_day.get(day)


def load_holidays(path: Path) -> HolidayCalendar:
    """Read ``path`` (``.yaml``, ``.yml`` or ``.csv``). Raises HolidayFileError."""
    source = str(path)
    if path.suffix.lower() not in {".yaml", ".yml", ".csv"}:
        raise HolidayFileError(source, [f"expected a .yaml, .yml or .csv file, got {path.name!r}"])
    try:
        # utf-8-sig: spreadsheet programs start their CSV exports with a byte-order mark.
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise HolidayFileError(source, [f"cannot read the file: {exc.strerror or exc}"]) from None
    except UnicodeDecodeError as exc:
        raise HolidayFileError(source, [f"the file is not UTF-8 text: {exc.reason}"]) from None
    if path.suffix.lower() == ".csv":
        return parse_holidays_csv(text, source=source)
    return parse_holidays_yaml(text, source=source)


class _Collector:
    """Entries and problems gathered while reading one file."""

    def __init__(self) -> None:
        self.entries: dict[date, tuple[int, Holiday]] = {}
        self.years: set[int] = set()
        self.problems: list[str] = []

    def problem(self, line: int, text: str) -> None:
        self.problems.append(f"line {line}: {text}")

    def add(self, line: int, day_text: str, kind: HolidayKind, name: str, year: int | None) -> None:
        day = _date(day_text)
        if day is None:
            self.problem(line, f"got {day_text!r}; expected a real date written YYYY-MM-DD")
        elif year is not None and day.year != year:
            self.problem(line, f"got {day}, which is not in {year} (the section it is listed in)")
        elif not name.strip():
            self.problem(line, f"{day} has no name; expected what the day is, e.g. 'Hari Natal'")
        elif day in self.entries:
            first_line = self.entries[day][0]
            self.problem(line, f"{day} is listed twice (first on line {first_line})")
        else:
            self.entries[day] = (line, Holiday(day, kind, name.strip()))
            self.years.add(day.year)

    def result(self, source: str) -> HolidayCalendar:
        if self.problems:
            raise HolidayFileError(source, self.problems)
        holidays = tuple(sorted((h for _, h in self.entries.values()), key=lambda h: h.day))
        return HolidayCalendar(holidays, frozenset(self.years))


def _date(text: str) -> date | None:
    if not _ISO_DATE.match(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _kind(text: str) -> HolidayKind | None:
    try:
        return HolidayKind(text)
    except ValueError:
        return None


_KINDS: Final = ", ".join(kind.value for kind in HolidayKind)


def parse_holidays_csv(text: str, *, source: str = "<holidays>") -> HolidayCalendar:
    """Parse CSV ``text`` (see the module docstring). Raises HolidayFileError."""
    found = _Collector()
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader, None)
        if header is None or tuple(cell.strip().lower() for cell in header) != CSV_HEADER:
            found.problem(1, f"got header {header!r}; expected {','.join(CSV_HEADER)}")
            return found.result(source)
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            line = reader.line_num
            if len(row) != len(CSV_HEADER):
                found.problem(line, f"got {len(row)} columns; expected {len(CSV_HEADER)}")
                continue
            kind = _kind(row[1].strip())
            if kind is None:
                found.problem(line, f"jenis: got {row[1]!r}; expected one of {_KINDS}")
                continue
            found.add(line, row[0].strip(), kind, row[2], None)
    except csv.Error as exc:
        found.problem(reader.line_num, f"not valid CSV: {exc}")
    return found.result(source)


def parse_holidays_yaml(text: str, *, source: str = "<holidays>") -> HolidayCalendar:
    """Parse YAML ``text`` (see the module docstring). Raises HolidayFileError."""
    found = _Collector()
    try:
        # Composed, not loaded: PyYAML would turn 2026-02-30 into a bare ValueError and
        # keep only the last of two equal keys; the nodes keep every key and its line.
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        found.problem(line, f"not valid YAML: {getattr(exc, 'problem', None) or exc}")
        return found.result(source)
    if root is None:
        return found.result(source)
    for year_node, sections in _pairs(root, found, "a mapping of years, e.g. 2026:"):
        year = _date_year(year_node.value)
        if year is None or year in found.years:
            what = "listed twice" if year is not None else "not a year"
            found.problem(_line(year_node), f"got {year_node.value!r} ({what}); expected a year")
            continue
        found.years.add(year)
        for kind_node, days in _pairs(sections, found, f"{_KINDS} under the year"):
            kind = _kind(kind_node.value)
            if kind is None:
                found.problem(_line(kind_node), f"got {kind_node.value!r}; expected {_KINDS}")
                continue
            for day_node, name_node in _pairs(days, found, "dates with their names"):
                name = name_node.value if isinstance(name_node, yaml.ScalarNode) else ""
                found.add(_line(day_node), day_node.value, kind, str(name), year)
    return found.result(source)


def _pairs(
    node: yaml.Node, found: _Collector, expected: str
) -> Iterable[tuple[yaml.ScalarNode, yaml.Node]]:
    """The scalar keys of a mapping node and their values; a problem if it is not one."""
    if isinstance(node, yaml.ScalarNode) and node.value in {"", "~", "null"}:
        return []  # an empty section: nothing listed yet
    if not isinstance(node, yaml.MappingNode):
        found.problem(_line(node), f"expected {expected}")
        return []
    pairs = []
    for key, value in node.value:
        if isinstance(key, yaml.ScalarNode):
            pairs.append((key, value))
        else:
            found.problem(_line(key), f"expected {expected}, got a nested key")
    return pairs


def _date_year(text: str) -> int | None:
    return int(text) if re.fullmatch(r"(19|20|21)\d\d", text) else None


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1
