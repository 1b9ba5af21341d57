"""Alembic's script folder for the state database: ``env.py`` and one file per revision.

Nothing here is imported by the program: :mod:`collector.state.migrate` points Alembic at
this folder and Alembic loads the files. A new revision is a new ``versions/mNNNN_<what>.py``
file whose ``down_revision`` is the previous head (file names are valid module names, so
the tree's own checks can import them; Alembic goes by the ``revision`` variables, not by
the names).
"""
