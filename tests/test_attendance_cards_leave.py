"""Whose tap it is (unknown, reassigned, 24-bit, ambiguous cards) and what leave decides."""

from __future__ import annotations

from datetime import date, time

import pytest

from collector.attendance.cards import CardIndex
from collector.attendance.errors import AttendanceError, RegistryMismatch
from collector.attendance.model import Leave, PartialLeave, RosterEntry, Status, UnknownTap
from collector.attendance.settings import default_leave_kinds
from sandbox.attendance_rules import card_of, compute, person, tap, wita

MONDAY = date(2026, 1, 5)
CLERK = person("clerk")
OTHER = person("other")
CARDS = (card_of("clerk", "0012D687"),)


def test_a_tap_of_an_unknown_card_is_kept_and_listed() -> None:
    taps = [tap("DEADBEEF", wita(MONDAY, 7, 30)), tap("DEADBEEF", wita(MONDAY, 7, 30, 10))]
    results, unknown = compute([MONDAY], taps, [CLERK], CARDS)
    assert results[0].status is Status.TANPA_KETERANGAN
    assert unknown == [UnknownTap(t, MONDAY, (), "Kartu tidak terdaftar") for t in taps]


def test_unknown_taps_belong_to_their_wita_date() -> None:
    late = tap("DEADBEEF", wita(date(2026, 1, 6), 0, 0, 1))  # 16:00:01 UTC on Monday
    assert compute([MONDAY], [late], [CLERK], CARDS)[1] == []
    assert compute([date(2026, 1, 6)], [late], [CLERK], CARDS)[1][0].day == date(2026, 1, 6)


def test_a_card_reassigned_mid_month_keeps_its_past() -> None:
    cards = [
        card_of("clerk", "CAFE0001", date(2026, 1, 1), date(2026, 1, 14)),
        card_of("other", "CAFE0001", date(2026, 1, 15)),
    ]
    days = [date(2026, 1, 14), date(2026, 1, 15)]
    taps = [tap("CAFE0001", wita(day, 7, 30)) for day in days]
    results, unknown = compute(days, taps, [CLERK, OTHER], cards)
    assert unknown == []
    assert [(r.day, r.employee, r.status) for r in results] == [
        (days[0], "clerk", Status.HADIR),
        (days[0], "other", Status.TANPA_KETERANGAN),
        (days[1], "clerk", Status.TANPA_KETERANGAN),
        (days[1], "other", Status.HADIR),
    ]


def test_the_cards_holder_is_decided_by_the_taps_wita_date() -> None:
    cards = [
        card_of("clerk", "CAFE0001", date(2026, 1, 1), date(2026, 1, 5)),
        card_of("guard", "CAFE0001", date(2026, 1, 6)),
    ]
    guard = person("guard", "satpam")
    roster = [RosterEntry("guard", MONDAY, "malam")]
    # The guard's night shift from Monday: his card from Tuesday, by the tap's date.
    taps = [tap("CAFE0001", wita(MONDAY, 20, 30)), tap("CAFE0001", wita(date(2026, 1, 6), 7))]
    results, _ = compute([MONDAY], taps, [CLERK, guard], cards, roster=roster)
    by_key = {r.employee: r for r in results}
    assert by_key["guard"].check_out == wita(date(2026, 1, 6), 7)
    assert by_key["guard"].check_in is None
    assert by_key["clerk"].taps == (taps[0],)  # outside the clerk's window, still listed
    assert by_key["clerk"].status is Status.TANPA_KETERANGAN


def test_24_bit_cards_match_on_the_low_24_bits() -> None:
    index = CardIndex([card_of("clerk", "0012D687", bits=24), card_of("other", "AB34CDEF")])
    assert index.holders("FF12D687", 32, MONDAY) == ("clerk",)
    assert index.holders("0012D687", 24, MONDAY) == ("clerk",)
    assert index.holders("0034CDEF", 24, MONDAY) == ("other",)  # a Wiegand-26 reader
    assert index.holders("0034CDEF", 32, MONDAY) == ()  # all 32 bits known: they differ
    assert index.holders("not-hex!", 32, MONDAY) == ()
    assert index.holders("0012D687", 24, date(2025, 12, 31)) == ()  # before the card was issued


def test_an_ambiguous_card_is_reported_not_guessed() -> None:
    cards = [card_of("clerk", "AB12D687"), card_of("other", "0012D687", bits=24)]
    one = tap("AB12D687", wita(MONDAY, 7, 30))
    results, unknown = compute([MONDAY], [one], [CLERK, OTHER], cards)
    assert [r.status for r in results] == [Status.TANPA_KETERANGAN] * 2
    assert unknown == [
        UnknownTap(
            one,
            MONDAY,
            ("clerk", "other"),
            "Kartu cocok untuk lebih dari satu pegawai: clerk, other",
        )
    ]


def test_a_holder_not_employed_that_day_gets_no_result() -> None:
    retired = person("retired", active=(None, date(2026, 1, 4)))
    one = tap("0012D687", wita(MONDAY, 7, 30))
    results, unknown = compute([MONDAY], [one], [retired], [card_of("retired", "0012D687")])
    assert results == []
    assert unknown == [
        UnknownTap(
            one, MONDAY, ("retired",), "Pemegang kartu (retired) tidak aktif pada tanggal ini"
        )
    ]


def test_a_malformed_registered_card_is_refused() -> None:
    with pytest.raises(
        AttendanceError, match="card of clerk: got uid '12D687'; expected 8 hex digits"
    ):
        CardIndex([card_of("clerk", "12D687")])


def _leave(kind: str, first: date, last: date | None = None, **partial: object) -> Leave:
    return Leave(1, "clerk", kind, first, last or first, **partial)  # type: ignore[arg-type]


def _with_leave(day: date, leave: list[Leave], *times: tuple[int, int, int]) -> tuple[object, ...]:
    taps = [tap("0012D687", wita(day, *hms)) for hms in times]
    result = compute([day], taps, [CLERK], CARDS, leave=leave)[0][0]
    return (
        result.status,
        result.minutes_late,
        result.tl,
        result.minutes_early,
        result.psw,
        result.notes,
    )


@pytest.mark.parametrize("kind", sorted(default_leave_kinds()))
def test_each_leave_kind_decides_the_status_of_a_working_day(kind: str) -> None:
    setting = default_leave_kinds()[kind]
    assert _with_leave(MONDAY, [_leave(kind, MONDAY)]) == (
        setting.status,
        0,
        0,
        0,
        0,
        (setting.label,),
    )


def test_taps_on_a_leave_day_are_shown_without_bands() -> None:
    result = compute(
        [MONDAY],
        [tap("0012D687", wita(MONDAY, 9, 0)), tap("0012D687", wita(MONDAY, 11, 0))],
        [CLERK],
        CARDS,
        leave=[Leave(7, "clerk", "dinas_luar", MONDAY, MONDAY, note="ST 800/12/2026")],
    )[0][0]
    assert (result.status, result.tl, result.psw, result.penalty_pct) == (
        Status.DINAS_LUAR,
        0,
        0,
        0,
    )
    assert (result.check_in, result.check_out, result.worked_minutes) == (
        wita(MONDAY, 9),
        wita(MONDAY, 11),
        120,
    )
    assert result.notes == (
        "Dinas luar (ST 800/12/2026)",
        "Ada tap pada hari Dinas luar (tanpa TL/PSW)",
    )


def test_leave_over_a_weekend_counts_only_working_days() -> None:
    leave = [_leave("cuti_tahunan", date(2026, 1, 9), date(2026, 1, 12))]
    days = [date(2026, 1, d) for d in (9, 10, 11, 12, 13)]
    results, _ = compute(days, [], [CLERK], CARDS, leave=leave)
    assert [(r.status, r.notes) for r in results] == [
        (Status.CUTI, ("Cuti tahunan",)),
        (Status.LIBUR, ("Sabtu", "Cuti tahunan pada hari libur tidak dihitung")),
        (Status.LIBUR, ("Minggu", "Cuti tahunan pada hari libur tidak dihitung")),
        (Status.CUTI, ("Cuti tahunan",)),
        (Status.TANPA_KETERANGAN, ()),
    ]
    holiday = compute(
        [date(2026, 1, 1)], [], [CLERK], CARDS, leave=[_leave("sakit", date(2026, 1, 1))]
    )
    assert holiday[0][0].status is Status.LIBUR


def test_overlapping_leave_uses_the_first_and_says_so() -> None:
    leave = [Leave(2, "clerk", "sakit", MONDAY, MONDAY), Leave(1, "clerk", "izin", MONDAY, MONDAY)]
    assert _with_leave(MONDAY, leave)[::5] == (
        Status.IZIN,
        ("Izin", "Beberapa izin/cuti pada tanggal ini: Izin, Sakit; dipakai: Izin"),
    )


def test_a_late_arrival_permission_moves_the_start() -> None:
    permit = [_leave("izin", MONDAY, partial=PartialLeave.LATE_ARRIVAL, until=time(9))]
    note = ("Izin datang terlambat s.d. 09:00",)
    assert _with_leave(MONDAY, permit, (8, 59, 59), (16, 0, 0)) == (Status.HADIR, 0, 0, 0, 0, note)
    assert _with_leave(MONDAY, permit, (9, 10, 0), (16, 0, 0)) == (Status.HADIR, 10, 1, 0, 0, note)
    # A missing check-in is not excused: without a record nobody knows when they came.
    assert _with_leave(MONDAY, permit, (16, 0, 0))[:5] == (Status.HADIR, 0, 4, 0, 0)
    assert _with_leave(MONDAY, permit)[0] is Status.TANPA_KETERANGAN


def test_an_early_leave_permission_moves_the_end() -> None:
    permit = [_leave("izin", MONDAY, partial=PartialLeave.EARLY_LEAVE, until=time(14))]
    note = ("Izin pulang cepat mulai 14:00",)
    assert _with_leave(MONDAY, permit, (7, 30, 0), (14, 0, 0)) == (Status.HADIR, 0, 0, 0, 0, note)
    assert _with_leave(MONDAY, permit, (7, 30, 0), (13, 59, 0)) == (Status.HADIR, 0, 0, 1, 1, note)


def test_an_early_leave_permission_on_a_night_shift_means_the_next_morning() -> None:
    guard = person("guard", "satpam")
    permit = [Leave(1, "guard", "izin", MONDAY, MONDAY, PartialLeave.EARLY_LEAVE, time(5))]
    taps = [tap("CAFE0001", wita(MONDAY, 19)), tap("CAFE0001", wita(date(2026, 1, 6), 5, 0))]
    result = compute(
        [MONDAY],
        taps,
        [guard],
        [card_of("guard", "CAFE0001")],
        leave=permit,
        roster=[RosterEntry("guard", MONDAY, "malam")],
    )[0][0]
    assert (result.minutes_early, result.psw) == (0, 0)


def test_leave_the_settings_do_not_know_is_refused() -> None:
    with pytest.raises(RegistryMismatch, match="unknown leave kind 'cuti'"):
        _with_leave(MONDAY, [_leave("cuti", MONDAY)])
    with pytest.raises(AttendanceError, match="needs its time"):
        _with_leave(MONDAY, [_leave("izin", MONDAY, partial=PartialLeave.LATE_ARRIVAL)], (8, 0, 0))
