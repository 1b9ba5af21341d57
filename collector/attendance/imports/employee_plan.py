"""Planning an employee import against the registry: the report first, the changes after.

:func:`plan_employees` reads nothing but the table and the registry and changes nothing.
Beyond each row's own problems (:mod:`.employees`) it finds the employee twice in the
file, a NIP another employee has, one card claimed by two rows, and what the cards would
do to the registry: a card another employee holds moves to this one the day the row
says (theirs ends the day before: to confirm), unless theirs only begins on or after that
day (a problem: that would rewrite history); a card this employee holds that the row no
longer lists ends the day before (to confirm).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from functools import partial
from typing import TYPE_CHECKING

from collector.attendance.changes import RegistryChanges, same_card
from collector.attendance.imports.employees import EmployeeRow, read_employee
from collector.attendance.imports.report import (
    ImportPlan,
    ImportReport,
    Kind,
    Line,
    Operation,
    in_file_order,
    problem,
)
from collector.attendance.imports.table import ImportFileError
from collector.attendance.model import CardAssignment

if TYPE_CHECKING:
    from collector.attendance.imports.table import Table
    from collector.attendance.registry import Registry
    from collector.attendance.vocabulary import Vocabulary

_DAY = timedelta(days=1)
_OPTIONAL = (
    ("nip", "nip"),
    ("schedule", "jadwal"),
    ("active_from", "aktif_mulai"),
    ("active_to", "aktif_sampai"),
)
"""Employee fields and their columns, which a file may leave out."""


class _Planner:
    """Turns good rows into report lines and operations, against a registry snapshot."""

    def __init__(self, table: Table, registry: Registry) -> None:
        self.table = table
        self.known = {person.key: person for person in registry.employees()}
        self.nips = {p.nip: p.key for p in self.known.values() if p.nip is not None}
        self.cards: dict[str, list[CardAssignment]] = {}  # by the low 24 bits
        for held in registry.cards(date.min, date.max):
            self.cards.setdefault(held.uid[2:], []).append(held)
        self.lines: list[Line] = []
        self.puts: list[Operation] = []
        self.ends: dict[CardAssignment, tuple[int, date]] = {}
        self.assigns: list[Operation] = []

    def add(self, kind: Kind, row: int, text: str) -> None:
        self.lines.append(Line(kind, self.table.source, row, text))

    def refuse(self, row: int, column: str, expected: str, got: str) -> None:
        self.lines.append(problem(self.table.source, row, self.table.header(column), expected, got))

    def who(self, key: str) -> str:
        person = self.known.get(key)
        return f"{key} ({person.name})" if person is not None else key

    def employee(self, entry: EmployeeRow) -> bool:
        """Plan the employee's own fields; False (and a problem) if the row cannot be."""
        person = entry.employee
        holder = self.nips.get(person.nip) if person.nip is not None else None
        if holder is not None and holder not in {person.key, entry.was}:
            got = f"{person.nip} (employee {self.who(holder)} has it)"
            self.refuse(entry.row, "nip", "a NIP no other employee has", got)
            return False
        was = entry.was if entry.was in self.known and entry.was != person.key else None
        before = self.known.get(was or person.key)
        if before is not None:  # a column the file does not have leaves its field alone
            kept = {f: getattr(before, f) for f, c in _OPTIONAL if c not in self.table.headers}
            person = replace(person, **kept)
        if was is not None:
            self.add(Kind.CHANGE, entry.row, f"employee {was} is now {person.key} (by NIP)")
        if before is None:
            self.add(
                Kind.CHANGE, entry.row, f"new employee {person.key} ({person.name}, {person.unit})"
            )
        else:
            changed = [
                f"{name} {getattr(before, name)!r} -> {getattr(person, name)!r}"
                for name in ("name", "unit", "schedule", "nip", "active_from", "active_to")
                if getattr(before, name) != getattr(person, name) and (name != "nip" or not was)
            ]
            if changed:
                self.add(Kind.CHANGE, entry.row, f"employee {person.key}: {', '.join(changed)}")
        if before != person or was is not None:
            put = partial(RegistryChanges.put_employee, person=person, was=was)
            self.puts.append(Operation(entry.row, put))
        return True

    def live(self, card: CardAssignment) -> list[CardAssignment]:
        """Stored assignments of the same card still valid on or after ``card.valid_from``."""
        return [
            held
            for held in self.cards.get(card.uid[2:], [])
            if same_card(held, card) and (held.valid_to is None or held.valid_to >= card.valid_from)
        ]

    def cards_of(self, entry: EmployeeRow) -> None:
        """Plan the row's cards (see the module docstring); None: the cards stay."""
        if entry.cards is None:
            return
        mine = {entry.employee.key, entry.was}
        for card in entry.cards:
            wanted = CardAssignment(card.uid, entry.employee.key, entry.cards_from, None, card.bits)
            live = self.live(wanted)
            if not any(held.employee in mine for held in live):
                self.give(entry, wanted, live)
        listed = {card.uid for card in entry.cards}
        for held in (h for group in self.cards.values() for h in group):
            still = held.valid_to is None or held.valid_to >= entry.cards_from
            if held.employee in mine and held.uid not in listed and still:
                self.take_back(entry, held)

    def give(self, entry: EmployeeRow, wanted: CardAssignment, live: list[CardAssignment]) -> None:
        start, key = wanted.valid_from, wanted.employee
        later = [held for held in live if held.valid_from >= start]
        if later:
            got = f"{wanted.uid} (held by {self.who(later[0].employee)} from {later[0].valid_from})"
            self.refuse(entry.row, "kartu", f"a card no one else holds from {start}", got)
            return
        for held in live:
            self.end(entry.row, held, start - _DAY)
            self.add(
                Kind.CONFIRM,
                entry.row,
                f"card {wanted.uid} moves from {self.who(held.employee)} to {key} "
                f"({entry.employee.name}) on {start}; {held.employee}'s ends {start - _DAY}",
            )
        if not live:
            self.add(Kind.CHANGE, entry.row, f"card {wanted.uid} given to {key} from {start}")
        self.assigns.append(Operation(entry.row, partial(RegistryChanges.assign_card, card=wanted)))

    def take_back(self, entry: EmployeeRow, held: CardAssignment) -> None:
        start = entry.cards_from
        if start <= held.valid_from:
            expected = f"every card held from {start} (card {held.uid} begins {held.valid_from})"
            self.refuse(entry.row, "kartu", expected, ", ".join(c.uid for c in entry.cards or ()))
            return
        self.end(entry.row, held, start - _DAY)
        self.add(
            Kind.CONFIRM,
            entry.row,
            f"card {held.uid} of {entry.employee.key} ends {start - _DAY} (no longer listed)",
        )

    def end(self, row: int, held: CardAssignment, last_day: date) -> None:
        # Two rows may end one card (its holder's row, the new holder's): the earlier day.
        earlier = self.ends.get(held)
        if earlier is None or last_day < earlier[1]:
            self.ends[held] = (row, last_day)

    def operations(self) -> tuple[Operation, ...]:
        """Employees first, then the cards that end, then those given (no overlap ever)."""
        ends = [
            Operation(row, partial(RegistryChanges.end_card, card=held, last_day=last_day))
            for held, (row, last_day) in self.ends.items()
        ]
        return (*self.puts, *ends, *self.assigns)


def plan_employees(
    table: Table,
    registry: Registry,
    names: Vocabulary,
    *,
    today: date,
    effective: date | None = None,
) -> ImportPlan:
    """What importing ``table`` would do (see the module docstring); changes nothing.

    Args:
        table: the file, read with :data:`~.employees.COLUMNS`.
        registry: the registry as it is now.
        names: the units and schedules the settings define.
        today: for checking NIPs (an appointment month in the future is implausible).
        effective: the day cards begin when the row gives no ``kartu_mulai`` (default:
            ``today``); a card moving to someone leaves its holder the day before.
    """
    if "nip" not in table.headers and "kode" not in table.headers:
        raise ImportFileError(table.source, "expected a column nip or kode (or both)")
    planner = _Planner(table, registry)
    entries: list[EmployeeRow] = []
    for row in table.rows:
        read = read_employee(table.source, row, names, today=today, effective=effective or today)
        if isinstance(read, list):
            planner.lines.extend(read)
        else:
            entries.append(read)
    bad = _twice_in_the_file(table, entries, planner.lines) | _cards_claimed_twice(
        table, entries, planner.lines
    )
    for entry in entries:
        if entry.row not in bad and planner.employee(entry):
            planner.cards_of(entry)
    # A row with a problem is not imported: what it would have changed is not listed.
    bad = {line.row for line in planner.lines if line.kind is Kind.PROBLEM}
    lines = [line for line in planner.lines if line.kind is Kind.PROBLEM or line.row not in bad]
    busy = {line.row for line in lines}
    unchanged = sum(1 for entry in entries if entry.row not in busy)
    report = ImportReport(
        table.source, len(table.rows), in_file_order(lines), table.unused, unchanged
    )
    return ImportPlan(report, planner.operations())


def _twice_in_the_file(table: Table, entries: list[EmployeeRow], lines: list[Line]) -> set[int]:
    rows_of: dict[str, list[int]] = {}
    for entry in entries:
        rows_of.setdefault(entry.employee.key, []).append(entry.row)
    bad: set[int] = set()
    for entry in entries:
        rows = rows_of[entry.employee.key]
        if len(rows) > 1:
            others = ", ".join(str(r) for r in rows if r != entry.row)
            column = table.header("nip" if entry.employee.nip else "kode")
            lines.append(
                problem(
                    table.source,
                    entry.row,
                    column,
                    "each employee once in the file",
                    f"{entry.employee.key} again (also on row {others})",
                )
            )
            bad.add(entry.row)
    return bad


def _cards_claimed_twice(table: Table, entries: list[EmployeeRow], lines: list[Line]) -> set[int]:
    claims: dict[str, list[tuple[EmployeeRow, CardAssignment]]] = {}
    for entry in entries:
        for card in entry.cards or ():
            claim = CardAssignment(card.uid, entry.employee.key, entry.cards_from, None, card.bits)
            claims.setdefault(card.uid[2:], []).append((entry, claim))
    bad: set[int] = set()
    for group in claims.values():
        for entry, claim in group:
            rivals = [
                other
                for other, theirs in group
                if other.employee.key != entry.employee.key and same_card(claim, theirs)
            ]
            if rivals:
                elsewhere = ", ".join(f"row {o.row} ({o.employee.key})" for o in rivals)
                lines.append(
                    problem(
                        table.source,
                        entry.row,
                        table.header("kartu"),
                        "a card no one else in the file holds",
                        f"{claim.uid} (also on {elsewhere})",
                    )
                )
                bad.add(entry.row)
    return bad
