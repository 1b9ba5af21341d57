"""The engine's state as plain values: what a store keeps so a restarted engine goes on.

:meth:`collector.alerts.engine.Engine.snapshot` gives a :class:`Snapshot`;
:meth:`~collector.alerts.engine.Engine.restore` takes it back. Everything in it is made
of strings, numbers, booleans, aware datetimes and the values of :mod:`.model`, so a
store can write it as rows or JSON. A rule's settings are not in it: a restored alert
takes the rule's *current* settings (a changed ``for_s`` applies from the restart on).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import datetime

    from collector.alerts.model import Alert, AlertKey


@dataclass(frozen=True, slots=True)
class Track:
    """What the engine knows about one alert key beside its :class:`~.model.Alert`.

    Attributes:
        key: the alert key.
        active: the raise condition was met and the clear condition not since (hysteresis).
        last_data: when (engine time) an observation about it last arrived (for no-data).
        last_at: the reading time of the newest observation applied (older ones are stale).
        clear_since: when (engine time) the clear condition began to hold (keep-firing).
    """

    key: AlertKey
    active: bool
    last_data: datetime
    last_at: datetime | None = None
    clear_since: datetime | None = None


@dataclass(frozen=True, slots=True)
class Memo:
    """One fact a rule family remembers between observations (a door's opening, a badge...).

    Attributes:
        family: the rule family (``doors``, ``cards``, ``network``, ``gateways``).
        kind: what fact it is, within the family.
        subject: what it is about (site, gateway, device... as the family writes it).
        at: a time, if the fact has one.
        number: a number, if the fact has one.
        text: a text, if the fact has one.
    """

    family: str
    kind: str
    subject: tuple[str, ...]
    at: datetime | None = None
    number: float | None = None
    text: str = ""


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything a restarted engine needs to neither re-send nor forget.

    Attributes:
        alerts: the active alerts (pending or firing).
        tracks: the per-key times, for active alerts and for keys watched for no-data.
        settling: causes that cleared, and until when their symptoms stay suppressed.
        memos: the rule families' facts.
        now: the latest time the engine was given (None: never).
    """

    alerts: tuple[Alert, ...] = ()
    tracks: tuple[Track, ...] = ()
    settling: tuple[tuple[AlertKey, datetime], ...] = ()
    memos: tuple[Memo, ...] = ()
    now: datetime | None = None
