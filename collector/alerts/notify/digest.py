"""The daily digest's values and what its templates show of them. Pure.

Whoever builds a :class:`Digest` (the engine, at ``digest.at`` WITA) passes everything in:
the open alerts, the gateways offline, the doors left open overnight, yesterday's
attendance totals per unit as plain numbers. Nothing here reads a clock or a database.

The attendance chart is drawn in HTML: one stacked bar per unit, each part's width its
share of the unit's staff (no image library, and it survives mail clients that block
images).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from collector.alerts.notify.formats import wita
from collector.alerts.notify.phrases import MONTHS, PHRASES
from collector.alerts.notify.views import alert_view

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import date, datetime

    from collector.alerts.model import Alert
    from collector.alerts.notify.settings import Language


DIGEST_PARTS: Final = ("doors", "attendance")
"""The sections read from InfluxDB, which may be :attr:`Digest.unavailable`."""


@dataclass(frozen=True, slots=True)
class GatewayOffline:
    """A gateway not heard from, and since when."""

    site: str
    gateway: str
    since: datetime
    building: str = ""


@dataclass(frozen=True, slots=True)
class DoorOpenOvernight:
    """A door that was open during the night (``closed_at`` None: it still is)."""

    site: str
    gateway: str
    door: str
    opened_at: datetime
    closed_at: datetime | None = None
    building: str = ""


@dataclass(frozen=True, slots=True)
class UnitAttendance:
    """Yesterday's totals of one unit (as the attendance job counted them)."""

    unit: str
    present: int
    late: int
    absent: int
    leave: int

    @property
    def total(self) -> int:
        """Everyone the unit expected."""
        return self.present + self.late + self.absent + self.leave


@dataclass(frozen=True, slots=True)
class Digest:
    """Everything the morning digest reports (see the module docstring)."""

    day: date
    created_at: datetime
    open_alerts: tuple[Alert, ...] = ()
    gateways_offline: tuple[GatewayOffline, ...] = ()
    doors_open_overnight: tuple[DoorOpenOvernight, ...] = ()
    attendance: tuple[UnitAttendance, ...] = ()
    unavailable: tuple[str, ...] = ()
    """Sections whose data could not be read (``doors``, ``attendance``): shown as such,
    never as an empty section (that would read as "no door was left open")."""


# The bar's parts, in the order they are drawn, with their colours (readable when printed).
_PARTS = (("present", "#2e7d32"), ("late", "#f9a825"), ("absent", "#c62828"), ("leave", "#78909c"))


def _bar(unit: UnitAttendance) -> list[dict[str, Any]]:
    total = unit.total
    parts = []
    for name, colour in _PARTS:
        count: int = getattr(unit, name)
        # Rounded to a tenth of a percent: the widths of a bar add up to 100 within 0.2.
        width = round(100 * count / total, 1) if total else 0.0
        parts.append({"name": name, "count": count, "width": width, "colour": colour})
    return parts


def digest_view(digest: Digest, language: Language, hints: Mapping[str, str]) -> dict[str, Any]:
    """What the digest templates show (every time in WITA, every part named in ``language``)."""
    words = PHRASES[language]
    day = f"{digest.day.day} {MONTHS[language][digest.day.month - 1]} {digest.day.year}"
    return {
        "day": day,
        "created_at": wita(digest.created_at, language),
        "alerts": [alert_view(a, language, hints) for a in digest.open_alerts],
        "offline": [
            {
                "where": " / ".join(p for p in (g.site, g.building, g.gateway) if p),
                "since": wita(g.since, language),
            }
            for g in digest.gateways_offline
        ],
        "doors": [
            {
                "where": " / ".join(p for p in (d.site, d.building, d.gateway, d.door) if p),
                "opened_at": wita(d.opened_at, language),
                "closed_at": wita(d.closed_at, language) if d.closed_at else words["still_open"],
            }
            for d in digest.doors_open_overnight
        ],
        "unavailable": {part: part in digest.unavailable for part in DIGEST_PARTS},
        "units": [{"unit": u.unit, "total": u.total, "parts": _bar(u)} for u in digest.attendance],
        "legend": [{"name": name, "colour": colour} for name, colour in _PARTS],
    }
