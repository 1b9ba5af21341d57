"""Silences and maintenance windows: which alerts to keep quiet, and when. Pure.

A :class:`Silence` holds shell-style globs (``fnmatch``, case-sensitive: ids are) for some of
the five parts of an :class:`~collector.alerts.model.AlertKey`; an alert is silenced while
``starts <= now < ends`` by a silence whose every glob matches its part. A part the
silence does not name matches anything, but a silence must name at least one: "silence
everything" is a switch people forget to turn back, not a window.

``alerts silence add --match site=bukit-pelangi --match device='pintu-*' --until ...``
reads its matchers with :func:`parse_matcher`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Final

from collector.alerts.store_errors import InvalidSilence

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from datetime import datetime

    from collector.alerts.model import AlertKey

PARTS: Final = ("rule", "site", "gateway", "device", "item")
"""The parts of an alert key a silence can match, in the key's order."""


@dataclass(frozen=True, slots=True)
class Silence:
    """Quiet every alert whose key matches ``matchers`` from ``starts`` until ``ends``.

    Attributes:
        matchers: part name (one of :data:`PARTS`) to a glob, e.g. ``{"site": "bukit-*"}``.
        starts: when it begins to hold (aware).
        ends: when it stops holding (aware, after ``starts``; not included).
        created_by: who made it (a login or a name), for ``silence list``.
        comment: why (``ganti switch lantai 2``).
        id: the store's id; None until it is stored.

    Raises:
        InvalidSilence: no matcher, a matcher for an unknown part or with an empty glob, a
            naive instant, or ``ends`` not after ``starts``.
    """

    matchers: Mapping[str, str]
    starts: datetime
    ends: datetime
    created_by: str
    comment: str = ""
    id: int | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        """Check the silence (see the class docstring) and keep its own copy of matchers."""
        if not self.matchers:
            raise InvalidSilence(f"a silence must match at least one of {', '.join(PARTS)}")
        unknown = sorted(set(self.matchers) - set(PARTS))
        if unknown:
            raise InvalidSilence(
                f"a silence matches {', '.join(PARTS)}, got unknown part(s) {unknown}"
            )
        empty = sorted(part for part, glob in self.matchers.items() if not glob)
        if empty:
            raise InvalidSilence(f"empty glob for {empty}: use '*' to match anything")
        for name, instant in (("starts", self.starts), ("ends", self.ends)):
            if instant.utcoffset() is None:
                raise InvalidSilence(f"{name} must carry its time zone, got {instant!r}")
        if self.ends <= self.starts:
            raise InvalidSilence(
                f"a silence must end after it starts: starts {self.starts.isoformat()}, "
                f"ends {self.ends.isoformat()}"
            )
        # In key order, so equal silences compare equal however they were written.
        ordered = {part: self.matchers[part] for part in PARTS if part in self.matchers}
        object.__setattr__(self, "matchers", ordered)

    def matches(self, key: AlertKey) -> bool:
        """Whether every glob of this silence matches its part of ``key``."""
        return all(fnmatchcase(getattr(key, part), glob) for part, glob in self.matchers.items())

    def active(self, now: datetime) -> bool:
        """Whether the silence holds at ``now``."""
        return self.starts <= now < self.ends

    def silences(self, key: AlertKey, now: datetime) -> bool:
        """Whether it keeps ``key`` quiet at ``now``."""
        return self.active(now) and self.matches(key)


def silencing(key: AlertKey, silences: Iterable[Silence], now: datetime) -> Silence | None:
    """The first of ``silences`` that keeps ``key`` quiet at ``now`` (None: it is heard)."""
    return next((s for s in silences if s.silences(key, now)), None)


def parse_matcher(text: str) -> tuple[str, str]:
    """``"site=bukit-*"`` as ``("site", "bukit-*")``.

    Raises:
        InvalidSilence: no ``=``, or a part not in :data:`PARTS`.
    """
    part, equals, glob = text.partition("=")
    part = part.strip()
    if not equals or part not in PARTS:
        raise InvalidSilence(
            f"expected PART=GLOB with PART one of {', '.join(PARTS)}, got {text!r}"
        )
    return part, glob.strip()


__all__ = ["PARTS", "Silence", "parse_matcher", "silencing"]
