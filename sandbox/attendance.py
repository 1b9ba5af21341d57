"""A synthetic month of an office's attendance: staff, cards, leave, rosters and taps.

For the attendance tests, the demo and ``make bench``: deterministic for a seed, with
what a real month holds: most staff on time, some late or leaving early, a few absent,
single taps (a forgotten check-in or check-out), duplicate taps (a card held a moment
too long), security guards on day and night shifts (the night shift crosses midnight),
one card nobody holds, one card handed to another employee mid-month, leave of several
kinds, and taps stored as the agent would store them (``card_read`` line protocol).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Final

from collector.attendance.model import (
    WITA,
    CardAssignment,
    Employee,
    Leave,
    PartialLeave,
    RosterEntry,
    Tap,
)
from collector.attendance.taps import epoch_ns
from collector.encoding import LineEncoder
from pelangi.card import CardId
from pelangi.payloads import SCHEMA_VERSION, CardRead, Envelope

if TYPE_CHECKING:
    from collections.abc import Collection, Iterator

SITE: Final = "bukit-pelangi"
GATEWAY: Final = "gw-kantor"
READERS: Final = ("rfid-lobby", "rfid-timur")
"""Attendance readers at the two entrances."""
GUARD_READER: Final = "rfid-pos"
UNKNOWN_CARD: Final = "0BADCAFE"
UNITS: Final = {
    "diskominfo": "Dinas Komunikasi dan Informatika",
    "bkpsdm": "Badan Kepegawaian dan Pengembangan SDM",
    "bappeda": "Badan Perencanaan Pembangunan Daerah",
    "satpam": "Satuan Pengamanan",
}
OFFICE_UNITS: Final = ("diskominfo", "bkpsdm", "bappeda")
GUARDS: Final = 4
"""Security guards (unit ``satpam``, shift schedule ``satpam``), whatever the staff size."""


@dataclass
class Month:
    """What :func:`synthetic_month` made."""

    first: date
    last: date
    employees: list[Employee] = field(default_factory=list)
    cards: list[CardAssignment] = field(default_factory=list)
    leave: list[Leave] = field(default_factory=list)
    roster: list[RosterEntry] = field(default_factory=list)
    taps: list[Tap] = field(default_factory=list)

    def days(self) -> Iterator[date]:
        """Every day of the month."""
        day = self.first
        while day <= self.last:
            yield day
            day += timedelta(days=1)


def nip(number: int) -> str:
    """A well-formed 18-digit NIP: birth date, appointment month, sex, serial."""
    born = date(1970, 1, 1) + timedelta(days=number * 37 % 9000)
    appointed = f"{2000 + number % 24:04d}{number % 12 + 1:02d}"
    return f"{born:%Y%m%d}{appointed}{number % 2 + 1}{number % 999 + 1:03d}"  # 001-999


def card_uid(number: int) -> str:
    """The canonical uid of the ``number``-th card issued."""
    return f"{0x00A00000 + number:08X}"


def synthetic_month(
    year: int, month: int, staff: int, *, days_off: Collection[date] = (), seed: int = 1
) -> Month:
    """A month for ``staff`` office employees plus :data:`GUARDS` guards.

    ``days_off``: weekdays without office hours (holidays, cuti bersama): no office taps.
    """
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    first = date(year, month, 1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    result = Month(first, last)
    for number in range(staff):
        honorer = number % 5 == 4  # contract staff: no NIP
        key = f"honorer-{number}" if honorer else nip(number)
        unit = OFFICE_UNITS[number % len(OFFICE_UNITS)]
        result.employees.append(
            Employee(key, f"Pegawai {number:04d}", unit, nip=None if honorer else key)
        )
        result.cards.append(CardAssignment(card_uid(number), key, date(2025, 1, 1)))
    for guard in range(GUARDS):
        key = f"satpam-{guard}"
        result.employees.append(Employee(key, f"Satpam {guard}", "satpam", schedule="satpam"))
        result.cards.append(CardAssignment(card_uid(10_000 + guard), key, date(2025, 1, 1)))
    _reassign_one_card(result)
    _leave(result, rng)
    for day in result.days():
        if day.weekday() < 5 and day not in days_off:
            _office_day(result, day, rng)
        _guard_day(result, day)
    result.taps.append(_tap(UNKNOWN_CARD, first + timedelta(days=2), time(7, 12), READERS[0]))
    # A reader's taps carry sub-second stamps. Whole seconds would make one tap in five
    # (3,000 staff) share its second and reader with another, and InfluxDB keeps one
    # card_read point per series and instant: the later write would silently replace it.
    fractions = random.Random(seed + 1)  # noqa: S311 - test data; own stream: taps unchanged
    result.taps = [
        replace(tap, at=tap.at + timedelta(microseconds=fractions.randrange(1_000_000)))
        for tap in result.taps
    ]
    return result


def _reassign_one_card(month: Month) -> None:
    """The first employee's card goes to the second on the 15th (the second lost theirs).

    The first gets a new card that day.
    """
    if len(month.cards) < 2:
        return
    given, lost = month.cards[0], month.cards[1]
    moved = month.first.replace(day=15)
    month.cards[0] = CardAssignment(
        given.uid, given.employee, given.valid_from, moved - timedelta(days=1)
    )
    month.cards[1] = CardAssignment(
        lost.uid, lost.employee, lost.valid_from, moved - timedelta(days=1)
    )
    month.cards.append(CardAssignment(given.uid, lost.employee, moved))
    month.cards.append(CardAssignment(card_uid(20_000), given.employee, moved))


def _leave(month: Month, rng: random.Random) -> None:
    """Leave of each kind for a few employees, and two partial-day permissions."""
    kinds = ("sakit", "izin", "cuti_tahunan", "dinas_luar", "tugas_belajar")
    office = [e for e in month.employees if e.unit != "satpam"]
    for number, employee in enumerate(office[2 : 2 + len(kinds)]):
        start = month.first + timedelta(days=rng.randrange(3, 20))
        month.leave.append(
            Leave(
                number + 1, employee.key, kinds[number], start, start + timedelta(days=number % 3)
            )
        )
    for number, (partial, until) in enumerate(
        ((PartialLeave.LATE_ARRIVAL, time(10)), (PartialLeave.EARLY_LEAVE, time(14)))
    ):
        if len(office) > 8 + number:
            day = month.first + timedelta(days=7 + number)
            month.leave.append(
                Leave(100 + number, office[8 + number].key, "izin", day, day, partial, until)
            )


def _office_day(month: Month, day: date, rng: random.Random) -> None:
    cards = {c.employee: c.uid for c in month.cards if c.valid_on(day)}
    for employee in month.employees:
        if employee.unit == "satpam":
            continue
        roll = rng.random()
        if roll < 0.03:
            continue  # absent
        card = cards[employee.key]
        reader = READERS[rng.randrange(len(READERS))]
        arrive = _clock(rng.gauss(7 * 60 + 20, 12))
        leave = _clock(rng.gauss(16 * 60 + 15 + (30 if day.weekday() == 4 else 0), 15))
        if roll >= 0.05:  # 2 %: forgot to tap in
            month.taps.append(_tap(card, day, arrive, reader))
            if rng.random() < 0.05:  # held the card a moment too long
                month.taps.append(_tap(card, day, _later(arrive, 20), reader))
        if not 0.03 <= roll < 0.04:  # 1 %: forgot to tap out
            month.taps.append(_tap(card, day, leave, reader))


def _guard_day(month: Month, day: date) -> None:
    """Guards alternate day (07:00-19:00) and night (19:00-07:00) shifts, two days off in six."""
    for guard in range(GUARDS):
        key = f"satpam-{guard}"
        turn = ((day - month.first).days + guard) % 6
        shift = ("pagi", "pagi", "malam", "malam", "off", "off")[turn]
        month.roster.append(RosterEntry(key, day, shift))
        if shift == "off":
            continue
        card = card_uid(10_000 + guard)
        start, end = (time(6, 52), time(19, 4)) if shift == "pagi" else (time(18, 55), time(7, 3))
        month.taps.append(_tap(card, day, start, GUARD_READER))
        next_day = day + timedelta(days=1) if shift == "malam" else day
        month.taps.append(_tap(card, next_day, end, GUARD_READER))


def _clock(minutes: float) -> time:
    """``minutes`` after midnight as a time of day, kept inside the office tap window."""
    seconds = max(5 * 3600 + 1800, min(19 * 3600 + 59 * 60, int(minutes * 60)))
    return time(seconds // 3600, seconds // 60 % 60, seconds % 60)


def _later(at: time, seconds: int) -> time:
    moved = datetime.combine(date(2000, 1, 1), at) + timedelta(seconds=seconds)
    return moved.time()


def _tap(uid: str, day: date, at: time, reader: str) -> Tap:
    return Tap(uid, datetime.combine(day, at, WITA), SITE, GATEWAY, reader)


def card_read_lines(taps: Collection[Tap]) -> list[str]:
    """The ``card_read`` line protocol the collector would have stored for ``taps``."""
    encoder = LineEncoder()
    lines: list[str] = []
    for seq, tap in enumerate(sorted(taps, key=lambda t: t.at), start=1):
        read = CardRead(
            seq=seq,
            ts=epoch_ns(tap.at),
            card=CardId(raw=tap.uid, uid=tap.uid, bits=24 if tap.bits == 24 else 32),
            clock_corrected=tap.clock_suspect,
        )
        envelope = Envelope(
            v=SCHEMA_VERSION,
            site=tap.site,
            gateway=tap.gateway,
            device=tap.reader,
            readings=(read,),
        )
        encoded, _ = encoder.encode(envelope)
        lines.extend(encoded)
    return lines
