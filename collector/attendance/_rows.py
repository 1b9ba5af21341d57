"""Between the state database's rows and the attendance values (:mod:`.model`)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from collector.attendance import model
from collector.state.schema import (
    attendance_day,
    card_assignment,
    employee,
    leave,
    roster,
    unknown_tap,
)

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import date

    from sqlalchemy import Select

EMPLOYEE_COLUMNS = (
    employee.c.key,
    employee.c.name,
    employee.c.unit,
    employee.c.schedule,
    employee.c.nip,
    employee.c.active_from,
    employee.c.active_to,
)
"""In the order of :class:`Employee`'s fields."""


def employees() -> Select[Any]:
    """Every employee, as :func:`to_employee` reads them, ordered by unit, name and key."""
    return select(*EMPLOYEE_COLUMNS).order_by(employee.c.unit, employee.c.name, employee.c.key)


def to_employee(row: Sequence[Any]) -> model.Employee:
    """An employee row (:data:`EMPLOYEE_COLUMNS`)."""
    return model.Employee(*row)


def employee_row(person: model.Employee) -> dict[str, object]:
    """The columns of ``person``."""
    return {column.name: getattr(person, column.name) for column in EMPLOYEE_COLUMNS}


def cards() -> Select[Any]:
    """Every card assignment with its holder's key, as :func:`to_card` reads them."""
    c = card_assignment.c
    return (
        select(c.uid, employee.c.key, c.valid_from, c.valid_to, c.bits)
        .join(employee)
        .order_by(c.uid, c.valid_from)
    )


def to_card(row: Sequence[Any]) -> model.CardAssignment:
    """A row of :func:`cards`."""
    return model.CardAssignment(*row)


def leaves() -> Select[Any]:
    """Every leave with its employee's key, as :func:`to_leave` reads them."""
    c = leave.c
    return (
        select(c.id, employee.c.key, c.kind, c.first, c.last, c.partial, c.until, c.note)
        .join(employee)
        .order_by(c.first, employee.c.key, c.id)
    )


def to_leave(row: Sequence[Any]) -> model.Leave:
    """A row of :func:`leaves`."""
    values = list(row)
    values[5] = None if values[5] is None else model.PartialLeave(values[5])
    return model.Leave(*values)


def rosters() -> Select[Any]:
    """Every roster entry with its employee's key."""
    return (
        select(employee.c.key, roster.c.day, roster.c.shift)
        .join(employee)
        .order_by(roster.c.day, employee.c.key)
    )


def to_roster(row: Sequence[Any]) -> model.RosterEntry:
    """A row of :func:`rosters`."""
    return model.RosterEntry(*row)


_RESULT_FIELDS = (
    "unit",
    "check_in",
    "check_out",
    "minutes_late",
    "minutes_early",
    "worked_minutes",
    "tl",
    "psw",
    "penalty_pct",
)


def results() -> Select[Any]:
    """Every stored day result with its employee's key."""
    c = attendance_day.c
    return (
        select(employee.c.key, c.day, c.status, c.notes, *(c[name] for name in _RESULT_FIELDS))
        .join(employee)
        .order_by(c.day, c.unit, employee.c.key)
    )


def to_result(row: Sequence[Any]) -> model.DayResult:
    """A row of :func:`results` (without taps: they stay in InfluxDB)."""
    key, day, status, notes, *rest = row
    fields = dict(zip(_RESULT_FIELDS, rest, strict=True))
    return model.DayResult(
        employee=key, day=day, status=model.Status(status), notes=tuple(json.loads(notes)), **fields
    )


def result_row(result: model.DayResult, employee_id: int) -> dict[str, object]:
    """The columns of ``result`` (notes as a JSON list: a note may hold any character)."""
    return {
        "employee_id": employee_id,
        "day": result.day,
        "status": result.status.value,
        "notes": json.dumps(list(result.notes), ensure_ascii=False),
        **{name: getattr(result, name) for name in _RESULT_FIELDS},
    }


_TAP_FIELDS = ("uid", "at", "site", "gateway", "reader", "bits", "clock_suspect")


def unknown_taps() -> Select[Any]:
    """Every stored tap no employee could be credited with."""
    c = unknown_tap.c
    columns = (c.day, c.candidates, c.note, *(c[name] for name in _TAP_FIELDS))
    return select(*columns).order_by(c.at, c.id)


def to_unknown_tap(row: Sequence[Any]) -> model.UnknownTap:
    """A row of :func:`unknown_taps`."""
    day, candidates, note, *rest = row
    return model.UnknownTap(model.Tap(*rest), day, tuple(json.loads(candidates)), note)


def unknown_tap_row(unknown: model.UnknownTap, day: date) -> dict[str, object]:
    """The columns of ``unknown`` on ``day`` (candidates as a JSON list of keys)."""
    return {
        "day": day,
        "candidates": json.dumps(list(unknown.candidates), ensure_ascii=False),
        "note": unknown.note,
        **{name: getattr(unknown.tap, name) for name in _TAP_FIELDS},
    }
