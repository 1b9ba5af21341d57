"""Reading one cell as a value an import needs, or saying what was expected instead.

Every reader takes a :class:`~.table.Cell` and returns the value, or raises
:class:`CellProblem` carrying what was expected; the import turns it into a report line
naming the file, row and column. Nothing here raises anything else, whatever the cell
holds (``tests/test_attendance_imports.py`` checks that with Hypothesis).

Dates: ``2026-12-03`` (ISO), ``03/12/2026`` or ``03-12-2026`` (day first, as written in
Indonesia), or a date cell. Times: ``08:30``, ``08.30`` (the Indonesian way) or a time
cell. A NIP must be text: Excel keeps only 15 significant digits of a number, so an
18-digit NIP stored as a number has already lost its last digits.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Final

from collector.attendance.model import NIP_DIGITS
from pelangi.card import CARD_FORMS, CardId, parse_card
from pelangi.errors import CardFormatError

if TYPE_CHECKING:
    from collector.attendance.imports.table import Cell, CellValue

DATE_FORMS: Final = "a date such as 2026-12-03 or 03/12/2026 (day first)"
TIME_FORMS: Final = "a time of day such as 08:30 or 08.30"
_DAY_FIRST: Final = re.compile(r"(\d{1,2})[/-](\d{1,2})[/-](\d{4})")
_ISO: Final = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_TIME: Final = re.compile(r"(\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?")
_OLDEST_BIRTH_YEAR: Final = 1940
_YOUNGEST_AGE: Final = 15


class CellProblem(ValueError):  # noqa: N818 - not an error of the program: a report line
    """A cell does not hold what its column needs.

    Attributes:
        expected: what would have been accepted, in words.
    """

    def __init__(self, expected: str) -> None:
        """Create the problem; the caller adds file, row, column and the cell's value."""
        self.expected = expected
        super().__init__(expected)


def shown(value: CellValue) -> str:
    """A cell's value as a report shows it after "got"."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return "nothing"
    if isinstance(value, str):
        return repr(value.strip()[:60])
    return str(value)


def text(cell: Cell, *, max_length: int | None = None) -> str | None:
    """The cell as trimmed text (None when empty); numbers as written without ``.0``."""
    value = cell.value
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    result = value.isoformat() if isinstance(value, date | time) else str(value).strip()
    if max_length is not None and len(result) > max_length:
        raise CellProblem(f"at most {max_length} characters")
    return result or None


def required_text(cell: Cell, what: str, *, max_length: int) -> str:
    """Non-empty text of at most ``max_length`` characters."""
    result = text(cell, max_length=max_length)
    if result is None:
        raise CellProblem(what)
    return result


def day(cell: Cell) -> date | None:
    """A date (None when empty)."""
    value = cell.value
    if isinstance(value, datetime):
        if value.time() != time(0):
            raise CellProblem(f"{DATE_FORMS}, without a time of day")
        return value.date()
    if isinstance(value, date):
        return value
    written = text(cell)
    if written is None:
        return None
    if isinstance(value, str):
        for pattern, order in ((_ISO, (0, 1, 2)), (_DAY_FIRST, (2, 1, 0))):
            if match := pattern.fullmatch(written):
                year, month, dom = (int(match.group(i + 1)) for i in order)
                try:
                    return date(year, month, dom)
                except ValueError:
                    raise CellProblem(f"{DATE_FORMS} that exists") from None
    raise CellProblem(DATE_FORMS)


def time_of_day(cell: Cell) -> time | None:
    """A time of day (None when empty)."""
    value = cell.value
    if isinstance(value, time):
        return value
    if isinstance(value, datetime) and value.date() == date(1899, 12, 30):
        return value.time()  # Excel's "time only": a day-zero datetime
    written = text(cell)
    if written is None:
        return None
    if isinstance(value, str) and (match := _TIME.fullmatch(written)):
        try:
            return time(int(match[1]), int(match[2]), int(match[3] or 0))
        except ValueError:
            raise CellProblem(f"{TIME_FORMS} that exists") from None
    raise CellProblem(TIME_FORMS)


def nip(cell: Cell, today: date) -> str | None:
    """An 18-digit NIP, its birth date and appointment month plausible (None when empty)."""
    value = cell.value
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise CellProblem(
            f"the NIP as text ({NIP_DIGITS} digits; format the column as Text: a number "
            "keeps only 15 digits)"
        )
    written = text(cell)
    if written is None:
        return None
    digits = re.sub(r"[\s.]", "", written)  # printed NIPs come spaced: 19850312 201001 1 001
    if not (digits.isascii() and digits.isdigit() and len(digits) == NIP_DIGITS):
        raise CellProblem(f"{NIP_DIGITS} digits (birth date, appointment month, sex, number)")
    check_nip(digits, today)
    return digits


def check_nip(digits: str, today: date) -> None:
    """Check the parts of a NIP: YYYYMMDD birth, YYYYMM appointment, sex 1/2, number."""
    try:
        born = date(int(digits[0:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        raise CellProblem("a NIP beginning with a birth date (YYYYMMDD)") from None
    if not _OLDEST_BIRTH_YEAR <= born.year <= today.year - _YOUNGEST_AGE:
        raise CellProblem(
            f"a NIP with a birth year from {_OLDEST_BIRTH_YEAR} to {today.year - _YOUNGEST_AGE}"
        )
    year, month = int(digits[8:12]), int(digits[12:14])
    if not (1 <= month <= 12 and born.year + _YOUNGEST_AGE <= year <= today.year + 1):
        raise CellProblem(
            "a NIP with its appointment month (digits 9-14, YYYYMM) after the 15th birthday "
            "and not in the future"
        )
    if digits[14] not in "12":
        raise CellProblem("a NIP with 1 or 2 (sex) as its 15th digit")
    if digits[15:] == "000":
        raise CellProblem("a NIP whose last three digits (the number) are not 000")


def cards(cell: Cell) -> list[CardId]:
    """The cards in a cell, ``;`` apart (none when empty), in any form of :func:`parse_card`.

    A number cell is the decimal printed on the card whose leading zeros a spreadsheet
    dropped (``1217496`` is ``0001217496``).
    """
    value = cell.value
    if isinstance(value, bool | date | time):  # datetime is a date
        raise CellProblem(CARD_FORMS)
    if isinstance(value, int | float):
        if not (math.isfinite(value) and float(value).is_integer() and 0 <= value <= 0xFFFFFFFF):
            raise CellProblem(f"{CARD_FORMS}; a number cell holds the printed decimal")
        return [parse_card(f"{int(value):010d}")]
    written = text(cell)
    if written is None:
        return []
    try:
        return [parse_card(part) for part in written.split(";") if part.strip()]
    except CardFormatError as exc:
        raise CellProblem(exc.expected) from None
