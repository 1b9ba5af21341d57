"""Attendance settings: the ASN defaults, per-unit overrides, and errors a technician can act on."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from collector.attendance.errors import RegistryMismatch
from collector.attendance.model import Employee, Status, Tap
from collector.attendance.schedules import OfficeSchedule, ShiftSchedule, Weekday
from collector.attendance.settings import (
    AttendanceSettings,
    PenaltyRules,
    UnitSettings,
    rules_in_force,
)
from collector.config import CollectorSettings
from pelangi.configfile import load, parse
from pelangi.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parent.parent / "config" / "attendance.example.yaml"


def _problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse(text, AttendanceSettings)
    return caught.value.problems


def _office(settings: AttendanceSettings, name: str = "kantor") -> OfficeSchedule:
    schedule = settings.schedules[name]
    assert isinstance(schedule, OfficeSchedule)
    return schedule


def test_the_example_validates() -> None:
    # The section as the collector's own configuration file holds it.
    settings = load(EXAMPLE, CollectorSettings).attendance
    assert settings.units["satpam"].schedule == "shift"
    assert settings.readers.exclude[0].reader == "rfid-pintu"
    assert settings.penalties[0].tl_pct == (0.5, 1, 1.5, 2)
    assert Weekday.SAT in _office(settings, "pelayanan").hours
    assert settings.leave_kinds["diklat"].status is Status.DINAS_LUAR


def test_defaults_are_the_asn_pattern() -> None:
    settings = AttendanceSettings()
    kantor = _office(settings)
    assert {d: (h.start, h.end) for d, h in kantor.hours.items()} == {
        Weekday.MON: (time(7, 30), time(16)),
        Weekday.TUE: (time(7, 30), time(16)),
        Weekday.WED: (time(7, 30), time(16)),
        Weekday.THU: (time(7, 30), time(16)),
        Weekday.FRI: (time(7, 30), time(16, 30)),
    }
    assert kantor.ramadan_hours[Weekday.THU].end == time(15)
    assert kantor.ramadan_hours[Weekday.FRI].end == time(15, 30)
    assert (kantor.window.opens, kantor.window.closes) == (time(5, 30), time(20))
    assert kantor.grace_min == 0
    shift = settings.schedules["shift"]
    assert isinstance(shift, ShiftSchedule)
    assert (shift.window_before_min, shift.window_after_min) == (120, 240)
    assert shift.shifts["malam"].length.total_seconds() == 12 * 3600
    assert settings.duplicate_window_s == 60
    assert settings.bands.late_min == (30, 60, 90)
    assert (settings.bands.no_check_in, settings.bands.no_check_out) == (4, 4)
    assert settings.penalties == []
    assert {kind: k.status for kind, k in settings.leave_kinds.items()} == {
        "izin": Status.IZIN,
        "sakit": Status.SAKIT,
        "cuti_tahunan": Status.CUTI,
        "cuti_besar": Status.CUTI,
        "cuti_sakit": Status.CUTI,
        "cuti_melahirkan": Status.CUTI,
        "cuti_alasan_penting": Status.CUTI,
        "cuti_luar_tanggungan": Status.CUTI,
        "dinas_luar": Status.DINAS_LUAR,
        "tugas_belajar": Status.TUGAS_BELAJAR,
    }


def test_an_unquoted_time_is_refused_with_the_reason() -> None:
    text = (
        "schedules:\n  s:\n    kind: shift\n    shifts:\n      malam: {start: 19:00, end: '07:00'}"
    )
    assert _problems(text) == [
        (
            "schedules.s.shifts.malam.start: got 1140; expected: a time of day in quotes, e.g. "
            "'07:30' (YAML reads 19:00 without quotes as a number)"
        )
    ]


def test_weekday_ranges_expand_and_overlaps_are_refused() -> None:
    settings = parse(
        "schedules:\n  k:\n    hours:\n      mon-wed: {start: '08:00', end: '15:00'}\n"
        "      sat: {start: '08:00', end: '12:00'}\n",
        AttendanceSettings,
    )
    assert set(_office(settings, "k").hours) == {Weekday.MON, Weekday.TUE, Weekday.WED, Weekday.SAT}
    hours = "{start: '08:00', end: '15:00'}"
    assert _problems(f"schedules:\n  k:\n    hours:\n      mon-wed: {hours}\n      wed: {hours}\n")[
        0
    ].endswith("; expected: each weekday once, got wed twice")
    assert _problems(f"schedules:\n  k:\n    hours:\n      fri-mon: {hours}\n") == [
        (
            "schedules.k.hours: got {'fri-mon': {'start': '08:00', 'end': '15:00'}}; expected: "
            "a range from an earlier to a later day, got 'fri-mon'"
        )
    ]
    assert _problems(f"schedules:\n  k:\n    hours:\n      monday: {hours}\n")[0].endswith(
        "expected: weekdays mon..sun or a range like 'mon-thu', got 'monday'"
    )


def test_office_hours_must_fit_the_window_and_not_cross_midnight() -> None:
    assert _problems("schedules:\n  k:\n    window: {opens: '07:45', closes: '20:00'}\n") == [
        (
            "schedules.k: hours.mon: 07:30-16:00 must lie inside the tap window 07:45-20:00 "
            "(window.opens, window.closes)"
        )
    ]
    problems = _problems(
        "schedules:\n  k:\n    hours:\n      mon: {start: '22:00', end: '06:00'}\n"
    )
    assert problems == [
        (
            "schedules.k.hours.mon: end (06:00) must be after start (22:00); office hours do not "
            "cross midnight (use a shift)"
        )
    ]


def test_a_unit_must_name_a_known_schedule() -> None:
    assert _problems("units:\n  keu:\n    name: Keuangan\n    schedule: shif\n") == [
        "(top level): units.keu.schedule: got 'shif'; expected one of the schedules: kantor, shift"
    ]


def test_leave_kinds_give_leave_statuses_only() -> None:
    assert _problems("leave_kinds:\n  x: {status: H, label: X}\n") == [
        (
            "leave_kinds.x: status: got 'H'; expected one of C, DL, I, S, TB (H, TK and libur are "
            "decided by the taps and the calendar)"
        )
    ]


def test_bands_must_increase() -> None:
    assert _problems("bands:\n  late_min: [30, 30, 90]\n") == [
        (
            "bands: late_min: got [30, 30, 90]; expected three increasing minute counts, e.g. "
            "[30, 60, 90]"
        )
    ]


def test_ramadan_ranges_and_rule_sets_are_checked() -> None:
    text = (
        "ramadan:\n  - {first: 2026-02-19, last: 2026-03-20}\n"
        "  - {first: 2026-03-01, last: 2026-03-02}\n"
        "penalties:\n  - {valid_from: 2026-01-01}\n  - {valid_from: 2026-01-01}\n"
    )
    assert _problems(text) == [
        (
            "(top level): ramadan: 2026-03-01..2026-03-02 overlaps 2026-02-19..2026-03-20; "
            "expected separate date ranges; penalties[1].valid_from: got 2026-01-01, already "
            "the valid_from of another rule set; expected one rule set per date"
        )
    ]
    assert _problems("ramadan:\n  - {first: 2026-03-20, last: 2026-02-19}\n") == [
        "ramadan[0]: last (2026-02-19) must not be before first (2026-03-20)"
    ]


def test_off_is_not_a_shift_name() -> None:
    text = "schedules: {s: {kind: shift, shifts: {'off': {start: '07:00', end: '09:00'}}}}"
    assert _problems(text) == [
        "schedules.s: shifts: 'off' is the roster's day off, not a shift name"
    ]


def test_unknown_keys_and_kinds_are_refused() -> None:
    assert _problems("schedules:\n  k:\n    kind: rota\n") == [
        "schedules.k: got {'kind': 'rota'}; expected: kind: 'office' (the default) or 'shift'"
    ]
    assert _problems("duplicate_window: 30\n") == [
        "duplicate_window: unknown key (check the spelling and the indentation)"
    ]


def test_the_rule_set_in_force_is_the_latest_started() -> None:
    january = PenaltyRules(valid_from=date(2026, 1, 1), absent_pct=3)
    april = PenaltyRules(valid_from=date(2026, 4, 1), absent_pct=5)
    assert rules_in_force([april, january], date(2025, 12, 31)) is None
    assert rules_in_force([april, january], date(2026, 3, 31)) == january
    assert rules_in_force([april, january], date(2026, 4, 1)) == april


def test_units_override_grace_bands_and_penalties() -> None:
    settings = parse(
        "units:\n  a: {name: A, grace_min: 10, bands: {late_min: [5, 10, 15]},"
        " penalties: [{valid_from: 2026-01-01, absent_pct: 5}]}\n  b: {name: B}\n"
        "penalties: [{valid_from: 2026-01-01, absent_pct: 2}]\n",
        AttendanceSettings,
    )
    kantor = _office(settings)
    assert (settings.grace_min("a", kantor), settings.grace_min("b", kantor)) == (10, 0)
    assert settings.bands_for("a").late_min == (5, 10, 15)
    assert settings.bands_for("b").late_min == (30, 60, 90)
    in_force = [settings.penalties_on(unit, date(2026, 2, 1)) for unit in "ab"]
    assert [rules.absent_pct if rules else None for rules in in_force] == [5, 2]


def test_the_schedule_is_the_employees_else_the_units() -> None:
    settings = AttendanceSettings(units={"satpam": UnitSettings(name="Satpam", schedule="shift")})
    assert settings.schedule_of(Employee("g", "G", "satpam"))[0] == "shift"
    assert settings.schedule_of(Employee("g", "G", "satpam", schedule="kantor"))[0] == "kantor"
    with pytest.raises(RegistryMismatch, match=r"unknown unit 'x'; expected one of: satpam"):
        settings.schedule_of(Employee("g", "G", "x"))
    with pytest.raises(RegistryMismatch, match=r"unknown schedule 'malam' \(employee g\)"):
        settings.schedule_of(Employee("g", "G", "satpam", schedule="malam"))
    with pytest.raises(RegistryMismatch, match="unknown leave kind 'cuti'"):
        settings.leave_kind("cuti")


def test_readers_include_and_exclude() -> None:
    settings = parse(
        "readers:\n  include: [{site: bp}]\n  exclude: [{site: bp, reader: server}]\n",
        AttendanceSettings,
    )

    def tap(site: str, reader: str) -> Tap:
        return Tap("00000001", datetime(2026, 1, 5, tzinfo=UTC), site, "gw", reader)

    assert settings.readers.counts(tap("bp", "lobby"))
    assert not settings.readers.counts(tap("bp", "server"))
    assert not settings.readers.counts(tap("other", "lobby"))
    assert AttendanceSettings().readers.counts(tap("anywhere", "any"))


_KEYS = st.sampled_from(
    [
        "units",
        "schedules",
        "leave_kinds",
        "readers",
        "duplicate_window_s",
        "ramadan",
        "bands",
        "penalties",
        "holidays_file",
        "hours",
        "start",
        "end",
        "kind",
        "shifts",
        "valid_from",
        "first",
        "last",
        "status",
        "label",
        "name",
        "schedule",
        "late_min",
        "include",
        "window",
    ]
)
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 2000),
    st.floats(allow_nan=True),
    st.sampled_from(["07:30", "25:00", "office", "shift", "H", "C", "mon-thu", "2026-02-30"]),
    st.dates().map(str),
    st.text(max_size=8),
)
_VALUES: st.SearchStrategy[Any] = st.recursive(
    _SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(_KEYS | st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=12,
)


# Peers' test runs share the CPUs: generation speed is not what is checked here.
_FUZZ = hypothesis_settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _parses_or_explains(text: str) -> None:
    try:
        parse(text, AttendanceSettings)
    except ConfigError as exc:
        problems = exc.problems
    else:
        return
    assert problems


@_FUZZ
@given(st.dictionaries(_KEYS, _VALUES, max_size=5))
def test_any_document_parses_or_raises_config_error(document: dict[str, Any]) -> None:
    _parses_or_explains(yaml.safe_dump(document))


@_FUZZ
@given(st.text(max_size=200))
def test_any_text_parses_or_raises_config_error(text: str) -> None:
    _parses_or_explains(text)
