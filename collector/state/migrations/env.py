"""Alembic's entry point: run the migrations on the connection the program hands over.

:func:`collector.state.migrate.upgrade` passes an open connection in
``config.attributes["connection"]``: there is no ``alembic.ini`` and no URL to find, and
the program migrates inside the same checks (and error messages) as everything else.
"""

from __future__ import annotations

from alembic import context

from collector.state.schema import metadata

# Alembic installs `context.config` only while it runs this file; a plain import (the
# tree's checks import every module) finds none and does nothing.
_config = getattr(context, "config", None)

if _config is not None:
    context.configure(
        connection=_config.attributes["connection"],
        target_metadata=metadata,
        # SQLite cannot ALTER most things: later revisions rebuild its tables instead.
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()
