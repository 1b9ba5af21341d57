"""The state database's tables (SQLAlchemy Core), the one place they are defined.

Attendance keeps its registry here (``employee``, ``card_assignment``, ``leave``,
``roster``) and its computed days (``attendance_day``, ``unknown_tap``); the alert engine
will add its own tables in later migrations, to the same :data:`metadata`.

Instants are stored as UTC (:class:`~collector.state.types.UtcDateTime`), calendar days as
dates (WITA days: the office's). Employees are referred to by a surrogate id, so a key can
change (an honorer who becomes PPPK gets a NIP) without touching their history.

Changing a table means a migration (:mod:`collector.state.migrations`): a later revision
alters what an earlier one created, and an earlier one must keep creating what it always
did. ``tests/test_state_database.py`` checks that a database upgraded from empty matches
these definitions exactly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    Time,
)

from collector.state.types import UtcDateTime

if TYPE_CHECKING:
    from sqlalchemy.schema import SchemaItem

# Constraint names fixed by convention: a migration that drops or alters one must be able
# to name it, and SQLite's table-rebuilding migrations need the names too.
NAMING_CONVENTION: Final = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata: Final = MetaData(naming_convention=NAMING_CONVENTION)

KEY_LENGTH: Final = 40
NAME_LENGTH: Final = 200
CODE_LENGTH: Final = 64
"""Unit codes, schedule, shift and leave-kind names, site/gateway/reader idents."""


def _employee_ref(*, primary_key: bool = False) -> Column[int]:
    return Column(
        "employee_id",
        Integer,
        ForeignKey("employee.id"),
        nullable=False,
        primary_key=primary_key,
    )


employee: Final = Table(
    "employee",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", String(KEY_LENGTH), nullable=False, unique=True),
    Column("nip", String(18), unique=True),
    Column("name", String(NAME_LENGTH), nullable=False),
    Column("unit", String(CODE_LENGTH), nullable=False),
    Column("schedule", String(CODE_LENGTH)),
    Column("active_from", Date),
    Column("active_to", Date),
    CheckConstraint(
        "active_from IS NULL OR active_to IS NULL OR active_from <= active_to", name="active"
    ),
)

card_assignment: Final = Table(
    "card_assignment",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("uid", String(8), nullable=False, index=True),
    Column("bits", SmallInteger, nullable=False),
    _employee_ref(),
    Column("valid_from", Date, nullable=False),
    Column("valid_to", Date),
    CheckConstraint("bits IN (24, 32)", name="bits"),
    CheckConstraint("valid_to IS NULL OR valid_from <= valid_to", name="valid"),
    Index(None, "employee_id"),
)

leave: Final = Table(
    "leave",
    metadata,
    Column("id", Integer, primary_key=True),
    _employee_ref(),
    Column("kind", String(CODE_LENGTH), nullable=False),
    Column("first", Date, nullable=False),
    Column("last", Date, nullable=False),
    Column("partial", String(20)),
    Column("until", Time),
    Column("note", Text, nullable=False, default=""),
    Column("created_at", UtcDateTime, nullable=False),
    CheckConstraint('"first" <= "last"', name="period"),
    CheckConstraint("(partial IS NULL) = (until IS NULL)", name="partial_until"),
    Index(None, "employee_id", "first"),
)


def _per_employee_day(name: str, *items: SchemaItem) -> Table:
    """A table of at most one row per employee per day: its primary key."""
    return Table(
        name,
        metadata,
        _employee_ref(primary_key=True),
        Column("day", Date, primary_key=True),
        *items,
    )


roster: Final = _per_employee_day(
    "roster",
    Column("shift", String(CODE_LENGTH), nullable=False),
    Index(None, "day"),
)

attendance_day: Final = _per_employee_day(
    "attendance_day",
    Column("unit", String(CODE_LENGTH), nullable=False),
    Column("status", String(8), nullable=False),
    Column("check_in", UtcDateTime),
    Column("check_out", UtcDateTime),
    Column("minutes_late", Integer, nullable=False),
    Column("minutes_early", Integer, nullable=False),
    Column("worked_minutes", Integer, nullable=False),
    Column("tl", SmallInteger, nullable=False),
    Column("psw", SmallInteger, nullable=False),
    Column("penalty_pct", Float, nullable=False),
    Column("notes", Text, nullable=False),
    Index(None, "day", "unit"),
)

unknown_tap: Final = Table(
    "unknown_tap",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("day", Date, nullable=False, index=True),
    Column("uid", String(8), nullable=False),
    Column("bits", SmallInteger, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("site", String(CODE_LENGTH), nullable=False),
    Column("gateway", String(CODE_LENGTH), nullable=False),
    Column("reader", String(CODE_LENGTH), nullable=False),
    Column("clock_suspect", Boolean, nullable=False),
    Column("candidates", Text, nullable=False),
    Column("note", Text, nullable=False),
)

ATTENDANCE_TABLES: Final = (employee, card_assignment, leave, roster, attendance_day, unknown_tap)
"""What revision 0001 created, in dependency order."""
