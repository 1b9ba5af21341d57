"""Turn walked varbinds into interface rows: pure, no IO.

The poller hands over ``(oid, value)`` pairs already converted to Python values (int for
numbers, str for strings); this module sorts them into one :class:`InterfaceRow` per
``ifIndex``. A cell the agent does not implement (no ifXTable on an old switch, no
ifCounterDiscontinuityTime on Net-SNMP) stays ``None``: rows are never invented.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from edge_agent.snmp.mib import ADMIN_STATUS, COLUMNS, OPER_STATUS

if TYPE_CHECKING:
    from collections.abc import Iterable

_BY_OID = {oid: name for name, oid in COLUMNS.items()}
_TEXT_COLUMNS = frozenset({"descr", "name", "alias"})
_MAX_TEXT = 255  # DisplayString is at most 255 octets; a longer one is a broken agent


@dataclass(frozen=True, slots=True)
class InterfaceRow:
    """One port of a switch as read in one poll (None: the agent did not report it)."""

    index: int
    name: str | None = None
    descr: str | None = None
    alias: str | None = None
    admin: str | None = None
    oper: str | None = None
    high_speed: int | None = None
    hc_in_octets: int | None = None
    hc_out_octets: int | None = None
    in_errors: int | None = None
    out_errors: int | None = None
    in_discards: int | None = None
    out_discards: int | None = None
    discontinuity: int | None = None

    @property
    def label(self) -> str:
        """The port's name for people: ifName, else ifDescr, else its index."""
        return self.name or self.descr or f"if{self.index}"


@dataclass
class _RowBuilder:
    index: int
    cells: dict[str, int | str] = field(default_factory=dict)


def column_of(oid: tuple[int, ...]) -> tuple[str, int] | None:
    """Return ``(column name, ifIndex)`` for a cell OID we poll, else None."""
    if not oid:
        return None
    column, index = oid[:-1], oid[-1]
    name = _BY_OID.get(column)
    return None if name is None else (name, index)


def build_rows(cells: Iterable[tuple[tuple[int, ...], int | str]]) -> dict[int, InterfaceRow]:
    """Group walked cells into rows keyed by ifIndex; unknown OIDs are ignored."""
    builders: dict[int, _RowBuilder] = {}
    for oid, value in cells:
        located = column_of(oid)
        if located is None:
            continue
        name, index = located
        builders.setdefault(index, _RowBuilder(index)).cells[name] = value
    return {index: _row(builder) for index, builder in sorted(builders.items())}


def _row(builder: _RowBuilder) -> InterfaceRow:
    cells = builder.cells
    return InterfaceRow(
        index=builder.index,
        name=_text(cells.get("name")),
        descr=_text(cells.get("descr")),
        alias=_text(cells.get("alias")),
        admin=_status(cells.get("admin"), ADMIN_STATUS),
        oper=_status(cells.get("oper"), OPER_STATUS),
        high_speed=_number(cells.get("high_speed")),
        hc_in_octets=_number(cells.get("hc_in_octets")),
        hc_out_octets=_number(cells.get("hc_out_octets")),
        in_errors=_number(cells.get("in_errors")),
        out_errors=_number(cells.get("out_errors")),
        in_discards=_number(cells.get("in_discards")),
        out_discards=_number(cells.get("out_discards")),
        discontinuity=_number(cells.get("discontinuity")),
    )


def _text(value: int | str | None) -> str | None:
    if value is None:
        return None
    text = str(value)
    return text[:_MAX_TEXT]


def _number(value: int | str | None) -> int | None:
    return value if isinstance(value, int) and value >= 0 else None


def _status(value: int | str | None, names: dict[int, str]) -> str | None:
    if not isinstance(value, int):
        return None
    return names.get(value, "unknown")
