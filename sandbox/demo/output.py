"""How the demo talks to people: its story line by line, aligned tables, times in WITA."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

if TYPE_CHECKING:
    from collections.abc import Sequence


def wita() -> tzinfo:
    """Central Indonesia time (Kutai Timur); UTC+8 all year, so a fixed offset will do."""
    try:
        return ZoneInfo("Asia/Makassar")
    except ZoneInfoNotFoundError:
        return timezone(timedelta(hours=8), "WITA")


def say(text: str = "") -> None:
    """Print one line of the demo's story (flushed, so it interleaves well with make)."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def step(text: str) -> None:
    """Announce a step."""
    say()
    say(f"==> {text}")


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Format rows as aligned text lines, header and rule first."""
    lines = [tuple(header), *(tuple(row) for row in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = []
    for n, line in enumerate(lines):
        cells = (cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        out.append(("    " + "  ".join(cells)).rstrip())
        if n == 0:
            out.append("    " + "  ".join("-" * width for width in widths))
    return out


def wita_time(ns: int, *, date: bool = False) -> str:
    """A timestamp (ns, UTC) as WITA wall-clock time with milliseconds (and the date)."""
    when = datetime.fromtimestamp(ns / 1e9, tz=UTC).astimezone(wita())
    return when.strftime("%Y-%m-%d %H:%M:%S.%f" if date else "%H:%M:%S.%f")[:-3]


def bits(value: object) -> str:
    """A bit rate for people."""
    if not isinstance(value, int | float):
        return "-"
    for unit, scale in (("Gb/s", 1e9), ("Mb/s", 1e6), ("kb/s", 1e3)):
        if value >= scale:
            return f"{value / scale:.1f} {unit}"
    return f"{value:.0f} b/s"
