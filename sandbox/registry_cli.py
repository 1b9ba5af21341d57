"""Running the registry commands of ``pelangi-collector`` in tests, as a technician would.

A real configuration file (units, the state database of a test) and typer's runner on
``collector.cli.app``: the commands parse, open the database and print exactly as they do
in a shell. Used by ``tests/test_attendance_cli_*.py`` and ``tests/test_state_cli.py``.
"""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING, Final

import yaml
from typer.testing import CliRunner, Result

from collector.cli import app

if TYPE_CHECKING:
    from pathlib import Path

    from collector.state import StateSettings

UNITS: Final = {
    "diskominfo": {"name": "Dinas Komunikasi dan Informatika"},
    "umum": {"name": "Bagian Umum"},
    "satpam": {"name": "Satuan Pengamanan", "schedule": "shift"},
}
"""The units of :func:`write_config` (the default schedules: ``kantor``, ``shift``)."""

EFFECTIVE: Final = "2026-12-01"
"""The day the cards of :data:`EMPLOYEES` begin (``--effective``)."""

EMPLOYEES: Final = """\
NIP;Kode;Nama;Unit;Jadwal;Kartu;Aktif Mulai
198503122010011001;;Budi Santoso;diskominfo;;0001217496;
199001012015022002;;Siti Aminah;diskominfo;;00ABCDEF;
;H-017;Agus Satpam;satpam;shift;E3086CED;
199505052020122001;;Dewi Lestari;umum;;;04/01/2027
"""
"""A clean employee file, as HR's Excel saves it (semicolons): four employees, three cards."""

_runner = CliRunner()


def write_config(folder: Path, settings: StateSettings) -> Path:
    """A collector configuration file in ``folder`` whose state database is ``settings``'."""
    state: dict[str, str] = {"url": settings.url}
    if settings.password is not None:
        state["password"] = settings.password.get_secret_value()
    path = folder / "collector.yaml"
    text = yaml.safe_dump({"state": state, "attendance": {"units": UNITS}})
    path.write_text(text, encoding="utf-8")
    return path


def run(config: Path, *args: str) -> Result:
    """Run ``pelangi-collector ARGS -c CONFIG``.

    Raises:
        AssertionError: the command ended in a traceback, which is never an answer.
    """
    result = _runner.invoke(app, [*args, "-c", str(config)])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"pelangi-collector {' '.join(args)} raised: {result.output}")
    return result


def sh(config: Path, line: str) -> Result:
    """:func:`run` with the arguments written as in a shell: ``sh(config, "employees list")``."""
    return run(config, *shlex.split(line))


def write(folder: Path, name: str, text: str) -> Path:
    """The file ``name`` in ``folder`` holding ``text`` (UTF-8)."""
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def import_employees(folder: Path, config: Path) -> None:
    """Import :data:`EMPLOYEES` with cards from :data:`EFFECTIVE`.

    Raises:
        AssertionError: the import did not succeed.
    """
    path = write(folder, "pegawai.csv", EMPLOYEES)
    result = run(config, "employees", "import", str(path), "--effective", EFFECTIVE)
    if result.exit_code != 0:
        raise AssertionError(f"importing {path} failed: {result.output}")
