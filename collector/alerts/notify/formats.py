"""How messages write times and one-line texts (WITA, month names per language)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Final

from collector.alerts.notify.phrases import MONTHS

if TYPE_CHECKING:
    from collector.alerts.notify.settings import Language

WITA: Final = timezone(timedelta(hours=8), "WITA")
"""Asia/Makassar: UTC+8 all year (Indonesia keeps no daylight saving time)."""

SUBJECT_MAX: Final = 160
_SPACES: Final = re.compile(r"\s+")


def wita(moment: datetime | None, language: Language = "id") -> str:
    """``12 Des 2026 03:14 WITA`` (``-`` for None); the moment must be aware."""
    if moment is None:
        return "-"
    local = moment.astimezone(WITA)
    month = MONTHS[language][local.month - 1]
    return f"{local.day} {month} {local.year} {local:%H:%M} WITA"


def one_line(text: str, limit: int = SUBJECT_MAX) -> str:
    """``text`` with every run of whitespace (CR, LF, tabs) one space, cut to ``limit``."""
    flat = _SPACES.sub(" ", text).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
