"""Employee files: their columns, and one row read into an employee and their cards.

=============  ===========================================  ==================================
column         also accepted                                holds
=============  ===========================================  ==================================
nip            nip_baru                                     the 18-digit NIP (PNS, PPPK), as
                                                            text; spaces allowed
kode           kode_pegawai, no_pegawai, key, id ...        the key of staff without a NIP;
                                                            with a NIP: their old key, if it
                                                            changes (an honorer appointed)
nama*          nama_pegawai, nama_lengkap, name             as reports show it
unit*          unit_kerja, opd, bidang, satuan_kerja ...    a unit code of the settings
jadwal         jadwal_kerja, schedule                       a schedule name (empty: the unit's)
kartu          no_kartu, nomor_kartu, card, uid ...         the card(s) held, ``;`` apart, in
                                                            any printed form (pelangi.card);
                                                            empty: cards unchanged
kartu_mulai    kartu_berlaku, card_from                     first day of those cards (empty:
                                                            the import's date)
aktif_mulai    mulai_aktif, tmt, active_from                first day counted (empty: always)
aktif_sampai   aktif_hingga, berhenti, active_to            last day counted (empty: ongoing)
=============  ===========================================  ==================================

``*``: required columns; and either ``nip`` or ``kode`` (or both). Each row is one
employee, keyed by the NIP when there is one, else by ``kode``; employees not in the file
are left as they are. A ``kartu`` cell lists every card the employee holds from
``kartu_mulai`` on: a card not listed any more ends the day before.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from collector.attendance.imports import cells
from collector.attendance.imports.reading import RowReader
from collector.attendance.imports.table import Column
from collector.attendance.model import Employee
from collector.state.schema import KEY_LENGTH, NAME_LENGTH

if TYPE_CHECKING:
    from datetime import date

    from collector.attendance.imports.report import Line
    from collector.attendance.imports.table import Row
    from collector.attendance.vocabulary import Vocabulary
    from pelangi.card import CardId

COLUMNS: Final = (
    Column("nip", ("nip_baru", "nomor_induk_pegawai")),
    Column(
        "kode",
        ("kode_pegawai", "no_pegawai", "nomor_pegawai", "id_pegawai", "key", "staff_id", "id"),
    ),
    Column("nama", ("nama_pegawai", "nama_lengkap", "name", "full_name"), required=True),
    Column(
        "unit",
        ("unit_kerja", "opd", "bidang", "satuan_kerja", "department", "unit_code"),
        required=True,
    ),
    Column("jadwal", ("jadwal_kerja", "schedule")),
    Column("kartu", ("no_kartu", "nomor_kartu", "kartu_rfid", "card", "cards", "uid")),
    Column("kartu_mulai", ("kartu_berlaku", "card_from", "card_valid_from")),
    Column("aktif_mulai", ("mulai_aktif", "tmt", "active_from", "start_date")),
    Column("aktif_sampai", ("aktif_hingga", "berhenti", "active_to", "end_date")),
)


@dataclass(frozen=True, slots=True)
class EmployeeRow:
    """One row read: the employee, and (when the row lists any) their cards from a date."""

    row: int
    employee: Employee
    cards: tuple[CardId, ...] | None
    """None: the ``kartu`` cell is empty, the employee's cards stay as they are."""
    cards_from: date
    was: str | None = None
    """The ``kode`` given beside a NIP: the key the employee may be registered under."""


def read_employee(
    source: str, row: Row, names: Vocabulary, *, today: date, effective: date
) -> EmployeeRow | list[Line]:
    """Read one row (see the module docstring); its problems instead when it has any."""
    cell = RowReader(source, row)
    nip = cell.read("nip", lambda c: cells.nip(c, today))
    kode = cell.read("kode", lambda c: cells.text(c, max_length=KEY_LENGTH))
    name = cell.read("nama", lambda c: cells.required_text(c, "a name", max_length=NAME_LENGTH))
    unit = cell.name("unit", "unit", names, required=True)
    schedule = cell.name("jadwal", "schedule", names, required=False)
    cards = cell.read("kartu", cells.cards)
    cards_from = cell.read("kartu_mulai", cells.day) or effective
    active_from = cell.read("aktif_mulai", cells.day)
    active_to = cell.read("aktif_sampai", cells.day)
    if nip is None and kode is None and not cell.problems:
        cell.problems.append(
            cell.problem("nip/kode", "a NIP, or a kode for staff without one", "nothing")
        )
    if active_from and active_to and active_to < active_from:
        cell.problems.append(
            cell.problem(
                row.get("aktif_sampai").header, f"a day from {active_from} on", str(active_to)
            )
        )
    if cell.problems or name is None or unit is None or (key := nip or kode) is None:
        return cell.problems
    person = Employee(key, name, unit, schedule, nip, active_from, active_to)
    was = kode if nip is not None and kode not in {None, nip} else None
    listed = None if not cards else tuple(cards)
    return EmployeeRow(row.number, person, listed, cards_from, was)
