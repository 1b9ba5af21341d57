"""Options the toolkit's commands share (the same ``--config`` as ``run`` and ``validate``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Final

import typer

DEFAULT_CONFIG: Final = Path("/etc/pelangi/agent.yaml")

ConfigOption = Annotated[
    Path,
    typer.Option("--config", "-c", help="The agent's configuration file (YAML).", dir_okay=False),
]
"""``--config FILE``: the agent's configuration."""
