"""The attendance part of ``make demo``: registry, a month of history, compute, report, today.

The office's employees, cards, rosters and leave go in through the import commands HR
uses (``employees import``, ``roster import``, ``attendance leave import``), a card moving
to another employee mid-month included (the import asks to confirm it). A synthetic last
month of taps (:func:`sandbox.attendance.synthetic_month`) and today's taps so far are
written to InfluxDB as the gateways would have sent them; the cards tapped earlier in
the demo belong to three named employees, so their taps of a moment ago are in today's
recap. Then ``attendance compute``, ``attendance report`` (an XLSX kept after the demo)
and ``attendance today``, each run as HR or a technician would run it.
"""

from __future__ import annotations

import csv
import shutil
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from collector.attendance.holidays import load_holidays
from collector.attendance.model import WITA
from collector.attendance.schedules import default_schedules
from collector.config import InfluxV1Settings
from collector.storage.influx_v1 import InfluxV1Writer
from sandbox.attendance import UNITS, Month, card_read_lines, synthetic_month
from sandbox.card_frames import card_uid
from sandbox.demo.output import say, step

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from collector.attendance.holidays import HolidayCalendar
    from collector.attendance.model import Tap
    from sandbox.deployment import Deployment

REPO: Final = Path(__file__).resolve().parents[2]
HOLIDAYS: Final = REPO / "config" / "holidays-2026.example.yaml"
STAFF: Final = 45
"""Office staff of the synthetic office (plus its four guards)."""
HOLDERS: Final = (
    ("Rina Wati", "01001293D8"),
    ("Budi Santoso", "62E3086CED"),
    ("Dewi Lestari", "0A00C0FFEE"),
)
"""Who holds the cards the demo tapped on its reader (their RDM6300 frames' numbers)."""
TODAY_LINES: Final = 12
DEMO_SCHEDULE: Final = "piket"
DEMO_SHIFT: Final = "jaga"
DUTY: Final = timedelta(hours=8)
EXIT_TO_CONFIRM: Final = 3
"""``employees import`` without ``--apply``: the report needs a person, nothing changed."""
MISTYPED_NIP: Final = "19850312201001100"
"""A NIP Excel stored as a number, its last digit lost: the import refuses that row."""
EMPLOYEE_COLUMNS: Final = (
    "nip",
    "kode",
    "nama",
    "unit",
    "kartu",
    "kartu_mulai",
    "aktif_mulai",
    "jadwal",
)


def collector_extra(work: Path) -> dict[str, Any]:
    """The collector configuration's ``state`` and ``attendance`` sections for the demo."""
    holidays = work / "holidays-2026.yaml"
    work.mkdir(parents=True, exist_ok=True)
    shutil.copy(HOLIDAYS, holidays)
    units: dict[str, dict[str, str]] = {code: {"name": name} for code, name in UNITS.items()}
    units["satpam"]["schedule"] = "shift"
    schedules: dict[str, Any] = {
        name: schedule.model_dump(mode="json") for name, schedule in default_schedules().items()
    }
    # The holders of the demo's cards are on duty from now on (a shift rostered today, like
    # a guard's), so the taps of a moment ago count whatever the hour the demo runs at. A
    # demo started just before midnight reports that shift on the day it began.
    start = datetime.now(WITA).replace(second=0, microsecond=0)
    schedules[DEMO_SCHEDULE] = {
        "kind": "shift",
        "shifts": {DEMO_SHIFT: {"start": f"{start:%H:%M}", "end": f"{start + DUTY:%H:%M}"}},
        "grace_min": 15,
    }
    return {
        "state": {"url": f"sqlite:///{work / 'state.db'}"},
        "attendance": {
            "units": units,
            "schedules": schedules,
            "holidays_file": holidays.name,  # relative: found beside collector.yaml
            "ramadan": [{"first": "2026-02-19", "last": "2026-03-20"}],
        },
    }


@dataclass(frozen=True)
class Office:
    """The synthetic office: last month in full, and this month's taps up to now."""

    month: Month
    today: date
    taps_today: list[Tap]


def show_attendance(deployment: Deployment, report_dir: Path) -> Path:
    """The attendance story; returns the report file it wrote (kept after the demo)."""
    now = datetime.now(WITA)
    office = _office(now)
    work = deployment.workdir
    month = office.month

    step("Registering the office's employees and cards: pelangi-collector employees import")
    staff = work / "pegawai.csv"
    _write_employees(staff, month)
    say(f"    {staff.name}: {len(month.employees) + len(HOLDERS)} employees, and one NIP mistyped")
    _show(deployment.collector_command("employees", "import", staff, "--apply"))
    # (--apply straight away: the mistyped row is left out, every other row goes in.)

    step("A card changes hands mid-month: the import asks to confirm before it moves")
    moved = work / "kartu-pindah.csv"
    _write_card_move(moved, month)
    _show(deployment.collector_command("employees", "import", moved, ok=(EXIT_TO_CONFIRM,)))
    say("    confirmed with --apply:")
    _show(deployment.collector_command("employees", "import", moved, "--apply"), limit=2, tail=True)

    step("Security guards' shifts and the month's leave: roster import, attendance leave import")
    roster, leave = work / "jadwal-satpam.csv", work / "cuti.csv"
    _write_rows(
        roster,
        ("pegawai", "tanggal", "shift"),
        [(r.employee, r.day.isoformat(), r.shift) for r in month.roster]
        + [(f"demo-{n}", office.today.isoformat(), DEMO_SHIFT) for n in range(1, len(HOLDERS) + 1)],
    )
    _write_rows(
        leave,
        ("pegawai", "jenis", "mulai", "sampai", "sebagian", "jam"),
        [
            (
                item.employee,
                item.kind,
                item.first.isoformat(),
                item.last.isoformat(),
                item.partial or "",
                f"{item.until:%H:%M}" if item.until else "",
            )
            for item in month.leave
        ],
    )
    _show(deployment.collector_command("roster", "import", roster, "--apply"), limit=2, tail=True)
    leave_import = deployment.collector_command("attendance", "leave", "import", leave, "--apply")
    _show(leave_import, limit=2, tail=True)

    taps = [*month.taps, *office.taps_today]
    step(f"Writing {len(taps):,} card taps of {month.first:%B %Y} and of this month to InfluxDB")
    say("    (synthetic history, as the gateways' readers would have stored it)")
    _write_taps(deployment, taps)

    step("Computing attendance from the stored taps: pelangi-collector attendance compute")
    _show(
        deployment.collector_command(
            "attendance", "compute", "--from", str(month.first), "--to", str(office.today)
        )
    )

    step(f"HR's report for {month.first:%B %Y}: pelangi-collector attendance report")
    report = report_dir / f"absensi-{month.first:%Y-%m}.xlsx"
    _show(
        deployment.collector_command(
            "attendance", "report", "--month", f"{month.first:%Y-%m}", "--output", report
        )
    )

    step(
        "Today so far (the cards tapped a moment ago included): pelangi-collector attendance today"
    )
    _show(
        deployment.collector_command("attendance", "today", "--limit", "5"),
        limit=0,
    )
    return report


def _office(now: datetime) -> Office:
    today = now.date()
    first = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    holidays = load_holidays(HOLIDAYS)

    def month_of(day: date) -> Month:
        return synthetic_month(
            day.year, day.month, STAFF, days_off=_holidays(holidays, day), seed=7
        )

    last_month = month_of(first)
    this_month = month_of(today)
    # This month's synthetic cards start afresh; credit today's taps to the cards the
    # registry holds today (last month's, after its mid-month move).
    holder = {c.uid: c.employee for c in this_month.cards if c.valid_on(today)}
    card_of = {c.employee: c.uid for c in last_month.cards if c.valid_on(today)}
    taps = [
        replace(tap, uid=card_of.get(holder.get(tap.uid, ""), tap.uid))
        for tap in this_month.taps
        if tap.at <= now
    ]
    last_month.roster.extend(entry for entry in this_month.roster if entry.day <= today)
    return Office(last_month, today, taps)


def _holidays(holidays: HolidayCalendar, day: date) -> list[date]:
    """The holidays and cuti bersama of ``day``'s month: no office taps on them."""
    first = day.replace(day=1)
    return [first + timedelta(days=n) for n in range(31) if holidays.on(first + timedelta(days=n))]


def _write_employees(path: Path, month: Month) -> None:
    rows: list[tuple[object, ...]] = [
        (
            e.nip or "",
            "" if e.nip else e.key,
            e.name,
            e.unit,
            _card(month, e.key),
            month.first,
            "",
            "",
        )
        for e in month.employees
    ]
    # The holders of the demo's cards joined today: their taps of a moment ago are their first.
    today = datetime.now(WITA).date()
    rows += [
        ("", f"demo-{n}", name, "diskominfo", card_uid(frame), today, today, DEMO_SCHEDULE)
        for n, (name, frame) in enumerate(HOLDERS, start=1)
    ]
    rows.insert(0, (MISTYPED_NIP, "", "Pegawai Salah Ketik", "bappeda", "", month.first, "", ""))
    _write_rows(path, EMPLOYEE_COLUMNS, rows)


def _card(month: Month, key: str) -> str:
    """The employee's card on the month's first day."""
    return next(c.uid for c in month.cards if c.employee == key and c.valid_on(month.first))


def _write_card_move(path: Path, month: Month) -> None:
    """The synthetic month's mid-month move, as HR would send it: one row per employee."""
    moved = month.first.replace(day=15)
    rows = []
    for employee in month.employees[:2]:
        card = next(
            c.uid for c in month.cards if c.employee == employee.key and c.valid_from == moved
        )
        key = employee.nip or employee.key
        rows.append(
            (
                employee.nip or "",
                "" if employee.nip else key,
                employee.name,
                employee.unit,
                card,
                moved,
            )
        )
    _write_rows(path, EMPLOYEE_COLUMNS, rows)


def _write_rows(path: Path, headers: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(headers)
        writer.writerows(rows)


def _write_taps(deployment: Deployment, taps: Sequence[Tap]) -> None:
    writer = InfluxV1Writer(
        InfluxV1Settings(url=deployment.influx.url, database=deployment.database)
    )
    try:
        lines = card_read_lines(taps)
        for start in range(0, len(lines), 5000):
            writer.write(lines[start : start + 5000])
    finally:
        writer.close()


def _show(output: str, *, limit: int = TODAY_LINES, tail: bool = False) -> None:
    """The command's output, indented; at most ``limit`` lines (0: all), the last if ``tail``."""
    lines = output.splitlines()
    if limit <= 0 or len(lines) <= limit:
        shown, hidden = lines, 0
    else:
        shown, hidden = (lines[-limit:] if tail else lines[:limit]), len(lines) - limit
    if tail and hidden:
        say(f"    ... ({hidden} lines of the report above)")
    for line in shown:
        say(f"    {line}")
    if hidden and not tail:
        say(f"    ... ({hidden} more lines)")
