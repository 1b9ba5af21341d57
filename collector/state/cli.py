"""``pelangi-collector state upgrade|status``: the state database's schema."""

from __future__ import annotations

import typer

state = typer.Typer(help="The state database (registry, attendance, alerts).", no_args_is_help=True)
