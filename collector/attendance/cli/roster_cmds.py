"""``pelangi-collector roster import``: shift assignments per date (security, night shifts)."""

from __future__ import annotations

import typer

roster = typer.Typer(
    help="Shift rosters: which shift each employee works on which date.",
    no_args_is_help=True,
)
