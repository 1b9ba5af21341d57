"""Changes to the registry inside one transaction: what imports apply and commands make.

:class:`RegistryChanges` works on a connection whose transaction the caller owns
(:meth:`collector.attendance.registry.Registry.changes`): every check happens against
the database as this transaction sees it, and any refusal (a :class:`RegistryError`)
leaves the whole transaction to be rolled back, so nothing is ever half-changed.

History is never rewritten: a card is moved by ending its assignment the day before the
new holder's begins, and the registry refuses any assignment overlapping another of the
same card (for a card known by 24 bits only, of any card with the same low 24 bits).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final

from sqlalchemy import delete, func, insert, select, update

from collector.attendance import _rows
from collector.attendance.errors import (
    CardConflict,
    DuplicateNip,
    RegistryError,
    UnknownEmployee,
    UnknownLeave,
)
from collector.attendance.vocabulary import Vocabulary
from collector.state.schema import card_assignment, employee, leave, roster

if TYPE_CHECKING:
    from datetime import date

    from sqlalchemy.engine import Connection

    from collector.attendance.model import CardAssignment, Employee, Leave, RosterEntry


NEW_LEAVE_ID: Final = 0
"""The id of leave not registered yet: :meth:`RegistryChanges.add_leave` assigns the real one."""


def _overlap(a_from: date, a_to: date | None, b_from: date, b_to: date | None) -> bool:
    return (b_to is None or a_from <= b_to) and (a_to is None or b_from <= a_to)


def same_card(a: CardAssignment, b: CardAssignment) -> bool:
    """Whether a tap could match both: the same uid, or the same low 24 bits if either has 24."""
    if a.bits == 32 and b.bits == 32:
        return a.uid == b.uid
    return a.uid[2:] == b.uid[2:]


class RegistryChanges:
    """Registry writes on one connection, in the caller's transaction (module docstring)."""

    def __init__(
        self,
        connection: Connection,
        vocabulary: Vocabulary | None = None,
        now: datetime | None = None,
    ) -> None:
        """Change the registry through ``connection``, checking names against ``vocabulary``."""
        self._db = connection
        self._names = vocabulary or Vocabulary()
        self._now = now or datetime.now(UTC)

    def employee_id(self, key: str) -> int:
        """The row id of the employee with ``key`` (or, failing that, with that NIP)."""
        for column in (employee.c.key, employee.c.nip):
            found = self._db.execute(select(employee.c.id).where(column == key)).scalar()
            if found is not None:
                return int(found)
        raise UnknownEmployee(key)

    def put_employee(self, person: Employee, *, was: str | None = None) -> None:
        """Add ``person``, or update the employee with the same key (or with key ``was``).

        ``was``: the employee's key until now, when it changes (an honorer appointed PPPK
        is keyed by their new NIP); their cards, leave and history stay theirs.
        """
        self._names.check("unit", person.unit)
        if person.schedule is not None:
            self._names.check("schedule", person.schedule)
        if person.nip is not None:
            holder = self._db.execute(
                select(employee.c.key).where(employee.c.nip == person.nip)
            ).scalar()
            if holder is not None and holder not in {person.key, was}:
                raise DuplicateNip(person.nip, holder)
        row = _rows.employee_row(person)
        changed = self._db.execute(
            update(employee).where(employee.c.key == (was or person.key)).values(row)
        ).rowcount
        if not changed:
            self._db.execute(insert(employee).values(row))

    def assign_card(self, card: CardAssignment) -> None:
        """Give ``card.uid`` to ``card.employee`` for its period.

        Raises:
            CardConflict: the same card (see :func:`same_card`) is assigned to anyone,
                this employee included, on an overlapping day.
        """
        owner = self.employee_id(card.employee)
        rows = self._db.execute(
            _rows.cards().where(func.substr(card_assignment.c.uid, 3, 6) == card.uid[2:])
        )
        for held in map(_rows.to_card, rows):
            if same_card(held, card) and _overlap(
                held.valid_from, held.valid_to, card.valid_from, card.valid_to
            ):
                raise CardConflict(card, held)
        self._db.execute(
            insert(card_assignment).values(
                uid=card.uid,
                bits=card.bits,
                employee_id=owner,
                valid_from=card.valid_from,
                valid_to=card.valid_to,
            )
        )

    def end_card(self, card: CardAssignment, last_day: date) -> CardAssignment:
        """End ``card`` (an assignment as stored) on ``last_day``; return it as it is now.

        Raises:
            RegistryError: ``last_day`` is before the assignment began (that would rewrite
                history), or after a day it already ended.
        """
        if last_day < card.valid_from or (card.valid_to is not None and last_day > card.valid_to):
            raise RegistryError(
                f"card {card.uid} of {card.employee} is held from {card.valid_from} to "
                f"{card.valid_to or 'no end'}: it cannot end on {last_day}"
            )
        c = card_assignment.c
        self._db.execute(
            update(card_assignment)
            .where(
                c.uid == card.uid,
                c.employee_id == self.employee_id(card.employee),
                c.valid_from == card.valid_from,
            )
            .values(valid_to=last_day)
        )
        return replace(card, valid_to=last_day)

    def add_leave(self, request: Leave) -> Leave:
        """Register leave; return it with the id it was given (``request.id`` is ignored)."""
        self._names.check("leave kind", request.kind)
        if request.last < request.first:
            raise RegistryError(
                f"leave from {request.first} cannot end before it, on {request.last}"
            )
        if (request.partial is None) != (request.until is None):
            raise RegistryError("a permission for part of a day needs both its kind and time")
        values = {
            "employee_id": self.employee_id(request.employee),
            "kind": request.kind,
            "first": request.first,
            "last": request.last,
            "partial": None if request.partial is None else request.partial.value,
            "until": request.until,
            "note": request.note,
            "created_at": self._now,
        }
        new_id = self._db.execute(insert(leave).values(values).returning(leave.c.id)).scalar_one()
        return self.leave(int(new_id))

    def leave(self, leave_id: int) -> Leave:
        """The leave with ``leave_id``."""
        row = self._db.execute(_rows.leaves().where(leave.c.id == leave_id)).first()
        if row is None:
            raise UnknownLeave(leave_id)
        return _rows.to_leave(row)

    def remove_leave(self, leave_id: int) -> Leave:
        """Delete the leave with ``leave_id``; return what it was."""
        removed = self.leave(leave_id)
        self._db.execute(delete(leave).where(leave.c.id == leave_id))
        return removed

    def put_roster(self, entry: RosterEntry) -> None:
        """Assign ``entry.shift`` to the employee on ``entry.day``, replacing any other."""
        self._names.check("shift", entry.shift)
        owner = self.employee_id(entry.employee)
        where = (roster.c.employee_id == owner, roster.c.day == entry.day)
        self._db.execute(delete(roster).where(*where))
        self._db.execute(insert(roster).values(employee_id=owner, day=entry.day, shift=entry.shift))
