"""The golden month's people, cards, leave, roster and taps (:mod:`sandbox.attendance_scenario`).

Every tap is chosen, so each row of the report can be checked by hand against the rules
of issue 10. The facts the month is built on are written here as plain dates and times,
independently of the code under test:

- Ramadan 1447 H runs to 20 March (office hours 08:00-15:00, Friday 08:00-15:30); from
  25 March the ordinary hours apply (07:30-16:00, Friday 07:30-16:30).
- ``config/holidays-2026.example.yaml``: cuti bersama on 18, 20, 23 and 24 March, Nyepi on
  19 March, Idul Fitri on 21-22 March (a weekend). Office working days are therefore
  2-6, 9-13, 16-17, 25-27, 30-31 March (17 days).
- Guards (unit ``satpam``) are rostered ``pagi`` (07:00-19:00), ``pagi``, ``malam``
  (19:00-07:00, reported on the date it starts), ``malam``, ``off``, ``off`` in turn, from
  28 February, each guard one day further along; rostered guards work on holidays.

Office employees are numbered 1-10 (``diskominfo``) and 11-20 (``bappeda``). Regular days
follow a fixed formula (arrival up to 22 minutes early or 7 late, departure up to 4
minutes early or 35 late); the special days of :func:`_specials` replace them. Taps go
through four readers: two attendance entrances on two gateways, the guards' post, and
the server room's door reader, which is not for attendance.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Final

from collector.attendance.changes import NEW_LEAVE_ID
from collector.attendance.model import (
    WITA,
    CardAssignment,
    Employee,
    Leave,
    PartialLeave,
    RosterEntry,
    Tap,
)
from sandbox.attendance import card_uid, nip
from sandbox.attendance_rules import SITE

if TYPE_CHECKING:
    from collections.abc import Iterator

FIRST: Final = date(2026, 3, 1)
LAST: Final = date(2026, 3, 31)
RAMADAN_LAST: Final = date(2026, 3, 20)
DAYS_OFF: Final = frozenset(date(2026, 3, d) for d in (18, 19, 20, 23, 24))
"""Weekdays without office hours: cuti bersama and Nyepi (holidays-2026.example.yaml)."""
BACKLOG_DAY: Final = date(2026, 3, 12)
Reader = tuple[str, str]
"""(gateway, reader)."""
LOBBY: Final = ("gw-lobi", "rfid-lobby")
TIMUR: Final = ("gw-timur", "rfid-timur")
"""The east entrance; its gateway's taps of :data:`BACKLOG_DAY` arrive a day late."""
POS: Final = ("gw-pos", "rfid-pos")
SERVER_ROOM: Final = ("gw-server", "rfid-server")
"""The server room's door reader: not for attendance."""
UNKNOWN_CARD: Final = "0BADCAFE"
ROSTER_TURNS: Final = ("pagi", "pagi", "malam", "malam", "off", "off")
ROSTER_FROM: Final = date(2026, 2, 28)
ROSTER_TO: Final = date(2026, 4, 1)
UNITS: Final = {
    "bappeda": "Badan Perencanaan Pembangunan Daerah",
    "diskominfo": "Dinas Komunikasi dan Informatika",
    "satpam": "Satuan Pengamanan",
}
_NAMES: Final = (
    # diskominfo, numbers 1-10
    "Ahmad Fauzi",
    "Budi Santoso",
    "Citra Lestari",
    "Dewi Anggraini",
    "Eko Prasetyo",
    "Fitri Handayani",
    "Gita Permata",
    "Hendra Wijaya",
    "Indah Sari",
    "Joko Susilo",
    # bappeda, numbers 11-20
    "Kartika Dewi",
    "Lukman Hakim",
    "Maya Sari",
    "Nur Aini",
    "Oki Setiawan",
    "Putri Ayu",
    "Rina Marlina",
    "Rudi Hartono",
    "Sri Wahyuni",
    "Taufik Hidayat",
)
HONORER: Final = frozenset({9, 17})
"""Contract staff (no NIP, keyed ``honorer-NN``)."""
GUARDS: Final = 4


def key(number: int) -> str:
    """The registry key of office employee ``number`` (1-20): a NIP, or ``honorer-NN``."""
    return f"honorer-{number:02d}" if number in HONORER else nip(number)


def guard_key(guard: int) -> str:
    """The registry key of guard ``guard`` (1-4)."""
    return f"satpam-{guard}"


def employees() -> list[Employee]:
    """Office employees 1-20 (17 joins on the 25th, 18 leaves after the 17th), four guards."""
    people = []
    for number, name in enumerate(_NAMES, start=1):
        unit = "diskominfo" if number <= 10 else "bappeda"
        active_from = date(2026, 3, 25) if number == 17 else None  # joins on the 25th
        active_to = date(2026, 3, 17) if number == 18 else None  # moves away after the 17th
        nip_ = None if number in HONORER else key(number)
        people.append(Employee(key(number), name, unit, None, nip_, active_from, active_to))
    people += [
        Employee(guard_key(g), f"Satpam {name}", "satpam")
        for g, name in enumerate(("Agus", "Bambang", "Dedi", "Slamet"), start=1)
    ]
    return people


_ISSUED: Final = date(2025, 1, 1)
_MOVED: Final = date(2026, 3, 16)
"""Number 5's card goes to number 6 (who lost hers) from Monday the 16th; 5 gets a new one."""


def cards() -> list[CardAssignment]:
    """Everyone's cards; 5's card moves to 6 on the 16th, 17's is issued before joining."""
    cards = [
        CardAssignment(card_uid(n), key(n), _ISSUED) for n in range(1, 21) if n not in {5, 6, 17}
    ]
    day_before = _MOVED - timedelta(days=1)
    cards += [
        CardAssignment(card_uid(5), key(5), _ISSUED, day_before),
        CardAssignment(card_uid(6), key(6), _ISSUED, day_before),
        CardAssignment(card_uid(5), key(6), _MOVED),
        CardAssignment(card_uid(205), key(5), _MOVED),
        CardAssignment(card_uid(17), key(17), date(2026, 3, 20)),  # issued before joining
    ]
    cards += [CardAssignment(card_uid(100 + g), guard_key(g), _ISSUED) for g in range(1, 5)]
    return cards


def leave() -> list[Leave]:
    """Leave of every kind, partial-day permissions, leave over a weekend and a holiday."""

    def whole(number: int, kind: str, first: int, last: int | None = None, note: str = "") -> Leave:
        end = date(2026, 3, last or first)
        return Leave(NEW_LEAVE_ID, key(number), kind, date(2026, 3, first), end, note=note)

    def part(number: int, day: int, partial: PartialLeave, until: time) -> Leave:
        on = date(2026, 3, day)
        return Leave(NEW_LEAVE_ID, key(number), "izin", on, on, partial, until)

    return [
        whole(7, "cuti_tahunan", 5, 10),  # Thursday to Tuesday: the weekend is not counted
        whole(7, "sakit", 17, 19),  # into cuti bersama and Nyepi
        whole(8, "dinas_luar", 9, 11),  # taps on the 10th: shown, without bands
        whole(8, "izin", 25, note="Surat 12/2026"),
        part(9, 3, PartialLeave.LATE_ARRIVAL, time(10)),
        part(9, 4, PartialLeave.EARLY_LEAVE, time(13)),
        part(9, 5, PartialLeave.LATE_ARRIVAL, time(9)),
        whole(12, "tugas_belajar", 25, 31),
        whole(13, "izin", 2),
        whole(13, "sakit", 12, 13),
    ]


def roster() -> Iterator[RosterEntry]:
    """The guards' roster from 28 February to 1 April (see the module docstring)."""
    day = ROSTER_FROM
    while day <= ROSTER_TO:
        for guard in range(1, GUARDS + 1):
            turn = ((day - ROSTER_FROM).days + guard - 1) % len(ROSTER_TURNS)
            yield RosterEntry(guard_key(guard), day, ROSTER_TURNS[turn])
        day += timedelta(days=1)


def _tap(uid: str, day: date, clock: str, reader: Reader, *, suspect: bool = False) -> Tap:
    at = datetime.combine(day, time.fromisoformat(clock), WITA)
    return Tap(uid, at, SITE, reader[0], reader[1], clock_suspect=suspect)


def office_hours(day: date) -> tuple[time, time]:
    """The office start and end on ``day`` (the scenario's own table, not the settings)."""
    friday = day.weekday() == 4
    if day <= RAMADAN_LAST:
        return time(8), time(15, 30) if friday else time(15)
    return time(7, 30), time(16, 30) if friday else time(16)


def _regular(number: int, uid: str, day: date) -> list[Tap]:
    """Employee ``number``'s ordinary day: a tap in and a tap out, never twice the same."""
    start, end = (datetime.combine(day, t, WITA) for t in office_hours(day))
    second = number * 3 % 60  # distinct per employee: no two taps share a reader's instant
    arrive = start + timedelta(minutes=(number * 7 + day.day * 3) % 30 - 22, seconds=second)
    leave = end + timedelta(minutes=(number * 5 + day.day * 11) % 40 - 4, seconds=second)
    readers = (LOBBY, TIMUR)
    return [
        Tap(uid, moment, SITE, *readers[(number + day.day + shift) % 2])
        for moment, shift in ((arrive, 0), (leave, number // 3))
    ]


def _office_taps(people: list[Employee], held_cards: list[CardAssignment]) -> Iterator[Tap]:
    specials = _specials()
    away = leave()
    for number, employee in enumerate(people[:20], start=1):
        for offset in range((LAST - FIRST).days + 1):
            day = FIRST + timedelta(days=offset)
            if (number, day.day) in specials:
                yield from specials[number, day.day]
                continue
            working = day.weekday() < 5 and day not in DAYS_OFF and employee.active_on(day)
            held = [c.uid for c in held_cards if c.employee == employee.key and c.valid_on(day)]
            on_leave = any(lv.employee == employee.key and lv.covers(day) for lv in away)
            if working and held and not on_leave:
                yield from _regular(number, held[0], day)


def _specials() -> dict[tuple[int, int], list[Tap]]:
    """(employee number, day of March) -> that day's taps, replacing the regular ones."""

    def on(number: int, day: int, *taps: tuple[str, Reader], uid: str | None = None) -> None:
        when = date(2026, 3, day)
        card = uid or card_uid(number)
        days[number, day] = [_tap(card, when, clock, reader) for clock, reader in taps]

    days: dict[tuple[int, int], list[Tap]] = {}
    # 1: whole minutes rounded down, at both ends, in Ramadan and after; Fridays.
    on(1, 2, ("08:00:59", LOBBY), ("15:00:00", LOBBY))
    on(1, 3, ("08:01:00", LOBBY), ("14:59:01", LOBBY))
    on(1, 13, ("07:58:00", LOBBY), ("15:20:00", LOBBY))
    on(1, 25, ("07:31:00", LOBBY), ("15:59:00", LOBBY))
    on(1, 26, ("07:30:59", LOBBY), ("15:59:01", LOBBY))
    on(1, 27, ("07:25:00", LOBBY), ("16:15:00", LOBBY))
    # 2: every TL and PSW band, and the daily cap.
    on(2, 4, ("08:45:00", LOBBY), ("15:02:00", LOBBY))
    on(2, 5, ("09:15:00", LOBBY), ("15:03:00", LOBBY))
    on(2, 6, ("10:00:00", LOBBY), ("15:40:00", LOBBY))
    on(2, 9, ("07:50:00", LOBBY), ("14:15:00", LOBBY))
    on(2, 10, ("07:50:00", LOBBY), ("13:45:00", LOBBY))
    on(2, 11, ("07:50:00", LOBBY), ("12:30:00", LOBBY))
    on(2, 12, ("09:30:00", LOBBY), ("13:29:00", LOBBY))
    # 3: single taps either side of the midpoint (11:30 in Ramadan).
    on(3, 2, ("07:50:03", LOBBY))
    on(3, 3, ("15:05:00", LOBBY))
    on(3, 4, ("11:30:00", LOBBY))
    on(3, 5, ("11:29:59", LOBBY))
    # 4: duplicates within 60 s of the last kept tap, across readers too.
    on(4, 2, ("07:50:00", LOBBY), ("07:50:40", TIMUR), ("15:10:00", LOBBY), ("15:11:00", LOBBY))
    on(4, 3, ("07:55:00", LOBBY), ("07:55:30", LOBBY))
    on(4, 4, ("07:55:00", LOBBY), ("07:55:50", LOBBY), ("07:56:40", LOBBY))
    # 5 and 6: card 5 moves to 6 on the 16th, on either side of midnight WITA.
    on(5, 15, ("23:59:59", LOBBY))
    days[6, 16] = [_tap(card_uid(5), date(2026, 3, 16), "00:00:01", LOBBY)]
    days[6, 16] += _regular(6, card_uid(5), date(2026, 3, 16))
    days[6, 17] = [_tap(card_uid(6), date(2026, 3, 17), "07:45:00", LOBBY)]  # her old card
    days[6, 17] += _regular(6, card_uid(5), date(2026, 3, 17))
    # 8: taps on a day of dinas luar.
    on(8, 10, ("07:40:00", LOBBY), ("15:10:00", LOBBY))
    # 9: partial-day permissions (see leave()).
    on(9, 3, ("09:45:00", LOBBY), ("15:06:00", LOBBY))
    on(9, 4, ("07:54:00", LOBBY), ("13:10:00", LOBBY))
    on(9, 5, ("09:20:00", LOBBY), ("15:02:00", LOBBY))
    # 10: absent (TK) three days, one of them with taps on the server room's reader only.
    on(10, 2)
    on(10, 3)
    on(10, 4, ("08:00:00", SERVER_ROOM), ("15:00:00", SERVER_ROOM))
    on(10, 9, ("06:00:00", SERVER_ROOM), ("08:10:00", LOBBY), ("15:05:00", LOBBY))
    # 11: a tap stamped by a gateway whose clock was corrected.
    days[11, 11] = [
        _tap(card_uid(11), date(2026, 3, 11), "07:55:00", TIMUR, suspect=True),
        _tap(card_uid(11), date(2026, 3, 11), "15:05:00", LOBBY),
    ]
    # 14 and 15: the backlog day (TIMUR's taps of the 12th are stored a day late).
    on(14, 12, ("07:50:00", LOBBY), ("15:05:00", TIMUR))
    on(15, 12, ("07:45:00", TIMUR), ("15:10:00", TIMUR))
    # 17: taps before joining (the card is already issued); 19 and 20: taps on days off.
    days[17, 23] = [_tap(card_uid(17), date(2026, 3, 23), "09:00:00", LOBBY)]
    on(19, 7, ("09:00:00", LOBBY), ("12:00:00", LOBBY))
    on(20, 18, ("10:00:00", LOBBY))
    # 20: working late: 23:59:59 and 00:00:01 WITA, both 10 March in UTC.
    days[20, 10] = [*_regular(20, card_uid(20), date(2026, 3, 10))]
    days[20, 10].append(_tap(card_uid(20), date(2026, 3, 10), "23:59:59", LOBBY))
    days[20, 11] = [_tap(card_uid(20), date(2026, 3, 11), "00:00:01", LOBBY)]
    days[20, 11] += _regular(20, card_uid(20), date(2026, 3, 11))
    return days


def _guard_taps() -> Iterator[Tap]:
    """Each rostered shift's taps: in 10 minutes early, out 5 minutes late (plus the guard)."""
    specials: dict[tuple[int, date], list[tuple[date, str]]] = {
        (1, date(2026, 3, 2)): [(date(2026, 3, 2), "19:40:00"), (date(2026, 3, 3), "07:05:00")],
        (2, date(2026, 3, 7)): [
            (date(2026, 3, 7), "18:51:00"),
            (date(2026, 3, 7), "23:59:59"),  # the midnight round: inside the shift's window
            (date(2026, 3, 8), "00:00:01"),
            (date(2026, 3, 8), "07:06:00"),
        ],
        (4, date(2026, 3, 5)): [(date(2026, 3, 5), "18:53:00")],  # forgot to tap out
    }
    for entry in roster():
        guard = int(entry.employee.rsplit("-", 1)[1])
        if entry.shift == "off":
            continue
        uid = card_uid(100 + guard)
        if (guard, entry.day) in specials:
            taps = specials[guard, entry.day]
        elif entry.shift == "pagi":
            taps = [(entry.day, f"06:5{guard - 1}:00"), (entry.day, f"19:0{4 + guard}:00")]
        else:
            taps = [
                (entry.day, f"18:5{guard - 1}:00"),
                (entry.day + timedelta(days=1), f"07:0{4 + guard}:00"),
            ]
        yield from (_tap(uid, day, clock, POS) for day, clock in taps)


def _stray_taps() -> list[Tap]:
    """Taps of a card nobody holds (one on the server room's reader: not attendance)."""
    return [
        _tap(UNKNOWN_CARD, date(2026, 3, 2), "07:12:00", LOBBY),
        _tap(UNKNOWN_CARD, date(2026, 3, 3), "09:00:00", SERVER_ROOM),
        _tap(UNKNOWN_CARD, date(2026, 3, 10), "23:59:59", TIMUR),
        _tap(UNKNOWN_CARD, date(2026, 3, 11), "00:00:01", TIMUR),
    ]


def taps() -> list[Tap]:
    """Every tap of the month, in no particular order (also 28 February and 1 April's).

    Raises:
        ValueError: two taps share a reader and an instant, which InfluxDB would store as
            one point (a series holds one point per instant).
    """
    made = [*_office_taps(employees(), cards()), *_guard_taps(), *_stray_taps()]
    seen: set[tuple[str, str, datetime]] = set()
    for tap in made:
        series = (tap.gateway, tap.reader, tap.at)
        if series in seen:
            raise ValueError(f"two taps on {tap.reader} at {tap.at}: make one a second apart")
        seen.add(series)
    return made
