"""The attendance report as tables: what HR and unit heads read and sign. Pure.

A :class:`Report` holds a period's results with the registry's names, and turns them
into :class:`Table` values (a title, headers in Bahasa Indonesia, rows of cells) that
:mod:`collector.attendance.report_files` writes as CSV or XLSX. Times are WITA.

- ``Rekap Harian``: one row per employee per day.
- ``Ringkasan <unit>``: one row per employee of the unit: days per status, TL/PSW bands,
  the month's penalty and the PP 94/2021 flag, when the caller supplies them.
- ``Kartu Tak Dikenal``: taps of cards nobody held, so HR can register them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from collector.attendance.model import WITA, Status

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from datetime import date, datetime

    from collector.attendance.model import DayResult, Employee, UnknownTap

Cell = str | int | float | None
MONTHS: Final = (
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
)
DAYS: Final = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
DAILY_HEADERS: Final = (
    "Tanggal",
    "Hari",
    "NIP / ID",
    "Nama",
    "Unit",
    "Status",
    "Jam Masuk",
    "Jam Pulang",
    "Terlambat (menit)",
    "TL",
    "Pulang Cepat (menit)",
    "PSW",
    "Jam Kerja (menit)",
    "Potongan (%)",
    "Keterangan",
)
STATUS_ORDER: Final = tuple(Status)
UNKNOWN_HEADERS: Final = ("Waktu (WITA)", "Kartu", "Lokasi", "Gateway", "Pembaca", "Keterangan")


@dataclass(frozen=True, slots=True)
class Table:
    """One sheet (XLSX) or one file (CSV)."""

    name: str
    """The sheet's name (at most 31 characters, as Excel allows)."""
    title: tuple[str, ...]
    """Lines above the header: report name, period, unit."""
    headers: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    signature: str | None = None
    """Who signs below the table (e.g. ``Kepala Diskominfo``); None: no signature block."""


@dataclass(frozen=True, slots=True)
class Report:
    """A period's attendance, ready to be laid out.

    Attributes:
        first: the period's first day.
        last: its last day, inclusive.
        results: every result of the period (any order).
        employees: the registry's employees by key.
        units: unit code -> the unit's name.
        unknown: taps of unknown cards in the period.
        penalty_pct: employee key -> the period's penalty in percent (monthly cap applied).
        sanctions: employee key -> the PP 94/2021 flag for the year so far, in words.
        absences_this_year: employee key -> days TK in the year up to the period's end.
    """

    first: date
    last: date
    results: Sequence[DayResult]
    employees: Mapping[str, Employee]
    units: Mapping[str, str]
    unknown: Sequence[UnknownTap] = ()
    penalty_pct: Mapping[str, float] = field(default_factory=dict)
    sanctions: Mapping[str, str] = field(default_factory=dict)
    absences_this_year: Mapping[str, int] = field(default_factory=dict)

    def period(self) -> str:
        """The period in words, e.g. ``1 Maret 2026 - 31 Maret 2026``."""
        if self.first == self.last:
            return long_date(self.first)
        return f"{long_date(self.first)} - {long_date(self.last)}"

    def unit_name(self, code: str) -> str:
        """A unit's name, or its code when the settings no longer know it."""
        return self.units.get(code, code)

    def tables(self, unit: str | None = None) -> list[Table]:
        """The daily table, one summary per unit, and unknown cards; ``unit``: that one only."""
        results = sorted(
            (r for r in self.results if unit is None or r.unit == unit),
            key=lambda r: (r.day, r.unit, self._name(r.employee), r.employee),
        )
        units = sorted({r.unit for r in results})
        scope = self.unit_name(unit) if unit else "Semua unit"
        tables = [
            Table(
                "Rekap Harian",
                ("Rekap Kehadiran Pegawai", f"Periode: {self.period()}", f"Unit: {scope}"),
                DAILY_HEADERS,
                tuple(self._daily_row(r) for r in results),
            )
        ]
        tables.extend(self._summary(code, results) for code in units)
        if unit is None:
            tables.append(self._unknown())
        return tables

    def _name(self, key: str) -> str:
        employee = self.employees.get(key)
        return employee.name if employee else key

    def _daily_row(self, result: DayResult) -> tuple[Cell, ...]:
        employee = self.employees.get(result.employee)
        ident = (employee.nip or employee.key) if employee else result.employee
        return (
            result.day.isoformat(),
            DAYS[result.day.weekday()],
            ident,
            self._name(result.employee),
            self.unit_name(result.unit),
            str(result.status),
            clock(result.check_in),
            clock(result.check_out),
            result.minutes_late or None,
            f"TL{result.tl}" if result.tl else None,
            result.minutes_early or None,
            f"PSW{result.psw}" if result.psw else None,
            result.worked_minutes or None,
            result.penalty_pct or None,
            "; ".join(result.notes) or None,
        )

    def _summary(self, unit: str, results: Sequence[DayResult]) -> Table:
        by_employee: dict[str, list[DayResult]] = {}
        for result in results:
            if result.unit == unit:
                by_employee.setdefault(result.employee, []).append(result)
        keys = sorted(by_employee, key=lambda k: (self._name(k), k))
        headers = (
            "NIP / ID",
            "Nama",
            *(str(s) for s in STATUS_ORDER),
            *(f"TL{n}" for n in range(1, 5)),
            *(f"PSW{n}" for n in range(1, 5)),
            "Potongan (%)",
            "TK tahun ini",
            "Peringatan PP 94/2021",
        )
        rows = []
        for key in keys:
            days = by_employee[key]
            statuses = Counter(r.status for r in days)
            tl = Counter(r.tl for r in days)
            psw = Counter(r.psw for r in days)
            employee = self.employees.get(key)
            rows.append(
                (
                    (employee.nip or employee.key) if employee else key,
                    self._name(key),
                    *(statuses[s] for s in STATUS_ORDER),
                    *(tl[n] for n in range(1, 5)),
                    *(psw[n] for n in range(1, 5)),
                    self.penalty_pct.get(key),
                    self.absences_this_year.get(key),
                    self.sanctions.get(key),
                )
            )
        name = self.unit_name(unit)
        return Table(
            f"Ringkasan {unit}"[:31],
            ("Ringkasan Kehadiran", f"Periode: {self.period()}", f"Unit: {name}"),
            headers,
            tuple(rows),
            signature=f"Kepala {name}",
        )

    def _unknown(self) -> Table:
        taps = sorted(self.unknown, key=lambda u: (u.tap.at, u.tap.uid))
        return Table(
            "Kartu Tak Dikenal",
            ("Kartu yang belum terdaftar", f"Periode: {self.period()}"),
            UNKNOWN_HEADERS,
            tuple(
                (
                    u.tap.local.strftime("%Y-%m-%d %H:%M:%S"),
                    u.tap.uid,
                    u.tap.site,
                    u.tap.gateway,
                    u.tap.reader,
                    u.note or None,
                )
                for u in taps
            ),
        )


def long_date(day: date) -> str:
    """``2 Maret 2026``."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def clock(at: datetime | None) -> str | None:
    """``07:31`` in WITA (seconds dropped, as minutes are counted), None for none."""
    return None if at is None else at.astimezone(WITA).strftime("%H:%M")
