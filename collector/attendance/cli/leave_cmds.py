"""``pelangi-collector attendance leave add|list|remove|import``: leave and permissions."""

from __future__ import annotations

import typer

leave = typer.Typer(
    help="Leave and permissions (izin, sakit, cuti, DL, tugas belajar, partial days).",
    no_args_is_help=True,
)
