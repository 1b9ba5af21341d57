"""Revision 0001: the attendance registry and its computed days.

Creates the tables of :data:`collector.state.schema.ATTENDANCE_TABLES` as they are
defined there. That holds while no later revision changes them: the first revision that
alters one of these tables must first copy its definition as of this revision into this
file (and create it from the copy), so that this revision keeps creating what it always
created. ``tests/test_state_database.py`` fails when that is forgotten (a fresh database,
upgraded step by step, would not match the schema).
"""

from __future__ import annotations

from alembic import op

from collector.state.schema import ATTENDANCE_TABLES, metadata

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the attendance tables."""
    metadata.create_all(op.get_bind(), tables=list(ATTENDANCE_TABLES), checkfirst=False)


def downgrade() -> None:
    """Drop them (dependent tables first)."""
    metadata.drop_all(op.get_bind(), tables=list(ATTENDANCE_TABLES), checkfirst=False)
