"""``state_dir/receipts``: whether this gateway has ever seen a collector that confirms.

Why on disk: a broker that crashed or was wiped forgets every retained presence. An agent
that only learned "collectors confirm" from those messages would, after such a restart,
see no collector at all and fall back to trusting PUBACKs (the rule for collectors from
before presence), which is exactly how readings get lost into an empty broker. Once the
file exists the agent stays in receipt mode (:mod:`edge_agent.uplink.presence`); to go
back (all collectors downgraded), stop the agent, delete the file, start it again.

Never raises: a file that cannot be written is logged and the mode still holds for as
long as the process runs.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from edge_agent.statefile import replace_atomically

if TYPE_CHECKING:
    from pathlib import Path

log = logging.getLogger(__name__)

FILE_NAME = "receipts"


class ReceiptMemory:
    """The flag file in ``state_dir``."""

    def __init__(self, state_dir: Path) -> None:
        """Remember in ``state_dir/receipts``."""
        self.path = state_dir / FILE_NAME

    def recall(self) -> bool:
        """Whether a confirming collector was seen before (by this or an earlier run)."""
        try:
            return self.path.exists()
        except OSError:  # pragma: no cover - a folder we cannot even stat
            return False

    def remember(self, collector: str) -> None:
        """Note that ``collector`` confirms receipts (first seen now)."""
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        text = f"first confirming collector: {collector} at {stamp}\n"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            replace_atomically(self.path, text.encode("ascii", "replace").decode())
        except OSError as exc:
            log.error(  # noqa: TRY400 - the cause is in the line
                "cannot save %s (%s): receipt mode holds until the agent stops", self.path, exc
            )
