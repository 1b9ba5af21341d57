"""Revision 0003: ``alert_engine_state``, the alert engine's snapshot and grouping state.

Creates :data:`collector.state.schema.alert_engine_state` as defined there (the rule of
revision 0001 holds: a later revision that alters it first copies this definition here).
"""

from __future__ import annotations

from alembic import op

from collector.state.schema import alert_engine_state, metadata

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the table."""
    metadata.create_all(op.get_bind(), tables=[alert_engine_state], checkfirst=False)


def downgrade() -> None:
    """Drop it."""
    metadata.drop_all(op.get_bind(), tables=[alert_engine_state], checkfirst=False)
