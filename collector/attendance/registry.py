"""The attendance registry: employees, their cards, leave and rosters, and the computed days.

A small class over the state database (:mod:`collector.state`) that answers in the values
of :mod:`collector.attendance.model`. Reads take one consistent snapshot each; changes go
through :meth:`Registry.changes` (one transaction, :class:`~.changes.RegistryChanges`), or
the shortcuts here for a single change.

Periods are WITA dates, both ends inclusive: ``employees(first, last)`` are those employed
on at least one day of it, ``cards(first, last)`` the assignments valid on at least one.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import delete, func, insert, or_, select

from collector.attendance import _rows
from collector.attendance.changes import RegistryChanges
from collector.attendance.errors import RegistryError, UnknownEmployee
from collector.attendance.rules import RegistryValues
from collector.state import schema

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
    from datetime import date

    from sqlalchemy import Select

    from collector.attendance import model
    from collector.attendance.vocabulary import Vocabulary
    from collector.state import StateDatabase

T = TypeVar("T")
_employee = schema.employee.c
_card = schema.card_assignment.c
_day = schema.attendance_day.c


@dataclass(frozen=True, slots=True)
class EmployeeRecord:
    """One employee with every card they ever held and all their leave (``employees show``)."""

    employee: model.Employee
    cards: tuple[model.CardAssignment, ...]
    leave: tuple[model.Leave, ...]


class Registry:
    """The registry in the state database (see the module docstring)."""

    def __init__(self, database: StateDatabase, vocabulary: Vocabulary | None = None) -> None:
        """Use ``database``; names are checked against ``vocabulary`` (None: not checked)."""
        self._db = database
        self._vocabulary = vocabulary

    def _read(self, query: Select[Any], convert: Callable[[Sequence[Any]], T]) -> list[T]:
        with self._db.read() as connection:
            return [convert(row) for row in connection.execute(query)]

    # -- employees -------------------------------------------------------------------------

    def employees(
        self, first: date | None = None, last: date | None = None, *, unit: str | None = None
    ) -> list[model.Employee]:
        """Every employee (of ``unit``), or those employed on a day of ``first``..``last``."""
        query = _rows.employees()
        if first is not None and last is not None:
            query = query.where(
                or_(_employee.active_from.is_(None), _employee.active_from <= last),
                or_(_employee.active_to.is_(None), _employee.active_to >= first),
            )
        if unit is not None:
            query = query.where(_employee.unit == unit)
        return self._read(query, _rows.to_employee)

    def employee(self, key: str) -> model.Employee:
        """The employee whose key (or else NIP) is ``key``.

        Raises:
            UnknownEmployee: there is none.
        """
        for column in (_employee.key, _employee.nip):
            found = self._read(_rows.employees().where(column == key), _rows.to_employee)
            if found:
                return found[0]
        raise UnknownEmployee(key)

    def find(self, text: str) -> list[model.Employee]:
        """Employees whose key, NIP or name contains ``text`` (any case), or who hold that card."""
        needle = text.strip().lower()
        columns = (_employee.key, _employee.nip, _employee.name)
        matches = or_(*(func.lower(c).contains(needle, autoescape=True) for c in columns))
        holders = select(_card.employee_id).where(_card.uid == needle.upper())
        query = _rows.employees().where(or_(matches, _employee.id.in_(holders)))
        return self._read(query, _rows.to_employee)

    def show(self, key: str) -> EmployeeRecord:
        """One employee with all their cards and leave, oldest first."""
        person = self.employee(key)
        cards = self._read(_rows.cards().where(_employee.key == person.key), _rows.to_card)
        leave = self._read(_rows.leaves().where(_employee.key == person.key), _rows.to_leave)
        cards.sort(key=lambda card: (card.valid_from, card.uid))
        return EmployeeRecord(person, tuple(cards), tuple(leave))

    # -- cards, leave, rosters -------------------------------------------------------------

    def cards(self, first: date, last: date) -> list[model.CardAssignment]:
        """Card assignments valid on at least one day of ``first``..``last``."""
        valid = (_card.valid_from <= last) & or_(_card.valid_to.is_(None), _card.valid_to >= first)
        return self._read(_rows.cards().where(valid), _rows.to_card)

    def leave(
        self, first: date, last: date, *, employee_key: str | None = None
    ) -> list[model.Leave]:
        """Leave covering at least one day of ``first``..``last`` (of one employee)."""
        c = schema.leave.c
        query = _rows.leaves().where(c.first <= last, c.last >= first)
        if employee_key is not None:
            query = query.where(_employee.key == self.employee(employee_key).key)
        return self._read(query, _rows.to_leave)

    def roster(self, first: date, last: date) -> list[model.RosterEntry]:
        """Roster entries (shifts by the day they start) from ``first`` to ``last``."""
        query = _rows.rosters().where(schema.roster.c.day.between(first, last))
        return self._read(query, _rows.to_roster)

    def values(self, first: date, last: date) -> RegistryValues:
        """Everything the rules need for ``first``..``last``, as plain values.

        Employees active on a day of it, cards valid on a day of it, leave covering a day
        of it, the roster of those days (widen the period by a day for night shifts that
        start the evening before).
        """
        return RegistryValues(
            tuple(self.employees(first, last)),
            tuple(self.cards(first, last)),
            tuple(self.leave(first, last)),
            tuple(self.roster(first, last)),
        )

    # -- changes ---------------------------------------------------------------------------

    @contextmanager
    def changes(self) -> Iterator[RegistryChanges]:
        """One transaction of changes: all kept when the block ends, none if it raises."""
        with self._db.write() as connection:
            yield RegistryChanges(connection, self._vocabulary)

    def add_leave(self, request: model.Leave) -> model.Leave:
        """Register leave; return it with the id it was given (``request.id`` is ignored)."""
        with self.changes() as changes:
            return changes.add_leave(request)

    def remove_leave(self, leave_id: int) -> model.Leave:
        """Delete leave by its id; return what it was."""
        with self.changes() as changes:
            return changes.remove_leave(leave_id)

    # -- computed days ---------------------------------------------------------------------

    def save_day_results(
        self,
        day: date,
        results: Iterable[model.DayResult],
        unknown_taps: Iterable[model.UnknownTap],
    ) -> None:
        """Replace everything stored for ``day`` with these results, in one transaction.

        Recomputing a day and saving it again gives the same rows (idempotent); a result
        or tap of another day, or two results for one employee, are refused.
        """
        results, unknown_taps = list(results), list(unknown_taps)
        strays = {r.day for r in results} | {u.day for u in unknown_taps}
        if strays - {day}:
            raise RegistryError(f"results for {day} include other days: {sorted(strays - {day})}")
        keys = [r.employee for r in results]
        if len(set(keys)) != len(keys):
            twice = sorted({k for k in keys if keys.count(k) > 1})
            raise RegistryError(f"two results on {day} for the same employee: {twice}")
        with self._db.write() as connection:
            query = select(_employee.key, _employee.id).where(_employee.key.in_(keys))
            ids: dict[str, int] = dict(connection.execute(query).all())
            missing = [k for k in keys if k not in ids]
            if missing:
                raise UnknownEmployee(missing[0])
            connection.execute(delete(schema.attendance_day).where(_day.day == day))
            connection.execute(delete(schema.unknown_tap).where(schema.unknown_tap.c.day == day))
            if results:
                rows = [_rows.result_row(r, ids[r.employee]) for r in results]
                connection.execute(insert(schema.attendance_day), rows)
            if unknown_taps:
                taps = [_rows.unknown_tap_row(u, day) for u in unknown_taps]
                connection.execute(insert(schema.unknown_tap), taps)

    def day_results(
        self,
        first: date,
        last: date,
        unit: str | None = None,
        *,
        statuses: Collection[model.Status] | None = None,
        employees: Collection[str] | None = None,
    ) -> list[model.DayResult]:
        """Stored results from ``first`` to ``last``, by day, unit and employee.

        Only those of ``unit``, with one of ``statuses``, of ``employees`` (keys), when given.
        Their ``taps`` are empty: taps stay in InfluxDB, where reports read them.
        """
        query = _rows.results().where(_day.day.between(first, last))
        if unit is not None:
            query = query.where(_day.unit == unit)
        if statuses is not None:
            query = query.where(_day.status.in_([status.value for status in statuses]))
        if employees is not None:
            query = query.where(_employee.key.in_(list(employees)))
        return self._read(query, _rows.to_result)

    def unknown_taps(self, first: date, last: date) -> list[model.UnknownTap]:
        """Stored taps of unknown cards from ``first`` to ``last``, oldest first."""
        query = _rows.unknown_taps().where(schema.unknown_tap.c.day.between(first, last))
        return self._read(query, _rows.to_unknown_tap)
