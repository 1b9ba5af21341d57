"""The state database's revisions, oldest first (see :mod:`collector.state.migrations`)."""
