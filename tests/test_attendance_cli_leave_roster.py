"""``pelangi-collector attendance leave ...`` and ``roster ...`` on SQLite and PostgreSQL.

The employees come from a clean employee import (``sandbox.registry_cli``); every change a
command reports is checked through the registry's own reads.
"""

from __future__ import annotations

from datetime import date, time
from typing import TYPE_CHECKING

import pytest

from collector.attendance.cli.importing import EXIT_NOT_APPLIED
from collector.attendance.model import Leave, PartialLeave, RosterEntry
from collector.attendance.registry import Registry
from collector.cli_common import EXIT_FAILED
from sandbox.registry_cli import import_employees, run, sh, write, write_config

if TYPE_CHECKING:
    from pathlib import Path

    from collector.state import StateDatabase, StateSettings

BUDI = "198503122010011001"
AGUS = "H-017"
DECEMBER = ("--from", "2026-12-01", "--to", "2026-12-31")
LEAVE_FILE = """\
pegawai,jenis,mulai,sampai,sebagian,jam,keterangan
198503122010011001,cuti_tahunan,2026-12-07,2026-12-09,,,SK/88/2026
H-017,izin,03/12/2026,,datang terlambat,09.30,antar anak
"""
ROSTER_FILE = "Pegawai\tTanggal\tShift\nH-017\t2026-12-07\tmalam\nH-017\t08/12/2026\tlibur\n"


@pytest.fixture
def config(tmp_path: Path, state_settings: StateSettings) -> Path:
    return write_config(tmp_path, state_settings)


@pytest.fixture
def registry(tmp_path: Path, config: Path, state_db: StateDatabase) -> Registry:
    """The registry with the employees of the clean import, read apart from the commands."""
    import_employees(tmp_path, config)
    return Registry(state_db)


def all_leave(registry: Registry) -> list[Leave]:
    return registry.leave(date.min, date.max)


def test_add_whole_days_and_partial_day_permissions(config: Path, registry: Registry) -> None:
    add = "attendance leave add"
    whole = sh(
        config, f"{add} {BUDI} cuti_tahunan --from 2026-12-07 --to 09/12/2026 --note SK/88/2026"
    )
    late = sh(config, f"{add} {AGUS} izin --from 2026-12-03 --start 09.30")
    early = sh(config, f"{add} {AGUS} izin --from 2026-12-04 --end 14:00 --note 'ke dokter'")
    assert [r.exit_code for r in (whole, late, early)] == [0, 0, 0], whole.output + late.output

    datang, pulang, cuti = all_leave(registry)  # by their first day
    assert (datang, pulang, cuti) == (
        Leave(
            datang.id,
            AGUS,
            "izin",
            date(2026, 12, 3),
            date(2026, 12, 3),
            PartialLeave.LATE_ARRIVAL,
            time(9, 30),
        ),
        Leave(
            pulang.id,
            AGUS,
            "izin",
            date(2026, 12, 4),
            date(2026, 12, 4),
            PartialLeave.EARLY_LEAVE,
            time(14, 0),
            "ke dokter",
        ),
        Leave(
            cuti.id, BUDI, "cuti_tahunan", date(2026, 12, 7), date(2026, 12, 9), note="SK/88/2026"
        ),
    )
    assert whole.stdout == (
        f"added leave {cuti.id}: cuti_tahunan 2026-12-07..2026-12-09 for {BUDI} (Budi Santoso)\n"
    )
    assert late.stdout == (
        f"added leave {datang.id}: izin 2026-12-03 (datang_terlambat 09:30) for H-017 "
        "(Agus Satpam)\n"
    )


def test_unknown_kind_or_employee_is_refused_naming_the_known_ones(
    config: Path, registry: Registry
) -> None:
    kind = run(config, "attendance", "leave", "add", AGUS, "libur", "--from", "2026-12-04")
    assert kind.exit_code == EXIT_FAILED
    assert kind.stderr == (
        "pelangi-collector: unknown leave kind 'libur'; expected one of: cuti_alasan_penting, "
        "cuti_besar, cuti_luar_tanggungan, cuti_melahirkan, cuti_sakit, cuti_tahunan, "
        "dinas_luar, izin, sakit, tugas_belajar\n"
    )
    nobody = run(config, "attendance", "leave", "add", "H-999", "izin", "--from", "2026-12-04")
    assert nobody.exit_code == EXIT_FAILED
    assert nobody.stderr == (
        "pelangi-collector: no employee has the key or NIP 'H-999' (see `employees find`)\n"
    )
    assert all_leave(registry) == []


def test_list_filters_and_remove(config: Path, registry: Registry) -> None:
    for args in (
        (BUDI, "cuti_tahunan", "--from", "2026-12-07", "--to", "2026-12-09"),
        (AGUS, "izin", "--from", "2026-12-03", "--start", "09:30", "--note", "antar anak"),
        (AGUS, "sakit", "--from", "2027-01-04"),
    ):
        assert run(config, "attendance", "leave", "add", *args).exit_code == 0
    izin, cuti, sakit = all_leave(registry)  # by their first day

    december = run(config, "attendance", "leave", "list", *DECEMBER)
    assert december.exit_code == 0, december.output
    assert december.stdout.splitlines() == [
        (
            "employee            name          unit        id  kind          days"
            "                    part of day             note"
        ),
        (
            f"H-017               Agus Satpam   satpam      {izin.id:<2}  izin          2026-12-03"
            "              datang_terlambat 09:30  antar anak"
        ),
        (
            f"198503122010011001  Budi Santoso  diskominfo  {cuti.id:<2}  cuti_tahunan  "
            "2026-12-07..2026-12-09  -                       -"
        ),
    ]
    assert december.stderr == "2 leave\n"

    def ids(*args: str) -> list[int]:
        # key, two-word name, unit, id: every name here has two words
        result = run(config, "attendance", "leave", "list", *args)
        assert result.exit_code == 0, result.output
        return [int(line.split()[4]) for line in result.stdout.splitlines()[1:]]

    assert ids("--unit", "satpam", "--from", "2026-12-01") == [izin.id, sakit.id]
    assert ids("--employee", BUDI, "--from", "2026-12-01") == [cuti.id]
    assert ids("--from", "2026-12-08", "--to", "2026-12-08") == [cuti.id]

    removed = run(config, "attendance", "leave", "remove", str(cuti.id))
    assert removed.exit_code == 0, removed.output
    assert (
        removed.stdout
        == f"removed leave {cuti.id}: cuti_tahunan 2026-12-07..2026-12-09 of {BUDI}\n"
    )
    assert all_leave(registry) == [izin, sakit]
    again = run(config, "attendance", "leave", "remove", str(cuti.id))
    assert again.exit_code == EXIT_FAILED
    assert again.stderr == (
        f"pelangi-collector: no leave has the id {cuti.id} (see `attendance leave list`)\n"
    )


def test_leave_import_applies_a_clean_file_and_asks_before_an_overlap(
    tmp_path: Path, config: Path, registry: Registry
) -> None:
    path = write(tmp_path, "cuti.csv", LEAVE_FILE)
    result = run(config, "attendance", "leave", "import", str(path))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "cuti.csv: 2 row(s): 0 problem(s), 0 to confirm, 2 change(s), 0 unchanged",
        "changes:",
        f"  cuti.csv:2: leave cuti_tahunan 2026-12-07..2026-12-09 for {BUDI}",
        "  cuti.csv:3: leave izin 2026-12-03 (datang_terlambat 09:30) for H-017",
        "cuti.csv: applied 2 change(s)",
    ]
    assert [(item.employee, item.kind, item.note) for item in all_leave(registry)] == [
        ("H-017", "izin", "antar anak"),
        (BUDI, "cuti_tahunan", "SK/88/2026"),
    ]

    overlap = write(
        tmp_path, "sakit.csv", "pegawai,jenis,mulai\n198503122010011001,sakit,2026-12-08\n"
    )
    asked = run(config, "attendance", "leave", "import", str(overlap))
    assert asked.exit_code == EXIT_NOT_APPLIED
    assert "to confirm:" in asked.stdout.splitlines()
    assert len(all_leave(registry)) == 2
    confirmed = run(config, "attendance", "leave", "import", str(overlap), "--apply")
    assert confirmed.exit_code == 0, confirmed.output
    assert [item.kind for item in all_leave(registry)] == ["izin", "cuti_tahunan", "sakit"]


def test_roster_import_and_list(tmp_path: Path, config: Path, registry: Registry) -> None:
    bad = write(tmp_path, "jadwal-salah.csv", "Pegawai\tTanggal\tShift\nH-017\t2026-12-09\tsiang\n")
    refused = run(config, "roster", "import", str(bad))
    assert refused.exit_code == EXIT_NOT_APPLIED
    assert refused.stdout.splitlines()[-1] == (
        "  jadwal-salah.csv:2: Shift: expected one of malam, pagi, got 'siang'"
    )
    assert registry.roster(date.min, date.max) == []

    result = run(config, "roster", "import", str(write(tmp_path, "jadwal.csv", ROSTER_FILE)))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == "jadwal.csv: applied 2 change(s)"
    assert registry.roster(date.min, date.max) == [
        RosterEntry(AGUS, date(2026, 12, 7), "malam"),
        RosterEntry(AGUS, date(2026, 12, 8), "off"),
    ]

    listed = run(config, "roster", "list", *DECEMBER)
    assert listed.exit_code == 0, listed.output
    assert listed.stdout.splitlines() == [
        "day         employee  name         unit    shift",
        "2026-12-07  H-017     Agus Satpam  satpam  malam",
        "2026-12-08  H-017     Agus Satpam  satpam  off",
    ]
    assert run(config, "roster", "list", *DECEMBER, "--unit", "umum").stdout == ""
    one_day = run(config, "roster", "list", "--from", "2026-12-08", "--to", "2026-12-08")
    assert one_day.stdout.splitlines()[1:] == ["2026-12-08  H-017     Agus Satpam  satpam  off"]
