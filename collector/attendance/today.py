"""Today so far, for ``attendance today``: who is in, who is late, who has not come. Pure.

Built from the day's freshly computed results. "Belum hadir" is today's reading of TK: the
day is not over, so nobody is called absent yet; once the day's windows close, the same
result is the report's TK.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from collector.attendance.model import WITA, Status
from collector.attendance.report_tables import DAYS, Table, clock, long_date

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from datetime import datetime

    from collector.attendance.model import DayResult, Employee

SUMMARY_HEADERS: Final = (
    "Unit",
    "Pegawai",
    "Hadir",
    "Terlambat",
    "Belum hadir",
    "Izin/sakit/cuti/DL/TB",
    "Libur",
)
LATE_HEADERS: Final = ("Nama", "Unit", "Datang", "Terlambat (menit)", "TL")
ABSENT_HEADERS: Final = ("Nama", "Unit")
PRESENT_HEADERS: Final = ("Nama", "Unit", "Datang", "Pulang", "Catatan")
EXCUSED: Final = frozenset(
    {Status.IZIN, Status.SAKIT, Status.CUTI, Status.DINAS_LUAR, Status.TUGAS_BELAJAR}
)


@dataclass(frozen=True, slots=True)
class TodayRecap:
    """Today's results with the names to show them by.

    Attributes:
        at: when the results were computed (their "now").
        results: today's results (any order).
        employees: the registry's employees by key.
        units: unit code -> name.
    """

    at: datetime
    results: Sequence[DayResult]
    employees: Mapping[str, Employee]
    units: Mapping[str, str]

    def title(self) -> str:
        """``Kehadiran Kamis, 3 Desember 2026, pukul 10:15 WITA``."""
        local = self.at.astimezone(WITA)
        day = f"{DAYS[local.weekday()]}, {long_date(local.date())}"
        return f"Kehadiran {day}, pukul {local:%H:%M} WITA"

    def tables(self, *, everyone: bool = False) -> list[Table]:
        """Counts per unit, then the late and those not yet in (and everyone present).

        Late is a TL band: minutes late, or present without a check-in (counted as TL4 by
        default: a single tap after the midpoint of the day).
        """
        ordered = sorted(self.results, key=lambda r: (self._unit(r), self._name(r), r.employee))
        late = [r for r in ordered if r.status is Status.HADIR and r.tl > 0]
        absent = [r for r in ordered if r.status is Status.TANPA_KETERANGAN]
        tables = [
            self._summary(ordered),
            Table(
                "Terlambat",
                ("Terlambat",),
                LATE_HEADERS,
                tuple(
                    (self._name(r), self._unit(r), clock(r.check_in), r.minutes_late, f"TL{r.tl}")
                    for r in late
                ),
            ),
            Table(
                "Belum hadir",
                ("Belum hadir (belum ada tap, tanpa keterangan)",),
                ABSENT_HEADERS,
                tuple((self._name(r), self._unit(r)) for r in absent),
            ),
        ]
        if everyone:
            present = [r for r in ordered if r.status is Status.HADIR]
            rows = tuple(
                (
                    self._name(r),
                    self._unit(r),
                    clock(r.check_in),
                    clock(r.check_out),
                    "; ".join(r.notes),
                )
                for r in present
            )
            tables.append(Table("Hadir", ("Hadir",), PRESENT_HEADERS, rows))
        return tables

    def _summary(self, ordered: Sequence[DayResult]) -> Table:
        by_unit: dict[str, list[DayResult]] = {}
        for result in ordered:
            by_unit.setdefault(self._unit(result), []).append(result)
        rows = [_counts(unit, results) for unit, results in by_unit.items()]
        rows.append(_counts("Jumlah", ordered))
        return Table("Ringkasan", (self.title(),), SUMMARY_HEADERS, tuple(rows))

    def _name(self, result: DayResult) -> str:
        employee = self.employees.get(result.employee)
        return employee.name if employee else result.employee

    def _unit(self, result: DayResult) -> str:
        return self.units.get(result.unit, result.unit)


def _counts(label: str, results: Sequence[DayResult]) -> tuple[str, int, int, int, int, int, int]:
    statuses = [r.status for r in results]
    return (
        label,
        len(results),
        statuses.count(Status.HADIR),
        sum(r.status is Status.HADIR and r.tl > 0 for r in results),
        statuses.count(Status.TANPA_KETERANGAN),
        sum(status in EXCUSED for status in statuses),
        statuses.count(Status.LIBUR),
    )


__all__ = ["TodayRecap"]
