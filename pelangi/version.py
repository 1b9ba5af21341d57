"""The installed package's version (pyproject's), for ``--version`` and the status file.

Read from :mod:`importlib.metadata` rather than a constant in the code: the number a
technician reports is then the one pip installed.
"""

from __future__ import annotations

from functools import cache
from typing import Final

DISTRIBUTION: Final = "pelangi"


@cache  # the running agent puts it in its status file every few seconds
def package_version() -> str:
    """The installed version of the ``pelangi`` distribution (``unknown`` if not installed)."""
    # Imported here: the running agent imports this module, and importlib.metadata is
    # not small (the agent's footprint is a benchmark target).
    from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415

    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:  # a source tree that was never installed
        return "unknown"


__all__ = ["DISTRIBUTION", "package_version"]
