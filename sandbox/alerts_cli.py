"""Running the ``alerts`` commands in tests: a configuration file with an ``alerts:`` section.

Builds on :mod:`sandbox.registry_cli` (its configuration file, its runner); used by
``tests/test_alerts_cli*.py``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import yaml

from sandbox.registry_cli import write_config

if TYPE_CHECKING:
    from pathlib import Path

    from collector.state import StateSettings


def configured(folder: Path, state: StateSettings, alerts: dict[str, Any] | None = None) -> Path:
    """A collector configuration in ``folder`` on ``state``, with ``alerts`` as its section."""
    path = write_config(folder, state)
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    document["alerts"] = alerts or {}
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


__all__ = ["configured"]
