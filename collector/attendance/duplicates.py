"""Duplicate taps: the same card again within ``duplicate_window_s`` of its last kept tap.

The first tap of a burst is kept; each later tap is dropped when it comes at most
``duplicate_window_s`` after the last tap *kept* (not the last tap seen), so a card held
at a reader for minutes yields one kept tap a window. Duplicates are judged per employee
across every attendance reader (the same card on the lobby and the side door is one
person), on taps in a total order: results never depend on the order taps were read in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime, timedelta

    from collector.attendance.model import Tap


def tap_order(tap: Tap) -> tuple[datetime, str, str, str, str, int, bool]:
    """A total order of taps: by time, then every other field (ties never follow input order)."""
    return (tap.at, tap.site, tap.gateway, tap.reader, tap.uid, tap.bits, tap.clock_suspect)


def in_order(taps: Iterable[Tap]) -> list[Tap]:
    """``taps`` in :func:`tap_order`."""
    return sorted(taps, key=tap_order)


def kept(ordered: Iterable[Tap], window: timedelta) -> list[tuple[Tap, bool]]:
    """Each tap of ``ordered`` (in :func:`tap_order`) with whether it is kept."""
    marked = []
    last_kept: datetime | None = None
    for tap in ordered:
        keep = last_kept is None or tap.at - last_kept > window
        if keep:
            last_kept = tap.at
        marked.append((tap, keep))
    return marked
