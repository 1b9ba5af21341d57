"""Working-time schedules as configuration data: office hours by weekday, and shifts.

Two kinds, told apart by ``kind``:

- ``office`` (the default): fixed hours per weekday, other hours during Ramadan, one tap
  window per day (``05:30``-``20:00`` WITA by default) and a grace period. A weekday left
  out is a day off: Saturday and Sunday, unless the schedule lists them. Hours never
  cross midnight (that is a shift).
- ``shift``: named shifts (``pagi`` 07:00-19:00, ``malam`` 19:00-07:00) assigned per date
  by the roster. A shift whose end is at or before its start ends the next day, and is
  reported on the date it starts. Its tap window opens ``window_before_min`` before the
  start and closes ``window_after_min`` after the end (2 h and 4 h by default).

Times of day are WITA and written in quotes (``"07:30"``): YAML 1.1 reads an unquoted
``19:00`` as the number 1140 (base 60), which is refused with a hint rather than taken
for 00:19.
"""

from __future__ import annotations

import re
from datetime import time, timedelta
from enum import StrEnum
from typing import Annotated, Final, Literal, TypeVar

from pydantic import BeforeValidator, Discriminator, Field, Tag, model_validator
from pydantic_core import PydanticCustomError

from pelangi.configfile import StrictModel

_CLOCK = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9])?$")
MAX_WINDOW_MIN: Final = 12 * 60
"""Longest a shift's tap window may reach before its start or after its end. With shifts
of at most 24 h this bounds how many neighbouring days a tap may belong to
(:data:`collector.attendance.calendar.REACH_DAYS`)."""


def _clock_time(value: object) -> object:
    if isinstance(value, time):
        return value
    if isinstance(value, bool | int | float):
        raise PydanticCustomError(
            "clock_time",
            "a time of day in quotes, e.g. '07:30' (YAML reads 19:00 without quotes as a number)",
        )
    if not isinstance(value, str) or not _CLOCK.match(value):
        raise PydanticCustomError("clock_time", "a time of day HH:MM or HH:MM:SS, e.g. '07:30'")
    return time.fromisoformat(value)


ClockTime = Annotated[time, BeforeValidator(_clock_time)]
"""A WITA time of day without a zone, written ``"HH:MM"`` or ``"HH:MM:SS"``."""
Minutes = Annotated[int, Field(ge=0, le=MAX_WINDOW_MIN)]
Name = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]
"""A schedule, shift or leave kind name: lower case, digits, ``_`` and ``-``."""
OFF: Final = "off"
"""The roster's shift name for a rostered day off; no shift may be called so."""


class Weekday(StrEnum):
    """A day of the week as configuration writes it; ordered as :meth:`date.weekday`."""

    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"

    @classmethod
    def of(cls, index: int) -> Weekday:
        """The weekday of :meth:`datetime.date.weekday` ``index`` (0 is Monday)."""
        return list(cls)[index]

    @property
    def label(self) -> str:
        """The day's name in Bahasa Indonesia (for notes and reports)."""
        return _LABELS[self]


_LABELS: Final = dict(
    zip(Weekday, ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"), strict=True)
)


_Ordered = TypeVar("_Ordered", "Hours", "TapWindow")


def _in_order(model: _Ordered, first: str, then: str, why: str) -> _Ordered:
    """``model``, if its time ``then`` is after its time ``first`` (both of one day)."""
    earlier, later = getattr(model, first), getattr(model, then)
    if later <= earlier:
        raise ValueError(f"{then} ({later:%H:%M}) must be after {first} ({earlier:%H:%M}); {why}")
    return model


class Hours(StrictModel):
    """Working hours of one day (WITA), start before end."""

    start: ClockTime
    end: ClockTime

    @model_validator(mode="after")
    def _start_before_end(self) -> Hours:
        return _in_order(self, "start", "end", "office hours do not cross midnight (use a shift)")


def _expand_days(value: object) -> object:
    """``{"mon-thu": h, "fri": h2}`` -> one key per weekday; a day given twice is refused."""
    if not isinstance(value, dict):
        return value
    days = list(Weekday)
    expanded: dict[object, object] = {}
    for key, hours in value.items():
        first, _, last = str(key).partition("-")
        if first not in days or (last and last not in days):
            raise PydanticCustomError(
                "weekday",
                "weekdays mon..sun or a range like 'mon-thu', got {key}",
                {"key": repr(key)},
            )
        span = days[days.index(Weekday(first)) : days.index(Weekday(last or first)) + 1]
        if not span:
            raise PydanticCustomError(
                "weekday", "a range from an earlier to a later day, got {key}", {"key": repr(key)}
            )
        for day in span:
            if day in expanded:
                raise PydanticCustomError(
                    "weekday", "each weekday once, got {day} twice", {"day": day.value}
                )
            expanded[day] = hours
    return expanded


WeekHours = Annotated[dict[Weekday, Hours], BeforeValidator(_expand_days)]


def since_midnight(moment: time) -> timedelta:
    """A time of day as the span since 00:00."""
    return timedelta(hours=moment.hour, minutes=moment.minute, seconds=moment.second)


def _week(mon_thu: str, fri: str) -> dict[Weekday, Hours]:
    """Mon-Thu and Fri hours from ``"07:30-16:00"`` forms."""
    first, friday = (
        Hours(start=time.fromisoformat(text[:5]), end=time.fromisoformat(text[6:]))
        for text in (mon_thu, fri)
    )
    return dict.fromkeys((Weekday.MON, Weekday.TUE, Weekday.WED, Weekday.THU), first) | {
        Weekday.FRI: friday
    }


class TapWindow(StrictModel):
    """When an office day's taps count: from ``opens`` to before ``closes`` (WITA)."""

    opens: ClockTime = time(5, 30)
    closes: ClockTime = time(20, 0)

    @model_validator(mode="after")
    def _opens_before_closes(self) -> TapWindow:
        return _in_order(self, "opens", "closes", "an office day's window stays within its date")


class OfficeSchedule(StrictModel):
    """Fixed office hours by weekday (default: the commonly applied ASN pattern)."""

    kind: Literal["office"] = "office"
    hours: WeekHours = Field(
        default_factory=lambda: _week("07:30-16:00", "07:30-16:30"),
        description="weekday (or range, 'mon-thu') -> start and end; days left out are off",
    )
    ramadan_hours: WeekHours = Field(
        default_factory=lambda: _week("08:00-15:00", "08:00-15:30"),
        description="the same, on the dates of `ramadan`",
    )
    window: TapWindow = Field(default_factory=TapWindow)
    grace_min: Annotated[int, Field(ge=0, le=240)] = Field(
        default=0, description="minutes after the start that are not yet late"
    )
    off_on_holidays: bool = True
    off_on_cuti_bersama: bool = True

    @model_validator(mode="after")
    def _hours_inside_the_window(self) -> OfficeSchedule:
        opens, closes = self.window.opens, self.window.closes
        for key, week in (("hours", self.hours), ("ramadan_hours", self.ramadan_hours)):
            for day, hours in week.items():
                if hours.start < opens or hours.end > closes:
                    raise ValueError(
                        f"{key}.{day}: {hours.start:%H:%M}-{hours.end:%H:%M} must lie inside the "
                        f"tap window {opens:%H:%M}-{closes:%H:%M} (window.opens, window.closes)"
                    )
        return self


class Shift(StrictModel):
    """One shift; an ``end`` at or before ``start`` is on the next day."""

    start: ClockTime
    end: ClockTime

    @property
    def length(self) -> timedelta:
        """How long the shift lasts (24 h when ``end`` equals ``start``)."""
        length = since_midnight(self.end) - since_midnight(self.start)
        return length if length > timedelta(0) else length + timedelta(days=1)


class ShiftSchedule(StrictModel):
    """Named shifts assigned per date by the roster (security guards, etc.)."""

    kind: Literal["shift"]
    shifts: dict[Name, Shift] = Field(min_length=1)
    window_before_min: Minutes = Field(default=120, description="window opens this long before")
    window_after_min: Minutes = Field(default=240, description="window closes this long after")
    grace_min: Annotated[int, Field(ge=0, le=240)] = 0
    off_on_holidays: bool = Field(
        default=False, description="a holiday is off even when rostered (default: roster decides)"
    )
    off_on_cuti_bersama: bool = False

    @model_validator(mode="after")
    def _off_is_reserved(self) -> ShiftSchedule:
        if OFF in self.shifts:
            raise ValueError(f"shifts: {OFF!r} is the roster's day off, not a shift name")
        return self


def _kind_of(value: object) -> str:
    kind = value.get("kind", "office") if isinstance(value, dict) else getattr(value, "kind", None)
    # The "[...]" form marks a union step, which configfile's error lines leave out.
    return f"kind[{kind}]"


Schedule = Annotated[
    Annotated[OfficeSchedule, Tag("kind[office]")] | Annotated[ShiftSchedule, Tag("kind[shift]")],
    Discriminator(
        _kind_of,
        custom_error_type="schedule_kind",
        custom_error_message="kind: 'office' (the default) or 'shift'",
    ),
]
"""An office or a shift schedule (``kind``: ``office`` when left out)."""


def default_schedules() -> dict[str, OfficeSchedule | ShiftSchedule]:
    """``kantor`` (the ASN office pattern) and ``shift`` (``pagi`` and ``malam``, 12 h each)."""
    return {
        "kantor": OfficeSchedule(),
        "shift": ShiftSchedule(
            kind="shift",
            shifts={
                "pagi": Shift(start=time(7), end=time(19)),
                "malam": Shift(start=time(19), end=time(7)),
            },
        ),
    }
