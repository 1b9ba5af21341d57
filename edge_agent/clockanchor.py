"""The clock anchor's file: ``state_dir/clock-anchor``, one JSON line, replaced atomically.

The anchor (:class:`edge_agent.timebase.Anchor`) is the first time signal of a boot. It is
kept on disk so that an agent restarted within the same boot corrects the readings it
stored before that signal exactly as it did before (same ``ts``: a re-sent reading
overwrites itself at the collector). An anchor of another boot means nothing (monotonic
clocks restart at boot) and is ignored. Never raises: a missing or damaged file is
logged and treated as no anchor; a file that cannot be written is logged, and the anchor
is used from memory (a re-send after a restart may then land at another ``ts``).
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Final

from edge_agent.outbox._files import current_boot_id
from edge_agent.statefile import replace_atomically
from edge_agent.timebase import Anchor

if TYPE_CHECKING:
    from pathlib import Path

log = logging.getLogger(__name__)

FILE_NAME: Final = "clock-anchor"
_FIELDS: Final = ("reference_ns", "local_wall_ns", "local_mono_ns")


class AnchorFile:
    """Loads and saves the anchor of the current boot in ``state_dir``."""

    def __init__(self, state_dir: Path, boot_id: str | None = None) -> None:
        """Keep the anchor of boot ``boot_id`` (default: the kernel's) in ``state_dir``."""
        self.path = state_dir / FILE_NAME
        # The outbox's own notion of a boot, so both trust a monotonic time equally.
        self.boot_id = boot_id if boot_id is not None else current_boot_id()
        self.problem: str | None = None
        """Why the anchor could not be saved, or None."""

    def load(self) -> Anchor | None:
        """The anchor saved during the current boot, or None (none, another boot, damaged)."""
        try:
            text = self.path.read_text(encoding="ascii")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            log.warning("cannot read the clock anchor %s: %s; starting without", self.path, exc)
            return None
        try:
            doc = json.loads(text)
            boot_id = doc["boot_id"]
            values = [doc[name] for name in _FIELDS]
        except (ValueError, TypeError, KeyError):
            log.warning(
                "the clock anchor %s is damaged (expected a JSON object with boot_id, %s; got "
                "%r); starting without",
                self.path,
                ", ".join(_FIELDS),
                text[:80],
            )
            return None
        if not isinstance(boot_id, str) or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in values
        ):
            log.warning(
                "the clock anchor %s holds values of the wrong type; starting without", self.path
            )
            return None
        if boot_id != self.boot_id:
            return None  # an earlier boot's: its monotonic clock is not ours
        return Anchor(boot_id, *values)

    def save(self, anchor: Anchor) -> bool:
        """Write ``anchor`` durably; False (logged, :attr:`problem` set) if it cannot."""
        text = json.dumps(
            {"boot_id": anchor.boot_id} | {name: getattr(anchor, name) for name in _FIELDS}
        )
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            replace_atomically(self.path, text + "\n")
        except (OSError, UnicodeEncodeError) as exc:
            self.problem = f"cannot save the clock anchor in {self.path}: {exc}"
            log.error(  # noqa: TRY400 - the cause is in the line; no traceback
                "%s; correcting from memory (a re-send after a restart may get another ts)",
                self.problem,
            )
            return False
        self.problem = None
        return True
