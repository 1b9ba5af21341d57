"""``pelangi-collector employees ...`` and the import flow all three imports share.

Each test writes a real configuration file pointing ``state.url`` at a fresh state
database (SQLite and PostgreSQL, the ``state_settings`` fixture), runs the commands as a
technician would (typer's runner on ``collector.cli.app``) and checks the registry through
its own reads: what was printed, and what was (or was not) changed.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import pytest
import typer

from collector.attendance.cli.arguments import EXIT_BAD_ARGUMENT
from collector.attendance.cli.importing import EXIT_NOT_APPLIED, report_then_apply
from collector.attendance.imports import plan_employee_file
from collector.attendance.model import CardAssignment, Employee
from collector.attendance.registry import Registry
from collector.attendance.vocabulary import Vocabulary
from collector.cli_common import EXIT_FAILED
from sandbox.registry_cli import (
    EFFECTIVE,
    EMPLOYEES,
    UNITS,
    import_employees,
    run,
    sh,
    write,
    write_config,
)

if TYPE_CHECKING:
    from pathlib import Path

    from collector.state import StateDatabase, StateSettings

NAMES = Vocabulary.of(units=UNITS, schedules=["kantor", "shift"])
BUDI = Employee("198503122010011001", "Budi Santoso", "diskominfo", nip="198503122010011001")
SITI = Employee("199001012015022002", "Siti Aminah", "diskominfo", nip="199001012015022002")
AGUS = Employee("H-017", "Agus Satpam", "satpam", "shift")
DEWI = Employee(
    "199505052020122001",
    "Dewi Lestari",
    "umum",
    nip="199505052020122001",
    active_from=date(2027, 1, 4),
)
WITH_PROBLEMS = """\
NIP;Kode;Nama;Unit;Kartu;Kartu Mulai
199001012015022002;;Siti Aminah;umum;00ABCDEF;
;H-018;Bambang;dinkes;;
;H-019;Citra Dewi;umum;001293D8;2026-12-10
"""


@pytest.fixture
def config(tmp_path: Path, state_settings: StateSettings) -> Path:
    return write_config(tmp_path, state_settings)


@pytest.fixture
def registry(state_db: StateDatabase) -> Registry:
    """The registry the commands change, read independently of them."""
    return Registry(state_db)


@pytest.fixture
def imported(tmp_path: Path, config: Path, registry: Registry) -> Registry:
    """The registry after the clean employee file was imported."""
    import_employees(tmp_path, config)
    return registry


def all_cards(registry: Registry) -> list[CardAssignment]:
    return registry.cards(date.min, date.max)


def test_clean_import_is_applied_without_apply_and_again_changes_nothing(
    tmp_path: Path, config: Path, registry: Registry
) -> None:
    path = write(tmp_path, "pegawai.csv", EMPLOYEES)
    result = run(config, "employees", "import", str(path), "--effective", EFFECTIVE)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "pegawai.csv: 4 row(s): 0 problem(s), 0 to confirm, 7 change(s), 0 unchanged"
    assert "  pegawai.csv:2: card 001293D8 given to 198503122010011001 from 2026-12-01" in lines
    assert lines[-1] == "pegawai.csv: applied 7 change(s)"
    assert sorted(registry.employees(), key=lambda p: p.key) == [BUDI, SITI, DEWI, AGUS]
    first = date(2026, 12, 1)
    assert all_cards(registry) == [
        CardAssignment("001293D8", BUDI.key, first),
        CardAssignment("00ABCDEF", SITI.key, first),
        CardAssignment("E3086CED", AGUS.key, first),
    ]

    again = run(config, "employees", "import", str(path), "--effective", EFFECTIVE)
    assert again.exit_code == 0, again.output
    assert again.stdout.splitlines() == [
        "pegawai.csv: 4 row(s): 0 problem(s), 0 to confirm, 0 change(s), 4 unchanged",
        "pegawai.csv: nothing to change",
    ]


def test_a_report_with_problems_changes_nothing_until_apply(
    tmp_path: Path, config: Path, imported: Registry
) -> None:
    before = (imported.employees(), all_cards(imported))
    path = write(tmp_path, "perubahan.csv", WITH_PROBLEMS)

    refused = run(config, "employees", "import", str(path), "--effective", EFFECTIVE)
    assert refused.exit_code == EXIT_NOT_APPLIED
    assert refused.stdout.splitlines() == [
        "perubahan.csv: 3 row(s): 1 problem(s), 1 to confirm, 2 change(s), 0 unchanged",
        "problems (these rows are not imported):",
        "  perubahan.csv:3: Unit: expected one of diskominfo, satpam, umum, got 'dinkes'",
        "to confirm:",
        (
            "  perubahan.csv:4: card 001293D8 moves from 198503122010011001 (Budi Santoso) to "
            "H-019 (Citra Dewi) on 2026-12-10; 198503122010011001's ends 2026-12-09"
        ),
        "changes:",
        "  perubahan.csv:2: employee 199001012015022002: unit 'diskominfo' -> 'umum'",
        "  perubahan.csv:4: new employee H-019 (Citra Dewi, umum)",
    ]
    assert refused.stderr.splitlines() == [
        (
            "perubahan.csv: nothing imported: the report lists 1 problem(s) and 1 to confirm; "
            "fix the file and import it again, or add --apply to apply the rows without problems"
        )
    ]
    assert (imported.employees(), all_cards(imported)) == before

    applied = run(config, "employees", "import", str(path), "--apply", "--effective", EFFECTIVE)
    assert applied.exit_code == 0, applied.output
    assert applied.stdout.splitlines()[-2:] == [
        "perubahan.csv: rows not imported (problems): 3",
        "perubahan.csv: applied 4 change(s)",
    ]
    keys = {person.key: person for person in imported.employees()}
    assert "H-018" not in keys
    assert keys[SITI.key].unit == "umum"
    assert keys["H-019"] == Employee("H-019", "Citra Dewi", "umum")
    budi = [card for card in all_cards(imported) if card.uid == "001293D8"]
    assert budi == [
        CardAssignment("001293D8", BUDI.key, date(2026, 12, 1), date(2026, 12, 9)),
        CardAssignment("001293D8", "H-019", date(2026, 12, 10)),
    ]

    # Only the bad row is left: nothing more can be applied, and the status says so.
    left = run(config, "employees", "import", str(path), "--apply", "--effective", EFFECTIVE)
    assert left.exit_code == EXIT_NOT_APPLIED
    assert left.stdout.splitlines()[-1] == "perubahan.csv: nothing to change"


def test_a_refusal_by_the_registry_changes_nothing_and_says_why(
    tmp_path: Path, imported: Registry, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "baru.csv", "Kode;Nama;Unit;Kartu\nH-020;Eko;umum;00BEEF01\n")
    plan = plan_employee_file(path, imported, NAMES, today=date(2026, 12, 3))
    assert plan.report.clean
    # Someone registers the card between the report and the apply.
    with imported.changes() as changes:
        changes.assign_card(CardAssignment("00BEEF01", AGUS.key, date(2026, 11, 1)))

    with pytest.raises(typer.Exit) as exited:
        report_then_apply(imported, plan, apply=False)

    assert exited.value.exit_code == EXIT_FAILED
    assert capsys.readouterr().err.splitlines() == [
        (
            "pelangi-collector: baru.csv: nothing imported: card 00BEEF01 belongs to H-017 from "
            "2026-11-01 with no end: it cannot be H-020's on overlapping days (end that assignment "
            "first: a card moves the day after)"
        )
    ]
    assert "H-020" not in {person.key for person in imported.employees()}


def test_list_shows_who_is_employed_on_a_day_with_their_cards(
    config: Path, imported: Registry
) -> None:
    del imported
    result = run(config, "employees", "list", "--date", "2026-12-03")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "employee            name          unit        schedule  employed  cards",
        "198503122010011001  Budi Santoso  diskominfo  -         always    001293D8",
        "199001012015022002  Siti Aminah   diskominfo  -         always    00ABCDEF",
        "H-017               Agus Satpam   satpam      shift     always    E3086CED",
    ]
    assert result.stderr == "3 employee(s)\n"

    # Before the cards began, and with Dewi, who starts in January.
    everyone = run(config, "employees", "list", "--inactive", "--date", "30/11/2026", "-u", "umum")
    assert everyone.stdout.splitlines() == [
        "employee            name          unit  schedule  employed      cards",
        "199505052020122001  Dewi Lestari  umum  -         2027-01-04..  -",
    ]
    january = run(config, "employees", "list", "--date", "2027-01-04", "--unit", "umum")
    assert january.stdout.splitlines()[1:] == [
        "199505052020122001  Dewi Lestari  umum  -         2027-01-04..  -"
    ]
    assert run(config, "employees", "list", "--date", "2027-01-03", "-u", "umum").stdout == ""


def test_list_refuses_a_unit_the_settings_lack(config: Path, imported: Registry) -> None:
    del imported
    result = run(config, "employees", "list", "--unit", "dinkes")
    assert result.exit_code == EXIT_FAILED
    assert result.stderr == (
        "pelangi-collector: unknown unit 'dinkes'; expected one of: diskominfo, satpam, umum\n"
    )


@pytest.mark.parametrize(
    ("text", "keys"),
    [
        ("siti", [SITI.key]),  # any case
        ("19850312", [BUDI.key]),  # part of a NIP
        ("h-0", [AGUS.key]),
        ("0001217496", [BUDI.key]),  # Budi's card as printed on it (EM4100 decimal)
        ("e3086ced", [AGUS.key]),  # a card as 8 hex digits, any case
        ("nobody", []),
    ],
)
def test_find_by_part_of_key_nip_name_or_a_card(
    config: Path, imported: Registry, text: str, keys: list[str]
) -> None:
    del imported
    result = run(config, "employees", "find", text)
    assert result.exit_code == 0, result.output
    assert [line.split()[0] for line in result.stdout.splitlines()[1:]] == keys
    assert result.stderr == f"{len(keys)} employee(s)\n"


def test_show_lists_every_card_with_its_validity_and_all_leave(
    tmp_path: Path, config: Path, imported: Registry
) -> None:
    moved = write(
        tmp_path,
        "pindah.csv",
        "Kode;Nama;Unit;Kartu;Kartu Mulai\nH-019;Citra Dewi;umum;001293D8;2026-12-10\n",
    )
    assert run(config, "employees", "import", str(moved), "--apply").exit_code == 0
    added = sh(
        config,
        f"attendance leave add {BUDI.nip} izin --from 2026-12-03 --end 14:00 --note 'ke dokter'",
    )
    assert added.exit_code == 0, added.output
    (leave,) = imported.leave(date.min, date.max)

    result = run(config, "employees", "show", BUDI.key)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "key       198503122010011001",
        "nip       198503122010011001",
        "name      Budi Santoso",
        "unit      diskominfo (Dinas Komunikasi dan Informatika)",
        "schedule  kantor (the unit's)",
        "employed  always",
        "cards:",
        "  uid       bits  valid",
        "  001293D8  32    2026-12-01..2026-12-09",
        "leave:",
        "  id  kind  days        part of day         note",
        f"  {leave.id:<2}  izin  2026-12-03  pulang_cepat 14:00  ke dokter",
    ]
    unknown = run(config, "employees", "show", "H-999")
    assert unknown.exit_code == EXIT_FAILED
    assert unknown.stderr == (
        "pelangi-collector: no employee has the key or NIP 'H-999' (see `employees find`)\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("employees", "list", "--date", "2026-02-30"),
            (
                "--date: expected a date such as 2026-12-03 or 03/12/2026 (day first) that exists, "
                "got '2026-02-30'"
            ),
        ),
        (
            ("employees", "import", "x.csv", "--effective", "tomorrow"),
            (
                "--effective: expected a date such as 2026-12-03 or 03/12/2026 (day first), "
                "got 'tomorrow'"
            ),
        ),
        (
            ("roster", "list", "--from", "2026-12-07", "--to", "2026-12-01"),
            "--to: expected a day from 2026-12-07 on, got '2026-12-01'",
        ),
        (
            ("attendance", "leave", "add", "H-017", "izin", "--from", "2026-12-03", "--start", "9"),
            "--start: expected a time of day such as 08:30 or 08.30, got '9'",
        ),
        (
            (
                "attendance",
                "leave",
                "add",
                "H-017",
                "izin",
                "--from",
                "2026-12-03",
                "--start",
                "09:00",
                "--end",
                "15:00",
            ),
            (
                "--start/--end: expected one of them: a permission to arrive late or to leave "
                "early, got 'both'"
            ),
        ),
    ],
)
def test_a_bad_argument_is_one_line_naming_what_was_expected(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    # Refused before the database is opened: it need not exist.
    config = write(tmp_path, "collector.yaml", f"state: {{url: 'sqlite:///{tmp_path}/s.db'}}\n")
    result = run(config, *args)
    assert result.exit_code == EXIT_BAD_ARGUMENT
    assert result.stderr == f"pelangi-collector: {message}\n"
    assert result.stdout == ""
    assert not (tmp_path / "s.db").exists()


def test_an_unreadable_import_file_is_one_line(tmp_path: Path, config: Path) -> None:
    result = run(config, "employees", "import", str(tmp_path / "missing.csv"))
    assert result.exit_code == EXIT_FAILED
    assert result.stderr.startswith("pelangi-collector: missing.csv: cannot read the file")
    assert len(result.stderr.splitlines()) == 1
