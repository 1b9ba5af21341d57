"""A working day from its taps: check-in/out, rounding, bands, duplicates, shifts, midnight."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from collector.attendance.errors import AttendanceError, RegistryMismatch
from collector.attendance.labels import STATUS_LABELS
from collector.attendance.model import DayResult, RosterEntry, Status, Tap
from collector.attendance.settings import BandSettings, PenaltyRules, UnitSettings
from collector.attendance.windows import tap_range
from sandbox.attendance_rules import card_of, compute, office_settings, person, tap, wita

MONDAY = date(2026, 1, 5)
TUESDAY = date(2026, 1, 6)
FRIDAY = date(2026, 1, 9)
CLERK = person("clerk")
GUARD = person("guard", "satpam")
CARDS = (card_of("clerk", "0012D687"), card_of("guard", "AABBCCDD"))


def _clerk_day(day: date, *times: tuple[int, int, int], **kwargs: object) -> DayResult:
    taps = [tap("0012D687", wita(day, *hms)) for hms in times]
    results, unknown = compute([day], taps, [CLERK], CARDS, **kwargs)  # type: ignore[arg-type]
    assert unknown == []
    assert [r.employee for r in results] == ["clerk"]
    return results[0]


def _bands(result: DayResult) -> tuple[Status, int, int, int, int]:
    return result.status, result.minutes_late, result.tl, result.minutes_early, result.psw


@pytest.mark.parametrize(
    ("check_in", "check_out", "expected"),
    [
        ((7, 30, 59), (16, 0, 0), (Status.HADIR, 0, 0, 0, 0)),
        ((7, 31, 0), (16, 0, 0), (Status.HADIR, 1, 1, 0, 0)),
        ((7, 30, 0), (15, 59, 1), (Status.HADIR, 0, 0, 0, 0)),
        ((7, 30, 0), (15, 59, 0), (Status.HADIR, 0, 0, 1, 1)),
    ],
)
def test_the_rounding_examples(
    check_in: tuple[int, int, int], check_out: tuple[int, int, int], expected: tuple[object, ...]
) -> None:
    assert _bands(_clerk_day(MONDAY, check_in, check_out)) == expected


@pytest.mark.parametrize(
    ("minute_late", "tl"),
    [(30, 1), (31, 2), (60, 2), (61, 3), (90, 3), (91, 4)],
)
def test_late_bands_at_their_edges(minute_late: int, tl: int) -> None:
    arrival = wita(MONDAY, 7, 30) + timedelta(minutes=minute_late, seconds=59)
    result = _clerk_day(MONDAY, (arrival.hour, arrival.minute, 59), (16, 0, 0))
    assert (result.minutes_late, result.tl) == (minute_late, tl)


@pytest.mark.parametrize(
    ("minutes_early", "psw"), [(30, 1), (31, 2), (60, 2), (61, 3), (90, 3), (91, 4)]
)
def test_early_bands_at_their_edges(minutes_early: int, psw: int) -> None:
    leaving = wita(MONDAY, 16) - timedelta(minutes=minutes_early)
    result = _clerk_day(MONDAY, (7, 0, 0), (leaving.hour, leaving.minute, 0))
    assert (result.minutes_early, result.psw) == (minutes_early, psw)


def test_check_in_is_the_first_tap_check_out_the_last() -> None:
    result = _clerk_day(MONDAY, (12, 0, 0), (7, 10, 0), (16, 5, 30))
    assert (result.check_in, result.check_out) == (wita(MONDAY, 7, 10), wita(MONDAY, 16, 5, 30))
    assert result.worked_minutes == 535
    assert len(result.taps) == 3
    assert [t.at for t in result.taps] == sorted(t.at for t in result.taps)


def test_a_single_tap_is_a_check_in_before_the_midpoint_else_a_check_out() -> None:
    morning = _clerk_day(MONDAY, (7, 20, 0))
    assert (morning.check_in, morning.check_out) == (wita(MONDAY, 7, 20), None)
    assert _bands(morning) == (Status.HADIR, 0, 0, 0, 4)
    assert morning.notes == ("Tidak absen pulang",)
    just_before = _clerk_day(MONDAY, (11, 44, 59))
    assert just_before.check_in is not None
    assert just_before.check_out is None
    at_midpoint = _clerk_day(MONDAY, (11, 45, 0))
    assert (at_midpoint.check_in, at_midpoint.check_out) == (None, wita(MONDAY, 11, 45))
    assert _bands(at_midpoint) == (Status.HADIR, 0, 4, 255, 4)
    assert at_midpoint.notes == ("Tidak absen masuk",)
    evening = _clerk_day(MONDAY, (16, 2, 0))
    assert _bands(evening) == (Status.HADIR, 0, 4, 0, 0)
    assert evening.worked_minutes == 0


def test_the_missing_tap_bands_are_configurable() -> None:
    lenient = office_settings(bands=BandSettings(no_check_in=1, no_check_out=0))
    assert _bands(_clerk_day(MONDAY, (16, 2, 0), settings=lenient)) == (Status.HADIR, 0, 1, 0, 0)
    assert _bands(_clerk_day(MONDAY, (7, 2, 0), settings=lenient)) == (Status.HADIR, 0, 0, 0, 0)


def test_no_tap_and_no_leave_is_tk() -> None:
    result = _clerk_day(MONDAY)
    assert _bands(result) == (Status.TANPA_KETERANGAN, 0, 0, 0, 0)
    assert (result.check_in, result.check_out, result.taps) == (None, None, ())


def test_friday_ends_later_and_ramadan_shortens_the_day() -> None:
    assert _bands(_clerk_day(FRIDAY, (7, 30, 0), (16, 0, 0))) == (Status.HADIR, 0, 0, 30, 1)
    ramadan = _clerk_day(date(2026, 3, 5), (8, 0, 30), (15, 0, 0))
    assert _bands(ramadan) == (Status.HADIR, 0, 0, 0, 0)
    assert ramadan.notes == ("Jam kerja Ramadan",)
    assert _bands(_clerk_day(date(2026, 3, 6), (7, 45, 0), (15, 29, 0))) == (
        Status.HADIR,
        0,
        0,
        1,
        1,
    )


def test_taps_on_holidays_cuti_bersama_and_weekends_are_listed_not_counted() -> None:
    new_year = _clerk_day(date(2026, 1, 1), (7, 30, 0), (16, 0, 0))
    assert (new_year.status, new_year.check_in, len(new_year.taps)) == (Status.LIBUR, None, 2)
    assert new_year.notes == (
        "Libur nasional: Tahun Baru 2026 Masehi",
        "Tap pada hari libur tidak dihitung",
    )
    assert _clerk_day(date(2026, 2, 16)).notes == (
        "Cuti bersama: Cuti bersama Tahun Baru Imlek 2577 Kongzili",
    )
    assert _clerk_day(date(2026, 1, 10), (9, 0, 0)).notes == (
        "Sabtu",
        "Tap pada hari libur tidak dihitung",
    )
    desk = person("desk", "layanan")
    results, _ = compute([date(2026, 2, 16)], [], [desk], ())
    assert results[0].status is Status.TANPA_KETERANGAN  # this schedule works cuti bersama


def test_taps_outside_the_window_are_listed_on_their_wita_date() -> None:
    late_night = tap("0012D687", datetime(2026, 1, 5, 15, 59, 59, tzinfo=UTC))  # 23:59:59 WITA
    midnight = tap("0012D687", datetime(2026, 1, 5, 16, tzinfo=UTC))  # 00:00 WITA Tuesday
    results, _ = compute([MONDAY, TUESDAY], [late_night, midnight], [CLERK], CARDS)
    assert [(r.day, r.status, r.taps, r.notes) for r in results] == [
        (
            MONDAY,
            Status.TANPA_KETERANGAN,
            (late_night,),
            ("1 tap di luar jendela absen (tidak dihitung)",),
        ),
        (
            TUESDAY,
            Status.TANPA_KETERANGAN,
            (midnight,),
            ("1 tap di luar jendela absen (tidak dihitung)",),
        ),
    ]


def test_a_night_shift_is_reported_on_the_date_it_starts() -> None:
    roster = [RosterEntry("guard", MONDAY, "malam")]
    taps = [
        tap("AABBCCDD", wita(MONDAY, 19, 10)),
        tap("AABBCCDD", datetime(2026, 1, 5, 16, tzinfo=UTC)),  # 00:00 WITA: a patrol round
        tap("AABBCCDD", wita(TUESDAY, 7, 5)),
    ]
    results, _ = compute([MONDAY, TUESDAY], taps, [GUARD], CARDS, roster=roster)
    night, tuesday = results
    assert (night.day, night.check_in, night.check_out) == (
        MONDAY,
        wita(MONDAY, 19, 10),
        wita(TUESDAY, 7, 5),
    )
    assert _bands(night) == (Status.HADIR, 10, 1, 0, 0)
    assert (night.worked_minutes, len(night.taps)) == (715, 3)
    assert (tuesday.status, tuesday.taps, tuesday.notes) == (
        Status.LIBUR,
        (),
        ("Tidak ada jadwal shift",),
    )


def test_a_forgotten_check_out_is_never_the_next_mornings() -> None:
    # Odoo's toggle check-in turns it into the next morning's check-out (odoo#29645).
    results, _ = compute(
        [MONDAY, TUESDAY],
        [tap("0012D687", wita(MONDAY, 7, 20)), tap("0012D687", wita(TUESDAY, 7, 25))],
        [CLERK],
        CARDS,
    )
    assert [(r.check_in, r.check_out, r.psw) for r in results] == [
        (wita(MONDAY, 7, 20), None, 4),
        (wita(TUESDAY, 7, 25), None, 4),
    ]
    # A guard off a night shift and on the next day shift: the overlap splits at 07:00.
    roster = [RosterEntry("guard", MONDAY, "malam"), RosterEntry("guard", TUESDAY, "pagi")]
    taps = [tap("AABBCCDD", wita(MONDAY, 18, 55)), tap("AABBCCDD", wita(TUESDAY, 7, 1))]
    results, _ = compute([MONDAY, TUESDAY], taps, [GUARD], CARDS, roster=roster)
    assert [(r.check_in, r.check_out) for r in results] == [
        (wita(MONDAY, 18, 55), None),
        (wita(TUESDAY, 7, 1), None),
    ]


def test_duplicates_the_first_of_a_burst_is_kept() -> None:
    burst = [
        tap("0012D687", wita(MONDAY, 7, 30)),
        tap("0012D687", wita(MONDAY, 7, 30, 40), reader="side-door"),
        tap("0012D687", wita(MONDAY, 7, 31), gateway="gw-2"),
    ]
    results, _ = compute([MONDAY], burst, [CLERK], CARDS)
    assert (results[0].check_in, results[0].check_out, results[0].psw) == (
        wita(MONDAY, 7, 30),
        None,
        4,
    )
    assert len(results[0].taps) == 3  # duplicates are listed
    # The window counts from the last tap kept, not the last seen.
    chain = [*burst, tap("0012D687", wita(MONDAY, 7, 31, 30))]
    assert compute([MONDAY], chain, [CLERK], CARDS)[0][0].check_out == wita(MONDAY, 7, 31, 30)
    no_window = office_settings(duplicate_window_s=0)
    result = compute([MONDAY], burst[:2], [CLERK], CARDS, settings=no_window)[0][0]
    assert result.check_out == wita(MONDAY, 7, 30, 40)


def test_only_attendance_readers_count() -> None:
    settings = office_settings(readers={"exclude": [{"gateway": "gw-server", "reader": "door"}]})
    taps = [
        tap("0012D687", wita(MONDAY, 7, 30), gateway="gw-server", reader="door"),
        tap("FFFFFFFF", wita(MONDAY, 7, 30), gateway="gw-server", reader="door"),
    ]
    results, unknown = compute([MONDAY], taps, [CLERK], CARDS, settings=settings)
    assert (results[0].status, results[0].taps, unknown) == (Status.TANPA_KETERANGAN, (), [])


def test_penalties_follow_the_rule_set_in_force_that_day() -> None:
    settings = office_settings(
        penalties=[
            PenaltyRules(
                valid_from=date(2026, 3, 1), tl_pct=(1, 2, 3, 4), absent_pct=3, daily_cap_pct=4
            ),
            PenaltyRules(
                valid_from=date(2026, 1, 1), tl_pct=(0.5, 1, 1.5, 2), psw_pct=(0.5, 1, 1.5, 2)
            ),
        ]
    )
    february, march = date(2026, 2, 13), date(2026, 3, 2)  # a Friday; in Ramadan
    assert _clerk_day(february, (7, 40, 0), (16, 30, 0), settings=settings).penalty_pct == 0.5
    assert _clerk_day(march, (8, 10, 0), (15, 0, 0), settings=settings).penalty_pct == 1.0
    assert _clerk_day(march, (11, 0, 0), settings=settings).penalty_pct == 4.0  # TL4 + PSW4 capped
    assert _clerk_day(march, settings=settings).penalty_pct == 3.0
    assert _clerk_day(date(2025, 12, 30), settings=settings).penalty_pct == 0


def test_a_unit_may_override_bands() -> None:
    settings = office_settings(
        units={
            "diskominfo": UnitSettings(
                name="D", grace_min=5, bands=BandSettings(late_min=(5, 10, 15))
            )
        }
    )
    assert _bands(_clerk_day(MONDAY, (7, 35, 59), (16, 0, 0), settings=settings)) == (
        Status.HADIR,
        0,
        0,
        0,
        0,
    )
    assert _bands(_clerk_day(MONDAY, (7, 46, 0), (16, 0, 0), settings=settings)) == (
        Status.HADIR,
        11,
        3,
        0,
        0,
    )


def test_taps_from_a_suspect_clock_are_counted_and_noted() -> None:
    taps = [
        tap("0012D687", wita(MONDAY, 7, 30), gateway="gw-2", suspect=True),
        tap("0012D687", wita(MONDAY, 16, 1, 5), gateway="gw-2", suspect=True),
    ]
    result = compute([MONDAY], taps, [CLERK], CARDS)[0][0]
    assert result.status is Status.HADIR
    assert result.notes == ("Jam gateway gw-2 diragukan: tap 07:30:00, 16:01:05 WITA",)


def test_registry_values_the_settings_lack_are_refused() -> None:
    with pytest.raises(RegistryMismatch, match="unknown unit 'keuangan'"):
        compute([MONDAY], [], [person("x", "keuangan")], ())
    with pytest.raises(AttendanceError, match="'x' is given for two employees"):
        compute([MONDAY], [], [person("x"), person("x", "satpam")], ())
    roster = [RosterEntry("guard", MONDAY, "pagi"), RosterEntry("guard", MONDAY, "malam")]
    with pytest.raises(AttendanceError, match="has two shifts, 'pagi' and 'malam'"):
        compute([MONDAY], [], [GUARD], (), roster=roster)


def test_a_day_is_the_same_from_the_taps_of_its_range_or_from_more() -> None:
    every = [tap("0012D687", wita(MONDAY, 7, 0) + timedelta(hours=h)) for h in range(-30, 60, 3)]
    start, end = tap_range([MONDAY], office_settings())
    in_range = [t for t in every if start <= t.at < end]
    assert len(in_range) < len(every)
    assert compute([MONDAY], in_range, [CLERK], CARDS) == compute([MONDAY], every, [CLERK], CARDS)


def test_computing_twice_gives_equal_results_sorted_by_date_and_employee() -> None:
    taps: list[Tap] = [tap("0012D687", wita(d, 7, 30)) for d in (MONDAY, TUESDAY)]
    first = compute([TUESDAY, MONDAY], taps, [GUARD, CLERK], CARDS)
    assert first == compute([MONDAY, TUESDAY], list(reversed(taps)), [CLERK, GUARD], CARDS)
    assert [(r.day, r.employee) for r in first[0]] == [
        (MONDAY, "clerk"), (MONDAY, "guard"), (TUESDAY, "clerk"), (TUESDAY, "guard"),
    ]  # fmt: skip


def test_every_status_has_its_indonesian_label() -> None:
    assert set(STATUS_LABELS) == set(Status)
    assert (STATUS_LABELS[Status.TANPA_KETERANGAN], STATUS_LABELS[Status.LIBUR]) == (
        "Tanpa keterangan",
        "Libur",
    )
