"""Properties of the rules over random taps: order, duplicates, taps inside a day, ranges.

The taps cluster around the instants where rules change their mind (07:30, the midpoint,
16:00, a night shift's 19:00 and 07:00, midnight WITA = 16:00 UTC), on a clerk (office
hours), a guard (random roster) and a desk officer whose card is known by 24 bits.

One property the issue states needs a precise reading: a tap added *between* check-in and
check-out changes nothing **if it is no duplicate and makes none**, i.e. it comes more than
``duplicate_window_s`` from every tap of that employee. Closer to the check-out it would
be kept and turn the check-out into its duplicate, moving the check-out back by up to
``duplicate_window_s`` (the rule "first of a burst is kept" says so): no definition can keep
both that and "a duplicate changes nothing" for every tap.
"""

from __future__ import annotations

from dataclasses import astuple
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from collector.attendance.duplicates import in_order, kept
from collector.attendance.model import DayResult, Leave, PartialLeave, RosterEntry, Status, Tap
from collector.attendance.rules import RegistryValues, compute_day
from collector.attendance.settings import PenaltyRules
from collector.attendance.windows import tap_range
from sandbox.attendance_rules import (
    card_of,
    compute,
    office_calendar,
    office_settings,
    person,
    tap,
    wita,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from collector.attendance.model import UnknownTap

SETTINGS = office_settings(
    penalties=[
        PenaltyRules(
            valid_from=date(2026, 1, 1),
            tl_pct=(0.5, 1, 1.5, 2),
            psw_pct=(0.5, 1, 1.5, 2),
            absent_pct=3,
        )
    ]
)
CALENDAR = office_calendar(SETTINGS)
WINDOW = timedelta(seconds=SETTINGS.duplicate_window_s)
DAYS = (date(2026, 1, 5), date(2026, 1, 6))
EMPLOYEES = (person("clerk"), person("guard", "satpam"), person("desk", "layanan"))
CARDS = (
    card_of("clerk", "0012D687"),
    card_of("guard", "AABBCCDD"),
    card_of("desk", "0000BEEF", bits=24),
)
HOLDER = {"0012D687": "clerk", "AABBCCDD": "guard", "7700BEEF": "desk", "0000BEEF": "desk"}
UIDS = (*HOLDER, "DEADBEEF")
LEAVE = (Leave(1, "clerk", "izin", DAYS[0], DAYS[0], PartialLeave.LATE_ARRIVAL, time(9)),)
ANCHORS = ((7, 30), (11, 45), (16, 0), (19, 0), (7, 0), (0, 0), (5, 30), (20, 0), (11, 0))
FUZZ = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=100)
"""Peers' test runs share the CPUs: generation speed is not what is checked here."""
QUICK = settings(FUZZ, max_examples=50)
"""For properties the example tests cover too: half the examples keep the suite fast."""


@st.composite
def _instants(draw: st.DrawFn) -> datetime:
    day = draw(st.sampled_from((date(2026, 1, 4), *DAYS, date(2026, 1, 7))))
    if draw(st.booleans()):
        hour, minute = draw(st.sampled_from(ANCHORS))
        return wita(day, hour, minute) + timedelta(seconds=draw(st.integers(-120, 120)))
    return wita(day) + timedelta(seconds=draw(st.integers(0, 86_399)))


@st.composite
def _taps(draw: st.DrawFn) -> Tap:
    uid = draw(st.sampled_from(UIDS))
    return tap(
        uid,
        draw(_instants()),
        reader=draw(st.sampled_from(["lobby", "side"])),
        gateway=draw(st.sampled_from(["gw-1", "gw-2"])),
        bits=24 if uid == "0000BEEF" else 32,
        suspect=draw(st.booleans()),
    )


_ROSTERS = st.lists(st.sampled_from([None, "off", "pagi", "malam"]), min_size=4, max_size=4).map(
    lambda shifts: tuple(
        RosterEntry("guard", date(2026, 1, 4) + timedelta(days=n), shift)
        for n, shift in enumerate(shifts)
        if shift is not None
    )
)


@st.composite
def _bursts(draw: st.DrawFn) -> list[Tap]:
    """A tap, and maybe the same card again and again a few seconds to a minute and a half apart."""
    first = draw(_taps())
    taps = [first]
    for gap in draw(
        st.lists(st.integers(1, 90) | st.sampled_from([59, 60, 61, 75, 90]), max_size=4)
    ):
        taps.append(tap(first.uid, taps[-1].at + timedelta(seconds=gap), bits=first.bits))
    return taps


_DAYS = st.lists(_bursts(), max_size=12).map(lambda bursts: [t for burst in bursts for t in burst])


def _run(
    taps: Sequence[Tap], roster: Sequence[RosterEntry]
) -> tuple[list[DayResult], list[UnknownTap]]:
    return compute(
        DAYS,
        taps,
        EMPLOYEES,
        CARDS,
        leave=LEAVE,
        roster=roster,
        settings=SETTINGS,
        calendar=CALENDAR,
    )


def _core(results: Sequence[DayResult]) -> list[tuple[object, ...]]:
    """Everything a recap shows but the taps listed and the notes about them."""
    return [astuple(result)[:12] for result in results]


@QUICK
@given(_DAYS, _ROSTERS, st.randoms(use_true_random=False))
def test_results_never_depend_on_the_order_of_the_taps(
    taps: list[Tap], roster: tuple[RosterEntry, ...], random: object
) -> None:
    shuffled = list(taps)
    random.shuffle(shuffled)  # type: ignore[attr-defined]
    assert _run(shuffled, roster) == _run(taps, roster)


@FUZZ
@given(_DAYS, _ROSTERS, st.data())
def test_a_duplicate_never_changes_a_result(
    taps: list[Tap], roster: tuple[RosterEntry, ...], data: st.DataObject
) -> None:
    holders = {HOLDER[t.uid] for t in taps if t.uid in HOLDER}
    kept_taps = [
        t
        for holder in sorted(holders)
        for t, keep in kept(in_order(t for t in taps if HOLDER.get(t.uid) == holder), WINDOW)
        if keep
    ]
    assume(kept_taps)
    original = data.draw(st.sampled_from(kept_taps))
    seconds = st.floats(0.001, WINDOW.total_seconds()) | st.sampled_from([1.0, 30.0, 59.5, 60.0])
    offset = timedelta(seconds=data.draw(seconds))
    duplicate = tap(
        original.uid,
        original.at + offset,
        reader=data.draw(st.sampled_from(["lobby", "side"])),
        bits=original.bits,
        suspect=data.draw(st.booleans()),
    )
    before, unknown_before = _run(taps, roster)
    after, unknown_after = _run([*taps, duplicate], roster)
    assert _core(after) == _core(before)
    assert unknown_after == unknown_before


@QUICK
@given(_DAYS, _ROSTERS, st.data())
def test_a_tap_between_check_in_and_check_out_changes_nothing(
    taps: list[Tap], roster: tuple[RosterEntry, ...], data: st.DataObject
) -> None:
    # A worked day of the clerk or the desk officer, among the random taps.
    uid = data.draw(st.sampled_from(["0012D687", "7700BEEF"]))
    worked = data.draw(st.sampled_from(DAYS))
    arrive = wita(worked, 7) + timedelta(seconds=data.draw(st.integers(0, 3 * 3600)))
    leave = wita(worked, 14) + timedelta(seconds=data.draw(st.integers(0, 3 * 3600)))
    taps = [*taps, tap(uid, arrive), tap(uid, leave)]
    before, unknown = _run(taps, roster)
    covered = [r for r in before if r.status is Status.HADIR and r.check_in and r.check_out]
    assume(covered)
    day = data.draw(st.sampled_from(covered))
    assert day.check_in is not None
    assert day.check_out is not None
    span = (day.check_out - day.check_in).total_seconds()
    at = day.check_in + timedelta(
        seconds=data.draw(st.floats(0.001, span - 0.001)) if span > 0.002 else 0
    )
    theirs = [t for t in taps if HOLDER.get(t.uid) == day.employee]
    assume(day.check_in < at < day.check_out)
    assume(all(abs(at - t.at) > WINDOW for t in theirs))
    uid = next(u for u, holder in HOLDER.items() if holder == day.employee)
    after, unknown_after = _run([*taps, tap(uid, at)], roster)
    assert _core(after) == _core(before)
    assert unknown_after == unknown
    assert (
        len(next(r for r in after if (r.day, r.employee) == (day.day, day.employee)).taps)
        == len(day.taps) + 1
    )


@QUICK
@given(_DAYS, _ROSTERS)
def test_dates_computed_together_or_one_by_one_agree_and_repeat(
    taps: list[Tap], roster: tuple[RosterEntry, ...]
) -> None:
    together = _run(taps, roster)
    registry = RegistryValues(EMPLOYEES, CARDS, LEAVE, roster)
    alone = [compute_day(day, taps, registry, CALENDAR, SETTINGS) for day in DAYS]
    assert together[0] == [r for results, _ in alone for r in results]
    assert together[1] == [u for _, unknown in alone for u in unknown]
    assert _run(taps, roster) == together


@QUICK
@given(_DAYS, _ROSTERS)
def test_taps_beyond_a_dates_tap_range_change_nothing(
    taps: list[Tap], roster: tuple[RosterEntry, ...]
) -> None:
    registry = RegistryValues(EMPLOYEES, CARDS, LEAVE, roster)
    for day in DAYS:
        start, end = tap_range([day], SETTINGS)
        in_range = [t for t in taps if start <= t.at < end]
        assert compute_day(day, in_range, registry, CALENDAR, SETTINGS) == compute_day(
            day, taps, registry, CALENDAR, SETTINGS
        )
