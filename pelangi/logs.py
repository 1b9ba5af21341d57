"""Logging set-up shared by the agent and the collector.

Log lines are plain sentences ("connected to", "reconnecting to", "rejected because")
with UTC timestamps, one line per event, so ``journalctl`` reads well over a weak link.
"""

from __future__ import annotations

import logging
import time
from typing import Literal

LogLevel = Literal["debug", "info", "warning", "error"]


def setup(level: LogLevel = "info") -> None:
    """Send log records to stderr as ``2026-11-28T03:21:00Z INFO name: message``."""
    handler = logging.StreamHandler()
    formatter = logging.Formatter(
        "%(asctime)s.%(msecs)03dZ %(levelname)s %(name)s: %(message)s", "%Y-%m-%dT%H:%M:%S"
    )
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
