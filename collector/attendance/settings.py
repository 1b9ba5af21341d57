"""Attendance settings (the ``attendance:`` section): units, schedules, leave kinds, bands.

Everything the rules need besides taps and the registry is here, as data, because the
regency's own regulation (Perbup) governs and changes: the defaults are the commonly
applied ASN pattern (:mod:`collector.attendance.schedules`), late/early bands of 1-30,
31-60, 61-90 and over 90 minutes, no penalties. A unit may choose its own schedule and
override the grace, the bands and the penalties.

Penalties are **dated**: ``penalties`` is a list of rule sets, each in force from its
``valid_from`` until the next one's, so a recap of March is computed with March's rules
even after a new Perbup. Before the first ``valid_from`` there are no penalties.

``config/attendance.example.yaml`` is a commented example; the README's "Attendance
rules" section is the reference.
"""

from __future__ import annotations

import itertools
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Final

from pydantic import Field, model_validator

from collector.attendance.errors import RegistryMismatch
from collector.attendance.model import Status
from collector.attendance.schedules import (
    Name,
    OfficeSchedule,
    Schedule,
    ShiftSchedule,
    default_schedules,
)
from pelangi.configfile import StrictModel

if TYPE_CHECKING:
    from collections.abc import Sequence

    from collector.attendance.model import Employee, Tap

Band = Annotated[int, Field(ge=0, le=4)]
"""A TL/PSW band: 0 (none) to 4."""
Percent = Annotated[float, Field(ge=0, le=100)]
BandBounds = tuple[
    Annotated[int, Field(ge=1)], Annotated[int, Field(ge=1)], Annotated[int, Field(ge=1)]
]
LEAVE_STATUSES: Final = frozenset(
    {Status.IZIN, Status.SAKIT, Status.CUTI, Status.DINAS_LUAR, Status.TUGAS_BELAJAR}
)
"""The statuses a leave kind may give a day (not H, TK or libur: those the rules decide)."""


class DateRange(StrictModel):
    """Dates from ``first`` to ``last``, both included (WITA)."""

    first: date
    last: date

    @model_validator(mode="after")
    def _in_order(self) -> DateRange:
        if self.last < self.first:
            raise ValueError(f"last ({self.last}) must not be before first ({self.first})")
        return self

    def __contains__(self, day: object) -> bool:
        """Whether ``day`` is one of the dates."""
        return isinstance(day, date) and self.first <= day <= self.last


class BandSettings(StrictModel):
    """How minutes late (TL) and early (PSW) map to bands 1-4, and the missing-tap bands."""

    late_min: BandBounds = Field(
        default=(30, 60, 90), description="upper bounds of TL1, TL2, TL3; beyond the last: TL4"
    )
    early_min: BandBounds = Field(
        default=(30, 60, 90), description="upper bounds of PSW1, PSW2, PSW3; beyond: PSW4"
    )
    no_check_in: Band = Field(default=4, description="the TL band of a day without check-in")
    no_check_out: Band = Field(default=4, description="the PSW band of a day without check-out")

    @model_validator(mode="after")
    def _increasing(self) -> BandSettings:
        for key, bounds in (("late_min", self.late_min), ("early_min", self.early_min)):
            if not bounds[0] < bounds[1] < bounds[2]:
                raise ValueError(
                    f"{key}: got {list(bounds)}; expected three increasing minute counts, "
                    "e.g. [30, 60, 90]"
                )
        return self


FourPercents = tuple[Percent, Percent, Percent, Percent]


class PenaltyRules(StrictModel):
    """One dated set of penalty percentages, in force from ``valid_from`` to the next set."""

    valid_from: date
    tl_pct: FourPercents = Field(default=(0, 0, 0, 0), description="percent for TL1..TL4")
    psw_pct: FourPercents = Field(default=(0, 0, 0, 0), description="percent for PSW1..PSW4")
    absent_pct: Percent = Field(default=0, description="percent for a day without leave (TK)")
    daily_cap_pct: Percent | None = Field(default=None, description="most percent in one day")
    monthly_cap_pct: Percent | None = Field(default=None, description="most percent in a month")
    regulation: str = Field(default="", description="where the numbers come from (a Perbup)")


def _dated(rule_sets: Sequence[PenaltyRules], key: str) -> list[str]:
    """Problems of a list of rule sets: two in force from the same day."""
    seen: set[date] = set()
    problems = []
    for index, rules in enumerate(rule_sets):
        if rules.valid_from in seen:
            problems.append(
                f"{key}[{index}].valid_from: got {rules.valid_from}, already the valid_from of "
                "another rule set; expected one rule set per date"
            )
        seen.add(rules.valid_from)
    return problems


def rules_in_force(rule_sets: Sequence[PenaltyRules], day: date) -> PenaltyRules | None:
    """The rule set in force on ``day``: the latest ``valid_from`` at or before it."""
    in_force = [rules for rules in rule_sets if rules.valid_from <= day]
    return max(in_force, key=lambda rules: rules.valid_from) if in_force else None


class LeaveKindSettings(StrictModel):
    """A kind of leave: the status it gives a day, and its label on reports."""

    status: Status
    label: str = Field(min_length=1)

    @model_validator(mode="after")
    def _a_leave_status(self) -> LeaveKindSettings:
        if self.status not in LEAVE_STATUSES:
            raise ValueError(
                f"status: got {self.status.value!r}; expected one of "
                f"{', '.join(sorted(s.value for s in LEAVE_STATUSES))} (H, TK and libur are "
                "decided by the taps and the calendar)"
            )
        return self


def default_leave_kinds() -> dict[str, LeaveKindSettings]:
    """Izin, sakit, the cuti kinds of PP 11/2017 (cuti bersama is a calendar day), DL, TB."""
    kinds = {
        "izin": (Status.IZIN, "Izin"),
        "sakit": (Status.SAKIT, "Sakit"),
        "cuti_tahunan": (Status.CUTI, "Cuti tahunan"),
        "cuti_besar": (Status.CUTI, "Cuti besar"),
        "cuti_sakit": (Status.CUTI, "Cuti sakit"),
        "cuti_melahirkan": (Status.CUTI, "Cuti melahirkan"),
        "cuti_alasan_penting": (Status.CUTI, "Cuti karena alasan penting"),
        "cuti_luar_tanggungan": (Status.CUTI, "Cuti di luar tanggungan negara"),
        "dinas_luar": (Status.DINAS_LUAR, "Dinas luar"),
        "tugas_belajar": (Status.TUGAS_BELAJAR, "Tugas belajar"),
    }
    return {kind: LeaveKindSettings(status=s, label=label) for kind, (s, label) in kinds.items()}


class ReaderRef(StrictModel):
    """Readers by site, gateway and reader (``device``) id; a key left out matches any."""

    site: str | None = None
    gateway: str | None = None
    reader: str | None = None

    def matches(self, tap: Tap) -> bool:
        """Whether ``tap`` was read by one of these readers."""
        return (
            (self.site is None or self.site == tap.site)
            and (self.gateway is None or self.gateway == tap.gateway)
            and (self.reader is None or self.reader == tap.reader)
        )


class ReaderSettings(StrictModel):
    """Which readers' taps count: any ``include`` matches and no ``exclude`` does."""

    include: list[ReaderRef] = Field(
        default_factory=lambda: [ReaderRef()], description="default: every reader"
    )
    exclude: list[ReaderRef] = Field(
        default_factory=list, description="e.g. the server room's door reader"
    )

    def counts(self, tap: Tap) -> bool:
        """Whether ``tap`` was read on an attendance reader."""
        return any(ref.matches(tap) for ref in self.include) and not any(
            ref.matches(tap) for ref in self.exclude
        )


class UnitSettings(StrictModel):
    """A unit (OPD/bidang): its name, its schedule and what it overrides."""

    name: str = Field(min_length=1)
    schedule: Name = "kantor"
    grace_min: Annotated[int, Field(ge=0, le=240)] | None = Field(
        default=None, description="overrides the schedule's grace"
    )
    bands: BandSettings | None = None
    penalties: list[PenaltyRules] | None = Field(
        default=None, description="replaces the top-level penalties for this unit"
    )


class AttendanceSettings(StrictModel):
    """The whole ``attendance:`` section."""

    schedules: dict[Name, Schedule] = Field(default_factory=default_schedules)
    units: dict[
        Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")], UnitSettings
    ] = Field(default_factory=dict, description="unit code -> name, schedule, overrides")
    leave_kinds: dict[Name, LeaveKindSettings] = Field(default_factory=default_leave_kinds)
    readers: ReaderSettings = Field(default_factory=ReaderSettings)
    duplicate_window_s: Annotated[float, Field(ge=0, le=3600)] = Field(
        default=60, description="a tap this soon after the card's last kept tap is a duplicate"
    )
    holidays_file: Path | None = Field(
        default=None, description="holidays and cuti bersama (config/holidays-2026.example.yaml)"
    )
    ramadan: list[DateRange] = Field(
        default_factory=list, description="dates on which schedules use their ramadan_hours"
    )
    bands: BandSettings = Field(default_factory=BandSettings)
    penalties: list[PenaltyRules] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> AttendanceSettings:
        problems = [
            f"units.{code}.schedule: got {unit.schedule!r}; expected one of the schedules: "
            + ", ".join(sorted(self.schedules))
            for code, unit in self.units.items()
            if unit.schedule not in self.schedules
        ]
        ordered = sorted(self.ramadan, key=lambda span: span.first)
        problems += [
            f"ramadan: {later.first}..{later.last} overlaps {earlier.first}..{earlier.last}; "
            "expected separate date ranges"
            for earlier, later in itertools.pairwise(ordered)
            if later.first <= earlier.last
        ]
        problems += _dated(self.penalties, "penalties")
        for code, unit in self.units.items():
            problems += _dated(unit.penalties or [], f"units.{code}.penalties")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def unit(self, code: str) -> UnitSettings:
        """The unit ``code``. Raises RegistryMismatch for a unit not configured."""
        try:
            return self.units[code]
        except KeyError:
            raise RegistryMismatch("unit", code, list(self.units)) from None

    def schedule_of(self, employee: Employee) -> tuple[str, OfficeSchedule | ShiftSchedule]:
        """The employee's schedule (their own, else their unit's) and its name.

        Raises:
            RegistryMismatch: the unit or the schedule is not configured.
        """
        name = employee.schedule or self.unit(employee.unit).schedule
        try:
            return name, self.schedules[name]
        except KeyError:
            context = f"employee {employee.key}"
            raise RegistryMismatch(
                "schedule", name, list(self.schedules), context=context
            ) from None

    def grace_min(self, unit: str, schedule: OfficeSchedule | ShiftSchedule) -> int:
        """Grace minutes for ``unit`` on ``schedule`` (the unit's override wins)."""
        override = self.unit(unit).grace_min
        return schedule.grace_min if override is None else override

    def bands_for(self, unit: str) -> BandSettings:
        """The bands ``unit`` uses."""
        return self.unit(unit).bands or self.bands

    def penalties_on(self, unit: str, day: date) -> PenaltyRules | None:
        """The penalty rules in force for ``unit`` on ``day`` (None: no penalties)."""
        own = self.unit(unit).penalties
        return rules_in_force(self.penalties if own is None else own, day)

    def leave_kind(self, kind: str) -> LeaveKindSettings:
        """The leave kind ``kind``. Raises RegistryMismatch for a kind not configured."""
        try:
            return self.leave_kinds[kind]
        except KeyError:
            raise RegistryMismatch("leave kind", kind, list(self.leave_kinds)) from None
