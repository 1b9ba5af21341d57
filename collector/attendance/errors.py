"""Errors the attendance package raises on purpose.

Tree (under :class:`collector.errors.CollectorError`)::

    AttendanceError            attendance cannot be computed as asked
    ├── HolidayFileError       the holiday file is unreadable or invalid (nothing loaded)
    └── RegistryMismatch       the registry names a unit, schedule, shift or leave kind
                               the settings do not define (refused, never guessed)
"""

from __future__ import annotations

from collector.errors import CollectorError


class AttendanceError(CollectorError):
    """Base class of the attendance package's own errors."""


class HolidayFileError(AttendanceError):
    """The holiday and cuti bersama file could not be read, or is invalid.

    Attributes:
        path: the file (or the source name given to the parser).
        problems: one line per problem, each naming the line, the bad value and what was
            expected (e.g. ``line 7: '2026-02-30' is not a date ...``).
    """

    def __init__(self, path: str, problems: list[str]) -> None:
        """Create the error for ``path`` with its list of problems."""
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: " + "; ".join(problems))


class RegistryMismatch(AttendanceError):  # noqa: N818 - reads as the condition it reports
    """A registry value names something the attendance settings do not define.

    Attributes:
        what: the kind of name (``unit``, ``schedule``, ``shift``, ``leave kind``).
        name: the unknown name as given.
        known: the names the settings define, sorted.
    """

    def __init__(self, what: str, name: str, known: list[str], *, context: str = "") -> None:
        """Create the error for the unknown ``name`` of kind ``what``."""
        self.what = what
        self.name = name
        self.known = sorted(known)
        where = f" ({context})" if context else ""
        super().__init__(
            f"unknown {what} {name!r}{where}; expected one of: {', '.join(self.known) or '(none)'}"
        )
