"""``pelangi-collector employees import|list|find|show``: the employee registry.

``import`` takes HR's employee sheet (README, "Import files") through the shared
report-then-apply flow (:mod:`.importing`); ``list``, ``find`` and ``show`` only read.
"""

from __future__ import annotations

from datetime import date  # noqa: TC003 - typer reads the annotations at run time
from typing import TYPE_CHECKING, Annotated

import typer

from collector.attendance.cli.arguments import day_option, today
from collector.attendance.cli.context import opened
from collector.attendance.cli.importing import ApplyOption, ImportFile, import_file
from collector.attendance.cli.tables import (
    LEAVE_HEADER,
    WHO_HEADER,
    cell,
    echo_table,
    leave_cells,
    period,
    section,
    who,
)
from collector.attendance.imports import plan_employee_file
from collector.cli_common import DEFAULT_CONFIG, ConfigOption
from pelangi.card import parse_card
from pelangi.errors import CardFormatError

if TYPE_CHECKING:
    from collections.abc import Iterable

    from collector.attendance.cli.context import Opened
    from collector.attendance.model import CardAssignment, Employee
    from collector.attendance.registry import EmployeeRecord, Registry

employees = typer.Typer(
    help="The employees, their units and their cards (the attendance registry).",
    no_args_is_help=True,
)

_EMPLOYEE_HEADER = (*WHO_HEADER, "schedule", "employed", "cards")
_UnitOption = Annotated[
    str | None, typer.Option("--unit", "-u", help="Only this unit (a code of the settings).")
]


@employees.command("import")
def import_(
    file: ImportFile,
    config: ConfigOption = DEFAULT_CONFIG,
    apply: ApplyOption = False,  # noqa: FBT002 - a typer flag
    effective: Annotated[
        date | None,
        day_option(
            "--effective",
            "The day cards begin where a row has no kartu_mulai (default: today, WITA); "
            "a card moving to someone leaves its holder the day before.",
        ),
    ] = None,
) -> None:
    """Import employees and their cards from HR's sheet: the report first, then apply.

    A clean report is applied at once; one with problems or changes to confirm changes
    nothing unless --apply is given (rows with problems are never applied).
    Exit status: 0 applied or nothing to change; 3 report not clean, nothing applied;
    1 the registry refused (nothing applied) or the database failed; 2 a bad argument.

    Example: pelangi-collector employees import pegawai.xlsx -c /etc/pelangi/collector.yaml
    """
    import_file(
        config,
        lambda registry, names: plan_employee_file(
            file, registry, names, today=today(), effective=effective
        ),
        apply=apply,
    )


@employees.command("list")
def list_(
    config: ConfigOption = DEFAULT_CONFIG,
    unit: _UnitOption = None,
    day: Annotated[
        date | None,
        day_option("--date", "Employed on this day, with the cards valid then (default: today)."),
    ] = None,
    inactive: Annotated[  # noqa: FBT002 - a typer flag
        bool, typer.Option("--inactive", help="Also those not employed on that day.")
    ] = False,
) -> None:
    """List employees (of a unit) employed on a day, by unit and name, with their cards.

    Example: pelangi-collector employees list --unit diskominfo --date 2026-12-03
    """
    on = day or today()
    with opened(config) as ctx:
        if unit is not None:
            ctx.settings.unit(unit)  # an unknown unit is refused, listing the known ones
        people = (
            ctx.registry.employees(unit=unit)
            if inactive
            else ctx.registry.employees(on, on, unit=unit)
        )
        echo_table(_EMPLOYEE_HEADER, _employee_rows(people, ctx.registry, on), "employee(s)")


@employees.command("find")
def find(
    text: Annotated[str, typer.Argument(help="Part of a key, NIP or name; or a card number.")],
    config: ConfigOption = DEFAULT_CONFIG,
) -> None:
    """Find employees by part of their key, NIP or name (any case), or by a card they held.

    A card may be given in any printed form (001293D8, 0001217496, 018,37848...).

    Example: pelangi-collector employees find 0001217496
    """
    with opened(config) as ctx:
        found = {person.key: person for person in ctx.registry.find(text)}
        uid = _card_uid(text)
        if uid is not None:
            found.update({person.key: person for person in ctx.registry.find(uid)})
        rows = _employee_rows(found.values(), ctx.registry, today())
        echo_table(_EMPLOYEE_HEADER, rows, "employee(s)")


@employees.command("show")
def show(
    key: Annotated[str, typer.Argument(help="The employee's key or NIP.")],
    config: ConfigOption = DEFAULT_CONFIG,
) -> None:
    """Show one employee: their fields, every card they held and when, all their leave.

    Example: pelangi-collector employees show 198503122010011001
    """
    with opened(config) as ctx:
        record = ctx.registry.show(key)
        for line in _record_lines(record, ctx):
            typer.echo(line)


def _card_uid(text: str) -> str | None:
    """The canonical uid of ``text`` when it is a card number in another form than that."""
    try:
        uid = parse_card(text).uid
    except CardFormatError:
        return None
    return None if uid == text.strip().upper() else uid


def _employee_rows(people: Iterable[Employee], registry: Registry, day: date) -> list[list[str]]:
    held: dict[str, list[str]] = {}
    for card in registry.cards(day, day):
        held.setdefault(card.employee, []).append(card.uid)
    return [
        [
            *who(person),
            cell(person.schedule),
            period(person.active_from, person.active_to),
            cell(" ".join(held.get(person.key, []))),
        ]
        for person in people
    ]


def _record_lines(record: EmployeeRecord, ctx: Opened) -> list[str]:
    person = record.employee
    unit = ctx.settings.units.get(person.unit)
    schedule = person.schedule or (f"{unit.schedule} (the unit's)" if unit else None)
    fields = [
        ("key", person.key),
        ("nip", cell(person.nip)),
        ("name", person.name),
        ("unit", person.unit + (f" ({unit.name})" if unit else " (not in the settings)")),
        ("schedule", cell(schedule)),
        ("employed", period(person.active_from, person.active_to)),
    ]
    lines = [f"{name:<9} {value}" for name, value in fields]
    lines += section("cards", ("uid", "bits", "valid"), [_card_row(c) for c in record.cards])
    lines += section("leave", LEAVE_HEADER, [leave_cells(item) for item in record.leave])
    return lines


def _card_row(card: CardAssignment) -> list[str]:
    return [card.uid, str(card.bits), period(card.valid_from, card.valid_to)]
