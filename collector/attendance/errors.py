"""Errors the attendance package raises on purpose.

Tree (under :class:`collector.errors.CollectorError`)::

    AttendanceError            attendance cannot be computed as asked
    ├── HolidayFileError       the holiday file is unreadable or invalid (nothing loaded)
    ├── RegistryMismatch       the registry names a unit, schedule, shift or leave kind
    │                          the settings do not define (refused, never guessed)
    └── RegistryError          a change the registry refuses (its transaction changes nothing)
        ├── UnknownEmployee    no employee has that key or NIP
        ├── UnknownLeave       no leave has that id
        ├── CardConflict       a card would belong to two people (or twice to one) at once
        ├── DuplicateNip       another employee already has that NIP
        └── ImportNotClean     an import with problems was applied without confirmation

A change naming a unit, schedule, shift or leave kind the settings lack raises
:class:`RegistryMismatch` too, and rolls back like the others.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from collector.errors import CollectorError

if TYPE_CHECKING:
    from collector.attendance.model import CardAssignment


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


class RegistryError(AttendanceError):
    """The registry refused a change; the transaction it was part of changed nothing."""


class UnknownEmployee(RegistryError):  # noqa: N818 - reads as the condition it reports
    """No employee has this key or NIP."""

    def __init__(self, key: str) -> None:
        """Create the error for ``key``."""
        self.key = key
        super().__init__(f"no employee has the key or NIP {key!r} (see `employees find`)")


class UnknownLeave(RegistryError):  # noqa: N818 - reads as the condition it reports
    """No leave has this id."""

    def __init__(self, leave_id: int) -> None:
        """Create the error for ``leave_id``."""
        self.leave_id = leave_id
        super().__init__(f"no leave has the id {leave_id} (see `attendance leave list`)")


class CardConflict(RegistryError):  # noqa: N818 - reads as the condition it reports
    """A card assignment overlapping another one of the same card.

    Attributes:
        wanted: the assignment that was refused.
        held: the one it overlaps (the same holder or another).
    """

    def __init__(self, wanted: CardAssignment, held: CardAssignment) -> None:
        """Create the error for ``wanted``, which overlaps ``held``."""
        self.wanted = wanted
        self.held = held
        until = f"to {held.valid_to}" if held.valid_to is not None else "with no end"
        whose = "also" if held.employee == wanted.employee else f"{wanted.employee}'s"
        super().__init__(
            f"card {wanted.uid} belongs to {held.employee} from {held.valid_from} {until}: "
            f"it cannot be {whose} on overlapping days (end that assignment first: a card "
            "moves the day after)"
        )


class DuplicateNip(RegistryError):  # noqa: N818 - reads as the condition it reports
    """Another employee already has this NIP."""

    def __init__(self, nip: str, holder: str) -> None:
        """Create the error for ``nip``, which ``holder`` has."""
        self.nip = nip
        self.holder = holder
        super().__init__(f"NIP {nip} already belongs to employee {holder!r}")


class ImportNotClean(RegistryError):  # noqa: N818 - reads as the condition it reports
    """An import whose report lists problems was applied without being confirmed."""

    def __init__(self, source: str, problems: int) -> None:
        """Create the error for the import of ``source`` with ``problems`` problems."""
        self.source = source
        self.problems = problems
        super().__init__(
            f"{source}: {problems} problem(s) in the report; nothing was changed "
            "(fix the file, or confirm to apply the rows without problems)"
        )
