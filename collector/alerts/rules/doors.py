"""Door rules: held open, opened after hours, opened without a badge, sensor unknown. Pure.

Every door reading (a change or a periodic re-statement) says where the door stands:

- ``door_held_open`` (and its optional pre-alarm): open raises, closed clears, unknown
  holds. The rule's ``for_s`` is the hold time: the alert is pending while the door is
  open and fires once it has stayed open that long.
- ``door_sensor_unknown``: unknown raises, open or closed clears; ``for_s`` is how long a
  silent sensor is tolerated.
- ``door_after_hours``: a change to open outside the rule's schedule (widened by
  ``early_min``/``late_min``), on a weekday it leaves out, or on a holiday it observes
  (the attendance calendar) raises; the door closing clears.
- ``door_forced_open``: a change to open with no valid badge (a card of an active
  employee, :mod:`.badges`) at a guarding reader within ``window_s`` before it raises;
  the door closing, or a late-arriving badge from inside that window, clears. Doors
  without guarding readers in the settings are not judged. Without lock signals this is
  the usual approximation of "forced".

Badges and openings are compared by their reading times (the gateways' clocks), which
are what tell "before" from "after" when the two travel in different messages.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Final

from collector.alerts.model import AlertKey
from collector.alerts.observations import CardSeen, DoorSeen
from collector.alerts.rule_settings import AfterHoursSettings, ForcedOpenSettings, RuleName
from collector.alerts.rules.badges import CardStatus
from collector.alerts.rules.base import Family, Level
from collector.alerts.state import Memo
from collector.attendance.holidays import HolidayKind
from collector.attendance.model import WITA
from collector.attendance.schedules import Weekday, since_midnight

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime

    from collector.alerts.observations import Observation, Source
    from collector.alerts.rules.badges import CardCheck
    from collector.alerts.rules.base import RuleBook, Signal
    from collector.attendance.calendar import Calendar

BADGES_KEPT: Final = 16
"""Valid badges remembered per reader: far more than pass in any forced-open window."""
BADGE_AFTER_S: Final = 2.0
"""A badge stamped this little after the opening still counts: a reader on another
gateway may have a clock slightly ahead, and nobody badges seconds after forcing a door."""
_HELD: Final = {"open": Level.RAISE, "closed": Level.CLEAR, "unknown": Level.HOLD}
_STATE_WORDS: Final = {"open": "terbuka", "closed": "tertutup", "unknown": "tidak diketahui"}

Place = tuple[str, str, str]
"""(site, gateway, device)."""


def outside_hours(at: datetime, rule: AfterHoursSettings, calendar: Calendar) -> str | None:
    """Why ``at`` is outside the rule's working hours, in words (None: inside them)."""
    local = at.astimezone(WITA)
    day = local.date()
    schedule = rule.schedule
    holiday = calendar.holidays.on(day)
    if holiday is not None and (
        schedule.off_on_cuti_bersama
        if holiday.kind is HolidayKind.CUTI_BERSAMA
        else schedule.off_on_holidays
    ):
        return f"{holiday.kind.label}: {holiday.name}"
    week = schedule.ramadan_hours if calendar.is_ramadan(day) else schedule.hours
    weekday = Weekday.of(day.weekday())
    hours = week.get(weekday)
    if hours is None:
        return weekday.label
    opens = since_midnight(hours.start) - timedelta(minutes=rule.early_min)
    closes = since_midnight(hours.end) + timedelta(minutes=rule.late_min)
    if opens <= since_midnight(local.time()) < closes:
        return None
    return f"di luar jam kerja {hours.start:%H:%M}-{hours.end:%H:%M}"


class DoorRules(Family):
    """The door rules (module docstring)."""

    name = "doors"

    def __init__(self, book: RuleBook, calendar: Calendar, cards: CardCheck) -> None:
        """Door rules with the working calendar and the registry's cards."""
        super().__init__(book)
        self.calendar = calendar
        self.cards = cards
        self._opened: dict[Place, datetime] = {}
        self._badges: dict[Place, list[datetime]] = {}

    def observe(self, obs: Observation, now: datetime) -> list[Signal]:  # noqa: ARG002
        """Signals of a door reading, or of a badge that may explain an opening."""
        if isinstance(obs, DoorSeen):
            return self._door(obs)
        if isinstance(obs, CardSeen):
            return self._badge(obs)
        return []

    def _door(self, obs: DoorSeen) -> list[Signal]:
        source, state = obs.source, obs.state
        words = _STATE_WORDS.get(state, state)
        held = _HELD.get(state, Level.HOLD)
        unknown = Level.RAISE if state == "unknown" else Level.CLEAR
        signals = [
            *self.book.signal(RuleName.DOOR_HELD_OPEN, source, held, value=words),
            *self.book.signal(RuleName.DOOR_HELD_OPEN_PREALARM, source, held, value=words),
            *self.book.signal(RuleName.DOOR_SENSOR_UNKNOWN, source, unknown, value=words),
        ]
        if state == "closed":
            for name in (RuleName.DOOR_AFTER_HOURS, RuleName.DOOR_FORCED_OPEN):
                signals += self.book.signal(name, source, Level.CLEAR, value=words)
        elif state == "open" and obs.change:
            self._opened[source.site, source.gateway, source.device] = source.at
            signals += self._after_hours(source) + self._forced(source)
        return signals

    def _after_hours(self, source: Source) -> list[Signal]:
        rule = self.book.rule(
            RuleName.DOOR_AFTER_HOURS, source.site, source.gateway, AfterHoursSettings
        )
        why = None if rule is None else outside_hours(source.at, rule, self.calendar)
        if why is None:
            return []
        value = f"dibuka {source.at.astimezone(WITA):%d-%m %H:%M} WITA ({why})"
        return self.book.signal(
            RuleName.DOOR_AFTER_HOURS, source, Level.RAISE, value=value, kind=AfterHoursSettings
        )

    def _forced(self, source: Source) -> list[Signal]:
        rule = self.book.rule(
            RuleName.DOOR_FORCED_OPEN, source.site, source.gateway, ForcedOpenSettings
        )
        guards = self.book.settings.guards_of(source.site, source.gateway, source.device)
        if rule is None or not guards:
            return []
        window = timedelta(seconds=rule.window_s)
        for gateway, reader in guards:
            if any(
                _explains(badge, source.at, window)
                for badge in self._badges.get((source.site, gateway, reader), ())
            ):
                return []
        readers = ", ".join(f"{gateway}/{reader}" for gateway, reader in guards)
        return self.book.signal(
            RuleName.DOOR_FORCED_OPEN,
            source,
            Level.RAISE,
            value=f"dibuka tanpa kartu sah dalam {rule.window_s:g} detik",
            labels={"readers": readers},
            kind=ForcedOpenSettings,
        )

    def _badge(self, obs: CardSeen) -> list[Signal]:
        source = obs.source
        if self.cards.judge(obs).status is not CardStatus.VALID:
            return []
        badges = self._badges.setdefault((source.site, source.gateway, source.device), [])
        badges.append(source.at)
        del badges[:-BADGES_KEPT]
        signals = []
        for gateway, door in self.book.settings.doors_guarded_by(
            source.site, source.gateway, source.device
        ):
            opened = self._opened.get((source.site, gateway, door))
            rule = self.book.rule(
                RuleName.DOOR_FORCED_OPEN, source.site, gateway, ForcedOpenSettings
            )
            if opened is None or rule is None:
                continue
            if _explains(source.at, opened, timedelta(seconds=rule.window_s)):
                key = AlertKey(RuleName.DOOR_FORCED_OPEN.value, source.site, gateway, door)
                signals += self.book.timed(key, Level.CLEAR, "kartu sah dibaca")
        return signals

    def memos(self) -> list[Memo]:
        """Door openings and recent valid badges."""
        return [
            *(Memo(self.name, "opened", place, at=at) for place, at in self._opened.items()),
            *(
                Memo(self.name, "badge", place, at=at)
                for place, badges in self._badges.items()
                for at in badges
            ),
        ]

    def restore(self, memos: Iterable[Memo]) -> None:
        """Take back openings and badges."""
        self._opened, self._badges = {}, {}
        for memo in memos:
            if memo.at is None or len(memo.subject) != len(("site", "gateway", "device")):
                continue
            place = (memo.subject[0], memo.subject[1], memo.subject[2])
            if memo.kind == "opened":
                self._opened[place] = memo.at
            elif memo.kind == "badge":
                self._badges.setdefault(place, []).append(memo.at)


def _explains(badge: datetime, opened: datetime, window: timedelta) -> bool:
    """Whether a badge at ``badge`` lets a door open at ``opened``."""
    return opened - window <= badge <= opened + timedelta(seconds=BADGE_AFTER_S)
