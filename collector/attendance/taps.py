"""Reading stored card taps from InfluxDB, and writing each day's recap back (IO).

The job sees InfluxDB only through :class:`TapStore`: the taps in a UTC range, and the
``attendance_day`` points of a day replaced by the newly computed ones. The one
implementation, :class:`InfluxTapStore`, speaks InfluxQL over InfluxDB 1.x's ``/query``
and line protocol over ``/write`` (what the pilot's Debian InfluxDB 1.6 offers); tests
hand it a real server.

``attendance_day`` (one point per employee per day, for Grafana)

==============  =====  =======================================================
name            kind   value
==============  =====  =======================================================
unit            tag    the employee's unit code
status          tag    ``H``, ``TK``, ``I``, ``S``, ``C``, ``DL``, ``TB``, ``libur``
employee        field  a pseudonym: the first 12 hex digits of SHA-256(key)
minutes_late    field  int
minutes_early   field  int
worked_minutes  field  int
tl, psw         field  bands 0-4 (int)
check_in        field  minutes after the day's 00:00 WITA (int; absent: none)
check_out       field  same for the check-out
time                   the day's 00:00 WITA, plus the employee's rank in ns
==============  =====  =======================================================

No names and no NIPs (personal data, UU PDP 27/2022): those stay in the state database
and the reports. Tags hold only bounded sets (units, statuses), so points of one unit
and status differ by time alone: the day's employees, sorted by pseudonym, are 0, 1, 2
... nanoseconds after midnight. A recomputed day may rank them differently, so
:meth:`InfluxTapStore.replace_day` deletes the day's points before writing the new ones.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, time, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Final, Protocol

from collector.attendance.model import WITA, Tap
from collector.storage.lineprotocol import KEY_ESCAPES, FieldValue, Point
from collector.storage.points import CARD_READ

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from datetime import date

    from collector.attendance.model import DayResult
    from collector.storage.influx_v1 import InfluxV1Writer

ATTENDANCE_DAY: Final = "attendance_day"
PSEUDONYM_HEX: Final = 12
"""Hex digits of the employee pseudonym: 48 bits, no collision among a regency's staff."""
WRITE_LINES: Final = 5_000
EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
MINUTE: Final = timedelta(minutes=1)
PSEUDONYM_CACHE: Final = 65_536
"""Employees whose pseudonym is remembered: a regency's staff, many times over."""


class TapStore(Protocol):
    """Where taps come from and day recaps go to."""

    def taps(self, start: datetime, end: datetime) -> list[Tap]:
        """Every stored tap with ``start <= at < end``, in no particular order."""
        ...

    def replace_days(self, days: Sequence[date], results: Sequence[DayResult]) -> None:
        """Make ``results`` (all of ``days``) the only ``attendance_day`` points of ``days``."""
        ...


class InfluxTapStore:
    """:class:`TapStore` over InfluxDB 1.x (``card_read`` in, ``attendance_day`` out)."""

    def __init__(self, writer: InfluxV1Writer) -> None:
        """Use ``writer``'s connection and database."""
        self._writer = writer

    def taps(self, start: datetime, end: datetime) -> list[Tap]:
        """See :meth:`TapStore.taps`. Raises StorageError."""
        statement = taps_query(self._writer.measurement(CARD_READ), start, end)
        return [tap for row in self._writer.select(statement) if (tap := _tap(row)) is not None]

    def replace_day(self, day: date, results: Sequence[DayResult]) -> None:
        """Make ``results`` the only ``attendance_day`` points of ``day``. Raises StorageError."""
        self.replace_days([day], results)

    def replace_days(self, days: Sequence[date], results: Sequence[DayResult]) -> None:
        """See :meth:`TapStore.replace_days`: one DELETE per run of consecutive days.

        Raises:
            StorageError: InfluxDB failed (a later call replaces the days again).
        """
        measurement = self._writer.measurement(ATTENDANCE_DAY)
        for first, last in _runs(sorted(set(days))):
            start = datetime.combine(first, time(), WITA)
            end = datetime.combine(last + timedelta(days=1), time(), WITA)
            self._writer.select(
                f"DELETE FROM {measurement} "  # noqa: S608 - integers
                f"WHERE time >= {epoch_ns(start)} AND time < {epoch_ns(end)}"
            )
        by_day: dict[date, list[DayResult]] = {}
        for result in results:
            by_day.setdefault(result.day, []).append(result)
        lines = [line for day in sorted(by_day) for line in day_lines(by_day[day])]
        for first_line in range(0, len(lines), WRITE_LINES):
            self._writer.write(lines[first_line : first_line + WRITE_LINES])


def _runs(days: Sequence[date]) -> list[tuple[date, date]]:
    """Sorted distinct ``days`` as runs of consecutive dates, ``(first, last)`` each."""
    runs: list[tuple[date, date]] = []
    for day in days:
        if runs and day - runs[-1][1] == timedelta(days=1):
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def taps_query(measurement: str, start: datetime, end: datetime) -> str:
    """The InfluxQL that reads the taps of ``[start, end)`` from ``measurement`` (quoted)."""
    # S608: the measurement is quoted by the caller and the bounds are integers.
    return (
        'SELECT "uid", "bits", "clock_corrected" FROM '  # noqa: S608
        f"{measurement} "
        f"WHERE time >= {epoch_ns(start)} AND time < {epoch_ns(end)} "
        'GROUP BY "site", "gateway", "device"'
    )


def _tap(row: dict[str, object]) -> Tap | None:
    """A ``card_read`` row as a tap; None for a row without a card number (never stored)."""
    uid = row.get("uid")
    stamp = row.get("time")
    if not isinstance(uid, str) or not isinstance(stamp, int):
        return None
    bits = row.get("bits")
    return Tap(
        uid=uid,
        at=EPOCH + timedelta(microseconds=stamp // 1000),
        site=str(row.get("site", "")),
        gateway=str(row.get("gateway", "")),
        reader=str(row.get("device", "")),
        bits=bits if isinstance(bits, int) else 32,
        clock_suspect=row.get("clock_corrected") is True,
    )


@lru_cache(maxsize=PSEUDONYM_CACHE)
def pseudonym(employee: str) -> str:
    """The employee's stand-in on ``attendance_day`` points (no names in InfluxDB)."""
    return hashlib.sha256(employee.encode()).hexdigest()[:PSEUDONYM_HEX]


def day_points(results: Sequence[DayResult]) -> list[Point]:
    """The ``attendance_day`` points of one day's results (see the module docstring)."""
    return [_day_point(*ranked) for ranked in _ranked(results)]


def day_lines(results: Sequence[DayResult]) -> list[str]:
    """The line protocol of :func:`day_points`, byte for byte, written directly.

    A month for 3,000 staff is 93,000 points; building and checking a :class:`Point` for
    each took 1.4 s of a recomputation. Every part here is already known to be valid
    (unit codes match the settings' pattern, statuses are an enum, the rest integers and
    hex digits), and ``tests/test_attendance_taps.py`` checks these lines against
    :func:`~collector.storage.lineprotocol.to_line` of the points.
    """
    lines = []
    for r, rank, midnight, midnight_ns in _ranked(results):
        line = (
            f"{ATTENDANCE_DAY},status={r.status.value},unit={r.unit.translate(KEY_ESCAPES)} "
            f'employee="{pseudonym(r.employee)}",minutes_late={r.minutes_late}i,'
            f"minutes_early={r.minutes_early}i,worked_minutes={r.worked_minutes}i,"
            f"tl={r.tl}i,psw={r.psw}i"
        )
        if r.check_in is not None:
            line += f",check_in={(r.check_in - midnight) // MINUTE}i"
        if r.check_out is not None:
            line += f",check_out={(r.check_out - midnight) // MINUTE}i"
        lines.append(f"{line} {midnight_ns + rank}")
    return lines


def _ranked(results: Sequence[DayResult]) -> Iterator[tuple[DayResult, int, datetime, int]]:
    """Each result with its rank (by pseudonym) and its day's midnight (WITA; and in ns)."""
    midnights: dict[date, tuple[datetime, int]] = {}
    for rank, result in enumerate(sorted(results, key=lambda r: pseudonym(r.employee))):
        if result.day not in midnights:  # one day per call in practice: computed once
            midnight = datetime.combine(result.day, time(), WITA)
            midnights[result.day] = midnight, epoch_ns(midnight)
        yield (result, rank, *midnights[result.day])


def _day_point(result: DayResult, rank: int, midnight: datetime, midnight_ns: int) -> Point:
    fields: dict[str, FieldValue] = {
        "employee": pseudonym(result.employee),
        "minutes_late": result.minutes_late,
        "minutes_early": result.minutes_early,
        "worked_minutes": result.worked_minutes,
        "tl": result.tl,
        "psw": result.psw,
    }
    if result.check_in is not None:
        fields["check_in"] = (result.check_in - midnight) // MINUTE
    if result.check_out is not None:
        fields["check_out"] = (result.check_out - midnight) // MINUTE
    return Point(
        measurement=ATTENDANCE_DAY,
        tags={"unit": result.unit, "status": result.status.value},
        fields=fields,
        time_ns=midnight_ns + rank,
    )


def epoch_ns(at: datetime) -> int:
    """Nanoseconds since the epoch of an aware datetime, exactly (no float rounding)."""
    delta = at - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000
