"""The attendance registry on both real backends (SQLite file, PostgreSQL 15).

Every test runs twice through the ``state_db`` fixture: what the job and the commands
see must not depend on which database an office chose.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING, Any

import pytest

from collector.attendance.changes import NEW_LEAVE_ID
from collector.attendance.errors import (
    CardConflict,
    DuplicateNip,
    RegistryError,
    RegistryMismatch,
    UnknownEmployee,
    UnknownLeave,
)
from collector.attendance.model import (
    CardAssignment,
    DayResult,
    Employee,
    Leave,
    PartialLeave,
    RosterEntry,
    Status,
    Tap,
    UnknownTap,
)
from collector.attendance.registry import Registry
from collector.attendance.rules import RegistryValues
from collector.attendance.vocabulary import Vocabulary

if TYPE_CHECKING:
    from collector.state import StateDatabase

NIP_BUDI = "198503122010011001"
NIP_SITI = "199001012015022002"
BUDI = Employee(NIP_BUDI, "Budi Santoso", "diskominfo", nip=NIP_BUDI)
SITI = Employee(NIP_SITI, "Siti Aminah", "bappeda", "pelayanan", NIP_SITI)
AGUS = Employee("H-017", "Agus Satpam", "umum", "satpam", active_from=date(2026, 3, 1))
RETIRED = Employee("H-002", "Pak Tua", "umum", active_to=date(2026, 1, 31))
VOCABULARY = Vocabulary.of(
    units=["diskominfo", "bappeda", "umum"],
    schedules=["pelayanan", "satpam"],
    shifts=["pagi", "malam"],
    leave_kinds=["izin", "sakit", "cuti_tahunan", "dinas_luar"],
)


@pytest.fixture
def registry(state_db: StateDatabase) -> Registry:
    registry = Registry(state_db, VOCABULARY)
    with registry.changes() as changes:
        for person in (BUDI, SITI, AGUS, RETIRED):
            changes.put_employee(person)
    return registry


def leave(who: str, kind: str, first: date, last: date | None = None, **details: Any) -> Leave:
    return Leave(NEW_LEAVE_ID, who, kind, first, last or first, **details)


def card(
    uid: str, who: Employee, first: date, last: date | None = None, bits: int = 32
) -> CardAssignment:
    return CardAssignment(uid, who.key, first, last, bits)


# -- employees ------------------------------------------------------------------------------


def test_employees_are_listed_by_unit_and_name_and_filtered(registry: Registry) -> None:
    assert registry.employees() == [SITI, BUDI, AGUS, RETIRED]
    assert registry.employees(date(2026, 2, 1), date(2026, 2, 28)) == [SITI, BUDI]
    assert registry.employees(date(2026, 1, 31), date(2026, 3, 1)) == [SITI, BUDI, AGUS, RETIRED]
    assert registry.employees(unit="umum") == [AGUS, RETIRED]


def test_find_matches_key_nip_name_and_card_case_insensitively(registry: Registry) -> None:
    with registry.changes() as changes:
        changes.assign_card(card("001293D8", AGUS, date(2026, 3, 1)))
    assert registry.find("santoso") == [BUDI]
    assert registry.find("1990010") == [SITI]
    assert registry.find("h-0") == [AGUS, RETIRED]
    assert registry.find("001293d8") == [AGUS]
    assert registry.find("100%") == []  # a LIKE wildcard is just a character


def test_one_employee_by_key_or_nip_with_cards_and_leave(registry: Registry) -> None:
    assert registry.employee(NIP_SITI) == SITI
    with registry.changes() as changes:
        changes.assign_card(card("001293D8", SITI, date(2026, 1, 5), date(2026, 5, 31)))
        changes.assign_card(card("00ABCDEF", SITI, date(2026, 6, 1)))
    sick = registry.add_leave(leave(NIP_SITI, "sakit", date(2026, 7, 1), date(2026, 7, 2)))
    record = registry.show(NIP_SITI)
    assert record.employee == SITI
    assert [c.uid for c in record.cards] == ["001293D8", "00ABCDEF"]
    assert record.leave == (sick,)
    with pytest.raises(UnknownEmployee, match="no employee has the key or NIP 'nobody'"):
        registry.show("nobody")


def test_an_update_keeps_the_key_and_a_nip_belongs_to_one_employee(registry: Registry) -> None:
    moved = Employee(NIP_BUDI, "Budi Santoso", "bappeda", nip=NIP_BUDI)
    with registry.changes() as changes:
        changes.put_employee(moved)
    assert registry.employee(NIP_BUDI) == moved
    with (
        pytest.raises(DuplicateNip, match=f"NIP {NIP_SITI} already belongs to employee"),
        registry.changes() as changes,
    ):
        changes.put_employee(Employee("H-099", "Copy", "umum", nip=NIP_SITI))


def test_unknown_units_and_schedules_are_refused_listing_the_known_ones(
    registry: Registry,
) -> None:
    with pytest.raises(RegistryMismatch) as caught, registry.changes() as changes:
        changes.put_employee(Employee("H-100", "Baru", "dinkes"))
    assert str(caught.value) == (
        "unknown unit 'dinkes'; expected one of: bappeda, diskominfo, umum"
    )
    with (
        pytest.raises(RegistryMismatch, match="unknown schedule 'shift3'"),
        registry.changes() as changes,
    ):
        changes.put_employee(Employee("H-100", "Baru", "umum", "shift3"))


# -- cards ------------------------------------------------------------------------------------


def test_a_card_moves_without_rewriting_history(registry: Registry) -> None:
    with registry.changes() as changes:
        changes.assign_card(card("001293D8", BUDI, date(2026, 1, 5)))
    with registry.changes() as changes:
        (held,) = registry.cards(date(2026, 6, 1), date(2026, 6, 1))
        changes.end_card(held, date(2026, 5, 31))
        changes.assign_card(card("001293D8", SITI, date(2026, 6, 1)))
    assert registry.cards(date(2026, 5, 1), date(2026, 5, 31)) == [
        card("001293D8", BUDI, date(2026, 1, 5), date(2026, 5, 31))
    ]
    assert registry.cards(date(2026, 5, 31), date(2026, 6, 1)) == [
        card("001293D8", BUDI, date(2026, 1, 5), date(2026, 5, 31)),
        card("001293D8", SITI, date(2026, 6, 1)),
    ]


def test_one_card_is_never_two_peoples_on_the_same_day(registry: Registry) -> None:
    with registry.changes() as changes:
        changes.assign_card(card("001293D8", BUDI, date(2026, 1, 5), date(2026, 5, 31)))
    # Two changes in one transaction: the refusal of the second undoes the first.
    with pytest.raises(CardConflict) as caught, registry.changes() as changes:  # noqa: PT012
        changes.put_employee(Employee("H-100", "Baru", "umum"))  # rolled back with the rest
        changes.assign_card(card("001293D8", SITI, date(2026, 5, 31)))
    assert str(caught.value) == (
        f"card 001293D8 belongs to {NIP_BUDI} from 2026-01-05 to 2026-05-31: it cannot be "
        f"{NIP_SITI}'s on overlapping days (end that assignment first: a card moves the "
        "day after)"
    )
    assert [e.key for e in registry.find("Baru")] == []


def test_a_24_bit_card_conflicts_with_any_card_of_the_same_low_24_bits(
    registry: Registry,
) -> None:
    with registry.changes() as changes:
        changes.assign_card(card("E3086CED", BUDI, date(2026, 1, 1)))
        changes.assign_card(card("FF086CEE", SITI, date(2026, 1, 1)))  # other low bits: fine
    with pytest.raises(CardConflict, match=f"belongs to {NIP_BUDI}"), registry.changes() as changes:
        changes.assign_card(card("00086CED", SITI, date(2026, 2, 1), bits=24))


def test_a_card_cannot_end_before_it_began(registry: Registry) -> None:
    with registry.changes() as changes:
        changes.assign_card(card("001293D8", BUDI, date(2026, 6, 1)))
    (held,) = registry.cards(date(2026, 6, 1), date(2026, 6, 1))
    with (
        pytest.raises(RegistryError, match="it cannot end on 2026-05-31"),
        registry.changes() as changes,
    ):
        changes.end_card(held, date(2026, 5, 31))


# -- leave and rosters ---------------------------------------------------------------------


def test_leave_is_added_listed_by_period_and_removed(registry: Registry) -> None:
    late = registry.add_leave(
        Leave(
            NEW_LEAVE_ID,
            NIP_BUDI,
            "izin",
            date(2026, 3, 2),
            date(2026, 3, 2),
            partial=PartialLeave.LATE_ARRIVAL,
            until=time(9, 30),
            note="ST/12/2026",
        )
    )
    trip = registry.add_leave(leave(NIP_SITI, "dinas_luar", date(2026, 3, 1), date(2026, 3, 6)))
    assert late.partial is PartialLeave.LATE_ARRIVAL
    assert late.until == time(9, 30)
    assert late.note == "ST/12/2026"
    assert registry.leave(date(2026, 3, 2), date(2026, 3, 2)) == [trip, late]
    assert registry.leave(date(2026, 3, 7), date(2026, 3, 31)) == []
    assert registry.leave(date(2026, 3, 1), date(2026, 3, 31), employee_key=NIP_BUDI) == [late]
    assert registry.remove_leave(late.id) == late
    with pytest.raises(UnknownLeave, match=f"no leave has the id {late.id}"):
        registry.remove_leave(late.id)


def test_bad_leave_is_refused(registry: Registry) -> None:
    with pytest.raises(RegistryMismatch, match="unknown leave kind 'libur'"):
        registry.add_leave(leave(NIP_BUDI, "libur", date(2026, 3, 2), date(2026, 3, 2)))
    with pytest.raises(RegistryError, match="cannot end before it"):
        registry.add_leave(leave(NIP_BUDI, "izin", date(2026, 3, 2), date(2026, 3, 1)))
    with pytest.raises(RegistryError, match="needs both its kind and time"):
        registry.add_leave(leave(NIP_BUDI, "izin", date(2026, 3, 2), until=time(9, 0)))
    with pytest.raises(UnknownEmployee):
        registry.add_leave(leave("nobody", "izin", date(2026, 3, 2), date(2026, 3, 2)))


def test_a_roster_holds_one_shift_per_employee_and_day(registry: Registry) -> None:
    with registry.changes() as changes:
        changes.put_roster(RosterEntry(AGUS.key, date(2026, 3, 2), "malam"))
        changes.put_roster(RosterEntry(AGUS.key, date(2026, 3, 3), "off"))
        changes.put_roster(RosterEntry(AGUS.key, date(2026, 3, 2), "pagi"))  # replaces
    assert registry.roster(date(2026, 3, 1), date(2026, 3, 31)) == [
        RosterEntry(AGUS.key, date(2026, 3, 2), "pagi"),
        RosterEntry(AGUS.key, date(2026, 3, 3), "off"),
    ]
    with (
        pytest.raises(RegistryMismatch, match="unknown shift 'siang'"),
        registry.changes() as changes,
    ):
        changes.put_roster(RosterEntry(AGUS.key, date(2026, 3, 4), "siang"))


def test_the_rules_get_the_registry_of_a_period_as_plain_values(registry: Registry) -> None:
    with registry.changes() as changes:
        changes.assign_card(card("001293D8", BUDI, date(2026, 1, 5), date(2026, 2, 27)))
        changes.assign_card(card("00ABCDEF", SITI, date(2026, 3, 1)))
        changes.put_roster(RosterEntry(AGUS.key, date(2026, 3, 1), "malam"))
        sick = changes.add_leave(leave(NIP_SITI, "sakit", date(2026, 2, 27), date(2026, 3, 2)))
    values = registry.values(date(2026, 2, 28), date(2026, 3, 1))
    assert values == RegistryValues(
        (SITI, BUDI, AGUS),
        (card("00ABCDEF", SITI, date(2026, 3, 1)),),
        (sick,),
        (RosterEntry(AGUS.key, date(2026, 3, 1), "malam"),),
    )


# -- computed days ---------------------------------------------------------------------------

DAY = date(2026, 3, 2)
TAP = Tap("00ABCDEF", datetime(2026, 3, 1, 23, 45, 10, tzinfo=UTC), "bp", "gw-2", "lobby")


def results(late: int) -> list[DayResult]:
    return [
        DayResult(
            NIP_BUDI,
            DAY,
            "diskominfo",
            Status.HADIR,
            check_in=datetime(2026, 3, 1, 23, 30 + late, tzinfo=UTC),
            check_out=datetime(2026, 3, 2, 8, 1, tzinfo=UTC),
            minutes_late=late,
            worked_minutes=511 - late,
            tl=1 if late else 0,
            penalty_pct=0.5 if late else 0.0,
            notes=("jam gateway diragukan: gw-2", "baris\nkedua"),
        ),
        DayResult(NIP_SITI, DAY, "bappeda", Status.SAKIT),
    ]


def test_a_day_is_saved_and_read_back_whole(registry: Registry) -> None:
    registry.save_day_results(DAY, results(5), [UnknownTap(TAP, DAY)])
    assert registry.day_results(DAY, DAY) == [results(5)[1], results(5)[0]]  # by unit
    assert registry.day_results(DAY, DAY, unit="diskominfo") == results(5)[:1]
    assert registry.unknown_taps(DAY, DAY) == [UnknownTap(TAP, DAY)]
    assert registry.day_results(date(2026, 3, 3), date(2026, 3, 31)) == []


def test_a_tap_that_could_be_two_peoples_keeps_its_candidates(registry: Registry) -> None:
    ambiguous = UnknownTap(TAP, DAY, (NIP_BUDI, NIP_SITI), "kartu dipegang dua pegawai")
    registry.save_day_results(DAY, [], [ambiguous])
    assert registry.unknown_taps(DAY, DAY) == [ambiguous]


def test_saving_a_day_again_replaces_it(registry: Registry) -> None:
    registry.save_day_results(DAY, results(5), [UnknownTap(TAP, DAY)])
    other_day = date(2026, 3, 3)
    registry.save_day_results(other_day, [], [UnknownTap(TAP, other_day)])
    registry.save_day_results(DAY, results(0)[:1], [])
    assert registry.day_results(DAY, other_day) == results(0)[:1]
    assert registry.unknown_taps(DAY, other_day) == [UnknownTap(TAP, other_day)]


def test_results_of_another_day_or_twice_for_one_employee_are_refused(
    registry: Registry,
) -> None:
    with pytest.raises(RegistryError, match="include other days"):
        registry.save_day_results(date(2026, 3, 3), results(0), [])
    with pytest.raises(RegistryError, match="two results on 2026-03-02 for the same employee"):
        registry.save_day_results(DAY, results(0) + results(0)[:1], [])
    stranger = DayResult("nobody", DAY, "umum", Status.TANPA_KETERANGAN)
    with pytest.raises(UnknownEmployee):
        registry.save_day_results(DAY, [*results(0), stranger], [])
    assert registry.day_results(DAY, DAY) == []
