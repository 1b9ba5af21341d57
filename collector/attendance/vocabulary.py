"""The names the attendance settings define, which the registry and its imports check against.

The settings (:class:`~collector.attendance.settings.AttendanceSettings`: units, schedules
and their shifts, leave kinds) say which names exist; the registry only needs the names,
so that an employee is never filed under a unit nobody configured. A field left ``None``
accepts any name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from collector.attendance.errors import RegistryMismatch
from collector.attendance.schedules import OFF, ShiftSchedule

if TYPE_CHECKING:
    from collections.abc import Iterable

    from collector.attendance.settings import AttendanceSettings

NameKind = Literal["unit", "schedule", "shift", "leave kind"]
OFF_SHIFT = OFF
"""The roster's day off (:class:`~collector.attendance.model.RosterEntry`): always known."""


def _names(names: Iterable[str] | None) -> frozenset[str] | None:
    return None if names is None else frozenset(names)


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """Known unit codes, schedule names, shift names and leave kinds (None: not checked)."""

    units: frozenset[str] | None = None
    schedules: frozenset[str] | None = None
    shifts: frozenset[str] | None = None
    leave_kinds: frozenset[str] | None = None

    @classmethod
    def of(
        cls,
        *,
        units: Iterable[str] | None = None,
        schedules: Iterable[str] | None = None,
        shifts: Iterable[str] | None = None,
        leave_kinds: Iterable[str] | None = None,
    ) -> Vocabulary:
        """Build from any collections of names (lists, a dict's keys...)."""
        return cls(_names(units), _names(schedules), _names(shifts), _names(leave_kinds))

    @classmethod
    def from_settings(cls, settings: AttendanceSettings) -> Vocabulary:
        """The names ``settings`` define (shifts: those of every shift schedule)."""
        shifts = {
            name
            for schedule in settings.schedules.values()
            if isinstance(schedule, ShiftSchedule)
            for name in schedule.shifts
        }
        return cls.of(
            units=settings.units,
            schedules=settings.schedules,
            shifts=shifts,
            leave_kinds=settings.leave_kinds,
        )

    def known(self, what: NameKind) -> frozenset[str] | None:
        """The known names of kind ``what`` (None: any is accepted)."""
        match what:
            case "unit":
                return self.units
            case "schedule":
                return self.schedules
            case "shift":
                return self.shifts
            case "leave kind":
                return self.leave_kinds

    def check(self, what: NameKind, name: str) -> None:
        """Raise :class:`RegistryMismatch` (listing the known ones) unless ``name`` is known."""
        known = self.known(what)
        if what == "shift" and name == OFF_SHIFT:
            return
        if known is not None and name not in known:
            raise RegistryMismatch(what, name, list(known))
