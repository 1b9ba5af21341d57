"""``pelangi-collector employees import|list|find|show``: the employee registry."""

from __future__ import annotations

import typer

employees = typer.Typer(
    help="The employees, their units and their cards (the attendance registry).",
    no_args_is_help=True,
)
