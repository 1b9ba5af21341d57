"""The values attendance is computed from and computed into. Pure, immutable.

Everything here is a frozen dataclass: the registry (:mod:`collector.attendance.registry`,
the state database) produces employees, cards, leave and roster entries; the tap reader
(:mod:`collector.attendance.taps`, InfluxDB) produces taps; the rules
(:mod:`collector.attendance.rules`) turn one employee's day into a :class:`DayResult`,
which the job writes back (InfluxDB for Grafana, the state database for reports).

Times: every instant is an aware :class:`~datetime.datetime`; dates and times of day are
WITA (:data:`WITA`, UTC+8, no daylight saving), the time the office lives by. A tap at
16:30 UTC is 00:30 the next day in WITA: dates are always taken in WITA, never in UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Final
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from datetime import date, datetime, time

WITA: Final = ZoneInfo("Asia/Makassar")
"""Waktu Indonesia Tengah: the office's dates and times of day."""

NIP_DIGITS: Final = 18
"""A NIP (Nomor Induk Pegawai, PNS and PPPK) is 18 digits: birth date, appointment
month, sex, serial number."""


class Status(StrEnum):
    """A day's status as Indonesian recaps show it."""

    HADIR = "H"
    """Present (with its TL/PSW bands)."""
    TANPA_KETERANGAN = "TK"
    """Absent without leave: no tap in the window, no leave."""
    IZIN = "I"
    SAKIT = "S"
    CUTI = "C"
    DINAS_LUAR = "DL"
    TUGAS_BELAJAR = "TB"
    LIBUR = "libur"
    """A day off (weekend, holiday, cuti bersama, no shift rostered): wins over leave."""


class PartialLeave(StrEnum):
    """A permission that covers part of a day."""

    LATE_ARRIVAL = "datang_terlambat"
    """Izin datang terlambat: arriving up to ``Leave.until`` is not late."""
    EARLY_LEAVE = "pulang_cepat"
    """Izin pulang cepat: leaving from ``Leave.until`` on is not early."""


@dataclass(frozen=True, slots=True)
class Employee:
    """A person whose taps count.

    Attributes:
        key: the registry's id: the NIP when there is one, else the office's own staff
            number (honorer and contract staff have no NIP).
        name: as it appears on reports.
        unit: the unit (OPD/bidang) code, one the attendance settings define.
        schedule: the schedule's name, None for the unit's default.
        nip: the 18-digit NIP, None for staff without one.
        active_from: first day counted (None: always), WITA date.
        active_to: last day counted, inclusive (None: still employed).
    """

    key: str
    name: str
    unit: str
    schedule: str | None = None
    nip: str | None = None
    active_from: date | None = None
    active_to: date | None = None

    def active_on(self, day: date) -> bool:
        """Whether ``day`` (WITA) is inside the employment."""
        return (self.active_from is None or self.active_from <= day) and (
            self.active_to is None or day <= self.active_to
        )


@dataclass(frozen=True, slots=True)
class CardAssignment:
    """A card held by an employee for a period: a card reassigned today keeps last month.

    Attributes:
        uid: the canonical card number (8 upper-case hex digits, :mod:`pelangi.card`).
        employee: the holder's :attr:`Employee.key`.
        valid_from: first WITA date the card is theirs, inclusive.
        valid_to: last WITA date, inclusive (None: still theirs).
        bits: how many low bits of ``uid`` are known (24 when registered from a Wiegand-26
            ``facility,card`` print): a 24-bit card matches taps on its low 24 bits.
    """

    uid: str
    employee: str
    valid_from: date
    valid_to: date | None = None
    bits: int = 32

    def valid_on(self, day: date) -> bool:
        """Whether the card belongs to :attr:`employee` on ``day`` (WITA)."""
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)


@dataclass(frozen=True, slots=True)
class Tap:
    """One stored card read (a ``card_read`` point).

    Attributes:
        uid: canonical card number as stored.
        at: when the card was read (the reading's ``ts``), aware.
        site: the site tag.
        gateway: the gateway tag.
        reader: the reader (``device`` tag).
        bits: how many low bits of ``uid`` the reader saw (24 for Wiegand-26).
        clock_suspect: the gateway's clock was far off when it stamped the read (the
            reading was ``clock_corrected``, or its ``ts`` was far from when the collector
            received it): listed in reports, not silently trusted.
    """

    uid: str
    at: datetime
    site: str
    gateway: str
    reader: str
    bits: int = 32
    clock_suspect: bool = False

    @property
    def local(self) -> datetime:
        """The tap's time in WITA."""
        return self.at.astimezone(WITA)


@dataclass(frozen=True, slots=True)
class Leave:
    """Leave or a permission, from the registry.

    Attributes:
        id: the registry's id for it (what ``attendance leave remove`` takes).
        employee: :attr:`Employee.key`.
        kind: a leave kind the settings define (e.g. ``izin``, ``sakit``, ``cuti_tahunan``,
            ``dinas_luar``, ``tugas_belajar``); the settings map it to a :class:`Status`.
        first: first WITA date covered, inclusive.
        last: last WITA date covered, inclusive.
        partial: for a permission covering part of a day, which part; None: whole days.
        until: with ``partial``, the time of day (WITA) the permission runs to (late
            arrival) or from (early leave).
        note: free text (a letter's number, a reason).
    """

    id: int
    employee: str
    kind: str
    first: date
    last: date
    partial: PartialLeave | None = None
    until: time | None = None
    note: str = ""

    def covers(self, day: date) -> bool:
        """Whether ``day`` is inside the leave."""
        return self.first <= day <= self.last


@dataclass(frozen=True, slots=True)
class RosterEntry:
    """A shift assigned to an employee on the date it starts (security guards, etc.)."""

    employee: str
    day: date
    shift: str
    """A shift name of the employee's shift schedule; ``off`` for a rostered day off."""


@dataclass(frozen=True, slots=True)
class DayResult:
    """One employee's working day as computed; what recaps, reports and Grafana show.

    Attributes:
        employee: :attr:`Employee.key`.
        day: the date it is reported on (WITA; for a shift, the date it starts).
        unit: the employee's unit that day.
        status: the day's status.
        check_in: the first counted tap (None: none).
        check_out: the last counted tap, when it is a check-out (None: none).
        minutes_late: whole minutes after the start (plus grace), 0 when on time.
        minutes_early: whole minutes before the end, 0 when on time.
        worked_minutes: whole minutes between check-in and check-out (0 without both).
        tl: late-arrival band TL1-TL4 (0: none).
        psw: early-leave band PSW1-PSW4 (0: none).
        penalty_pct: the day's penalty in percent under the rules in force that day
            (0 when none are configured).
        taps: every tap of the employee's cards assigned to this day, counted or not
            (duplicates and taps outside the window included), oldest first.
        notes: short reasons a reader of the report needs (e.g. "clock suspect: gw-2",
            "no check-out"), in Bahasa Indonesia.
    """

    employee: str
    day: date
    unit: str
    status: Status
    check_in: datetime | None = None
    check_out: datetime | None = None
    minutes_late: int = 0
    minutes_early: int = 0
    worked_minutes: int = 0
    tl: int = 0
    psw: int = 0
    penalty_pct: float = 0.0
    taps: tuple[Tap, ...] = ()
    notes: tuple[str, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class UnknownTap:
    """A tap no employee can be credited with: kept and listed, never dropped.

    Attributes:
        tap: the tap.
        day: its WITA date.
        candidates: the employees whose cards matched, when the card is known but the tap
            cannot be theirs: two or more (ambiguous, never guessed), or one not active on
            ``day``. Empty for a card nobody held that day.
        note: why, in Bahasa Indonesia (for the report HR registers cards from).
    """

    tap: Tap
    day: date
    candidates: tuple[str, ...] = ()
    note: str = ""
