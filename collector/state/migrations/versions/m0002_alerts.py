"""Revision 0002: the alert engine's state, outbox, delivery log, silences and lease.

Creates the tables of :data:`collector.state.schema.ALERT_TABLES` as they are defined
there; the rule of revision 0001 holds here too: the first later revision that alters one
of them must first copy its definition as of this revision into this file.
"""

from __future__ import annotations

from alembic import op

from collector.state.schema import ALERT_TABLES, metadata

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the alert tables."""
    metadata.create_all(op.get_bind(), tables=list(ALERT_TABLES), checkfirst=False)


def downgrade() -> None:
    """Drop them."""
    metadata.drop_all(op.get_bind(), tables=list(ALERT_TABLES), checkfirst=False)
