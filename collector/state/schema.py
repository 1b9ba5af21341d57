"""The state database's tables (SQLAlchemy Core), the one place they are defined.

Attendance keeps its registry here (``employee``, ``card_assignment``, ``leave``,
``roster``) and its computed days (``attendance_day``, ``unknown_tap``); the alert engine
keeps its state beside them (revision 0002: ``alert``, ``alert_outbox``, ``alert_sent``,
``alert_silence``, ``engine_lease``; revision 0003: ``alert_engine_state``), on the same
:data:`metadata`.

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
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
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


# -- the alert engine (revision 0002) ---------------------------------------------------------

ID_LENGTH: Final = 200
"""Notification ids (the engine makes them from the key, the kind and an instant)."""
ADDRESS_LENGTH: Final = 500
"""A recipient: an email address (at most 254) or a webhook URL."""
_ALERT_KEY: Final = ("rule", "site", "gateway", "device", "item")


def _alert_key_columns() -> list[Column[str]]:
    """An :class:`~collector.alerts.model.AlertKey` as five columns ("" for a part not set)."""
    return [Column(part, String(CODE_LENGTH), nullable=False) for part in _ALERT_KEY]


alert: Final = Table(
    "alert",
    metadata,
    *_alert_key_columns(),
    Column("phase", String(16), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("audience", String(CODE_LENGTH), nullable=False),
    Column("since", UtcDateTime, nullable=False),
    Column("fired_at", UtcDateTime),
    Column("resolved_at", UtcDateTime),
    Column("value", Text, nullable=False),
    Column("labels", JSON, nullable=False),
    Column("suppressed_by", JSON),  # the explaining alert's key, as a list of its five parts
    Column("updated_at", UtcDateTime, nullable=False),
    PrimaryKeyConstraint(*_ALERT_KEY),
    CheckConstraint("phase IN ('pending', 'firing', 'resolved')", name="phase"),
    Index(None, "phase"),
)
"""Every alert's current state, one row per key (resolved ones until pruned)."""

alert_outbox: Final = Table(
    "alert_outbox",
    metadata,
    Column("id", String(ID_LENGTH), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("audience", String(CODE_LENGTH), nullable=False),
    Column("group", String(NAME_LENGTH), nullable=False),
    Column("payload", JSON, nullable=False),  # {"alerts": [...]} as they stood when made
    Column("created_at", UtcDateTime, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("last_error", Text),
    CheckConstraint("attempts >= 0", name="attempts"),
    Index(None, "next_attempt_at"),
)
"""Notifications not yet delivered everywhere: a row leaves once its delivery is final."""

alert_sent: Final = Table(
    "alert_sent",
    metadata,
    Column("notification_id", String(ID_LENGTH), nullable=False),
    Column("channel", String(CODE_LENGTH), nullable=False),
    Column("recipient", String(ADDRESS_LENGTH), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("group", String(NAME_LENGTH), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("reply", Text, nullable=False),
    # One row per delivery: a second report of the same one is recognised, not logged.
    PrimaryKeyConstraint("notification_id", "channel", "recipient"),
    Index(None, "at"),
)
"""The log of what was delivered, to which channel and recipient, and what the server said."""

alert_silence: Final = Table(
    "alert_silence",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("matchers", JSON, nullable=False),  # {"site": "bukit-*", ...}: globs per key part
    Column("starts", UtcDateTime, nullable=False),
    Column("ends", UtcDateTime, nullable=False),
    Column("created_by", String(NAME_LENGTH), nullable=False),
    Column("comment", Text, nullable=False),
    CheckConstraint("starts < ends", name="period"),
    Index(None, "ends"),
)
"""Silences and maintenance windows."""

engine_lease: Final = Table(
    "engine_lease",
    metadata,
    Column("name", String(CODE_LENGTH), primary_key=True),
    Column("holder", String(NAME_LENGTH)),  # None: released
    Column("acquired_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    # Counts changes of holder: a fencing token, and a record of how often it moved.
    Column("generation", Integer, nullable=False),
)
"""Which process may act as the (single) alert engine, and until when."""

ALERT_TABLES: Final = (alert, alert_outbox, alert_sent, alert_silence, engine_lease)
"""What revision 0002 created."""

alert_engine_state: Final = Table(
    "alert_engine_state",
    metadata,
    Column("name", String(CODE_LENGTH), primary_key=True),
    # The engine's snapshot and the grouper's state as one JSON document, written in the
    # same transaction as the alert rows and outbox they go with (never out of step).
    Column("state", JSON, nullable=False),
    Column("saved_at", UtcDateTime, nullable=False),
)
"""What the running alert engine knows beyond its alerts' rows (revision 0003)."""
