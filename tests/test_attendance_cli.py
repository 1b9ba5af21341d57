"""``attendance compute|report|today|run`` against a real InfluxDB and state database.

The rules and the report's layout have their own tests; these check the commands: what
they read and store, the files they write, their messages and exit statuses when the
input or a server is wrong, and that ``attendance run`` (a real process) keeps days
up to date and stops cleanly on SIGTERM.
"""

from __future__ import annotations

import csv
import os
import shutil
import signal
import subprocess
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from openpyxl import load_workbook
from typer.testing import CliRunner

from collector.attendance.model import WITA, CardAssignment, Employee, Tap
from collector.attendance.registry import Registry
from collector.cli import app
from collector.config import InfluxV1Settings
from collector.state import open_state
from collector.storage.influx_v1 import InfluxV1Writer
from sandbox.attendance import card_read_lines
from sandbox.processes import venv_program
from sandbox.servers.base import free_port
from sandbox.waiting import wait_until

if TYPE_CHECKING:
    from collector.state import StateSettings
    from sandbox.servers import InfluxDB

pytestmark = pytest.mark.servers

REPO = Path(__file__).resolve().parents[1]
MONDAY = date(2026, 3, 2)
NIP = "199001012020121001"
UNITS = {"diskominfo": {"name": "Dinas Komunikasi dan Informatika"}}


def at(day: date, hour: int, minute: int, second: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute, second), WITA)


def tap(uid: str, when: datetime, reader: str = "rfid-lobby") -> Tap:
    return Tap(uid, when, "bukit-pelangi", "gw-1", reader)


def write_config(
    folder: Path, influx: dict[str, Any], state: StateSettings, **attendance: Any
) -> Path:
    """A collector configuration with an attendance section and the example holiday file."""
    shutil.copy(REPO / "config" / "holidays-2026.example.yaml", folder / "holidays-2026.yaml")
    state_section: dict[str, Any] = {"url": state.url}
    if state.password is not None:
        state_section["password"] = state.password.get_secret_value()
    document = {
        "influxdb": influx,
        "state": state_section,
        "attendance": {"units": UNITS, "holidays_file": "holidays-2026.yaml", **attendance},
    }
    path = folder / "collector.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


@pytest.fixture
def config(
    tmp_path: Path, influxdb: InfluxDB, influx_db: str, state_settings: StateSettings
) -> Path:
    """A configured office: two employees, one card each, taps on Monday 2 March 2026."""
    with open_state(state_settings) as database, Registry(database).changes() as changes:
        for employee, uid in ((NIP, "00A00001"), ("honorer-7", "00A00002")):
            name = "Siti Rahmawati" if employee == NIP else "Andi Saputra"
            nip = NIP if employee == NIP else None
            changes.put_employee(Employee(employee, name, "diskominfo", nip=nip))
            changes.assign_card(CardAssignment(uid, employee, date(2025, 1, 1)))
    writer = InfluxV1Writer(InfluxV1Settings(url=influxdb.url, database=influx_db))
    writer.write(
        card_read_lines(
            [
                tap("00A00001", at(MONDAY, 7, 45, 59)),  # 15 minutes late: TL1
                tap("00A00001", at(MONDAY, 16, 2)),
                tap("0BADCAFE", at(MONDAY, 7, 12)),  # nobody's card: listed, not dropped
            ]
        )
    )
    writer.close()
    return write_config(tmp_path, {"url": influxdb.url, "database": influx_db}, state_settings)


def cli(*args: str | Path) -> Any:
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def test_compute_then_report_as_csv(config: Path, tmp_path: Path) -> None:
    computed = cli(
        "attendance", "compute", "--from", "2026-03-02", "--to", "2026-03-03", "-c", config
    )
    assert computed.exit_code == 0, computed.output
    assert "computed 2026-03-02..2026-03-03: 2 days, 3 taps -> 4 results" in computed.stdout
    assert "1 taps of unknown cards" in computed.stdout

    out = tmp_path / "maret.csv"
    made = cli("attendance", "report", "--month", "2026-03", "-f", "csv", "-o", out, "-c", config)
    assert made.exit_code == 0, made.output
    # Only two days of March were computed: the rest are named, as ranges.
    assert "29 day(s) without computed results (2026-03-01, 2026-03-04..2026-03-31)" in made.stderr
    with out.open(encoding="utf-8-sig") as file:
        rows = list(csv.reader(file))
    monday = [row for row in rows[1:] if row[0] == "2026-03-02"]
    assert [row[:8] for row in monday] == [
        [
            "2026-03-02",
            "Senin",
            "honorer-7",
            "Andi Saputra",
            "Dinas Komunikasi dan Informatika",
            "TK",
            "",
            "",
        ],
        [
            "2026-03-02",
            "Senin",
            NIP,
            "Siti Rahmawati",
            "Dinas Komunikasi dan Informatika",
            "H",
            "07:45",
            "16:02",
        ],
    ]
    unknown = out.with_name("maret-kartu-tak-dikenal.csv")
    assert f"wrote {unknown}" in made.stdout
    assert "0BADCAFE" in unknown.read_text(encoding="utf-8-sig")


def test_report_xlsx_gets_a_default_name_in_the_working_folder(
    config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli("attendance", "compute", "--date", "2026-03-02", "-c", config).exit_code == 0
    monkeypatch.chdir(tmp_path)
    made = cli("attendance", "report", "--date", "2026-03-02", "--unit", "diskominfo", "-c", config)
    assert made.exit_code == 0, made.output
    book = load_workbook(tmp_path / "absensi-2026-03-02-diskominfo.xlsx")
    assert book.sheetnames[0] == "Rekap Harian"
    assert any("Diskominfo" in name or "diskominfo" in name.lower() for name in book.sheetnames[1:])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("compute", "--date", "2999-01-01"), "is in the future"),
        (("compute", "--date", "2026-03-02", "--from", "2026-03-01"), "give one of --date, --from"),
        (("compute", "--from", "2026-03-05", "--to", "2026-03-01"), "is before --from"),
        (("compute",), "say which days: --date or --from/--to"),
        (("compute", "--date", "2026-02-30"), "2026-02-30"),
        (("report", "--month", "2026-13"), "2026-13"),
    ],
)
def test_bad_dates_are_usage_errors(config: Path, args: tuple[str, ...], message: str) -> None:
    result = cli("attendance", *args, "-c", config)
    assert result.exit_code == 2  # click's usage error
    assert message in " ".join(result.stderr.split())


def test_an_unknown_unit_is_refused_with_the_known_ones(config: Path) -> None:
    result = cli("attendance", "report", "--date", "2026-03-02", "--unit", "dinkes", "-c", config)
    assert result.exit_code == 1
    assert "dinkes" in result.stderr
    assert "diskominfo" in result.stderr


def test_a_year_without_holidays_is_warned_about(config: Path) -> None:
    result = cli("attendance", "compute", "--date", "2025-12-31", "-c", config)
    assert result.exit_code == 0, result.output
    assert "the holiday file has no dates for 2025" in result.stderr


def test_a_bad_holiday_file_names_its_line(config: Path) -> None:
    holidays = config.parent / "holidays-2026.yaml"
    text = holidays.read_text()
    bad_line = text.splitlines().index("    2026-01-01: Tahun Baru 2026 Masehi") + 1
    holidays.write_text(text.replace("2026-01-01: Tahun", "2026-02-31: Tahun"))
    result = cli("attendance", "compute", "--date", "2026-03-02", "-c", config)
    assert result.exit_code == 1
    assert "holidays-2026.yaml" in result.stderr
    assert "2026-02-31" in result.stderr
    assert f"line {bad_line}" in result.stderr
    assert "Traceback" not in result.output


def test_influxdb_down_is_one_line_not_a_traceback(
    tmp_path: Path, state_settings: StateSettings
) -> None:
    nothing = free_port()  # nothing listens there: "InfluxDB is down"
    config = write_config(
        tmp_path, {"url": f"http://127.0.0.1:{nothing}", "timeout_s": 2}, state_settings
    )
    result = cli("attendance", "compute", "--date", "2026-03-02", "-c", config)
    assert result.exit_code == 1
    assert f"127.0.0.1:{nothing}" in result.stderr
    assert "Traceback" not in result.output


def test_today_counts_every_active_employee(config: Path) -> None:
    result = cli("attendance", "today", "-c", config)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Kehadiran ")
    assert lines[0].endswith(" WITA")
    total = next(line for line in lines if line.startswith("Jumlah"))
    assert total.split()[1] == "2"  # both employees have a result today, whatever the hour


def test_run_keeps_today_and_yesterday_and_stops_on_sigterm(
    config: Path, state_settings: StateSettings
) -> None:
    command = [str(venv_program("pelangi-collector")), "attendance", "run", "--interval", "10"]
    command += ["-c", str(config)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    try:
        today = datetime.now(WITA).date()
        with open_state(state_settings) as database:
            registry = Registry(database)

            def both_days_stored() -> bool:
                days = {r.day for r in registry.day_results(today - timedelta(days=1), today)}
                return days == {today - timedelta(days=1), today}

            wait_until(
                both_days_stored, timeout=60, what="attendance run stored yesterday and today"
            )
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, stderr
    assert "received SIGTERM, stopping" in stderr


def test_validate_reads_the_holiday_file_only_for_attendance(config: Path) -> None:
    holidays = config.parent / "holidays-2026.yaml"
    assert "attendance OK: 1 unit(s)" in cli("validate", "--attendance", "-c", config).stdout
    holidays.unlink()
    # The collector's own check does not depend on attendance's files...
    assert cli("validate", "-c", config).exit_code == 0
    # ...the attendance service's does, and names the file.
    result = cli("validate", "--attendance", "-c", config)
    assert result.exit_code == 1
    assert f"{holidays}: cannot read the file" in result.stderr
