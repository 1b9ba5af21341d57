"""``alerts list|outbox|silence ...`` against a real state database (SQLite and PostgreSQL).

The store has its own tests; these check what the commands show (aligned tables, times in
WITA, which alerts and silences), what they store, and their messages and exit statuses
for a bad matcher, a bad time and a store that refuses or cannot be opened.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

import pytest
import typer
from hypothesis import given
from hypothesis import strategies as st

from collector.alerts.cli_silences import parse_duration, parse_matchers
from collector.alerts.model import (
    Alert,
    AlertKey,
    Audience,
    Notification,
    NotificationKind,
    Phase,
    Severity,
    Transition,
)
from collector.alerts.silences import PARTS
from collector.alerts.store import AlertStore
from collector.state import StateSettings, open_state
from sandbox.alerts_cli import configured
from sandbox.registry_cli import run, sh

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

T = TypeVar("T")

pytestmark = pytest.mark.servers

# Silences are judged against the real clock: the alerts are made around it.
NOW = datetime.now(UTC).replace(microsecond=0)
DOOR = AlertKey("door_held_open", "bukit-pelangi", "gw-kantor-bupati", "pintu-utama")
PORT = AlertKey("port_down", "bukit-pelangi", "gw-diskominfo", "sw-core", "Gi0/1")
GATEWAY = AlertKey("gateway_offline", "bukit-pelangi", "gw-gudang")


def alert(key: AlertKey, phase: Phase, since: datetime, **more: Any) -> Alert:
    audience = Audience.SECURITY if key.rule.startswith("door") else Audience.IT
    return Alert(key, Severity.CRITICAL, audience, phase, since, **more)


@pytest.fixture
def config(tmp_path: Path, state_settings: StateSettings) -> Path:
    """An office with a door firing, a port pending and a gateway resolved, one message queued."""
    fired = NOW - timedelta(minutes=7)
    door = alert(DOOR, Phase.FIRING, fired, fired_at=fired, value="terbuka 12 menit")
    port = alert(PORT, Phase.PENDING, NOW - timedelta(seconds=20), value="down")
    gateway = alert(
        GATEWAY,
        Phase.RESOLVED,
        NOW - timedelta(hours=2),
        fired_at=NOW - timedelta(hours=2),
        resolved_at=NOW - timedelta(hours=1),
    )
    message = Notification(
        "firing-door-1", NotificationKind.FIRING, Audience.SECURITY, "security bukit-pelangi",
        (door,), NOW - timedelta(minutes=7),
    )  # fmt: skip
    with open_state(state_settings) as database:
        store = AlertStore(database)
        store.apply([Transition(a, None, NOW) for a in (door, port, gateway)], [message])
        store.failed("firing-door-1", "connect: 0 connection refused", NOW + timedelta(minutes=1))
    return configured(tmp_path, state_settings)


def wita(moment: datetime) -> str:
    return f"{moment.astimezone(UTC) + timedelta(hours=8):%Y-%m-%d %H:%M}"


def test_list_shows_firing_then_pending_aligned_in_wita_and_all_adds_the_resolved(
    config: Path,
) -> None:
    listed = run(config, "alerts", "list")
    assert listed.exit_code == 0, listed.output
    lines = listed.stdout.splitlines()
    assert lines[0] == "Alerts firing and pending:"
    header, firing, pending = lines[1:4]
    assert header.split() == [
        "phase", "rule", "where", "severity", "audience", "since", "(WITA)", "fired", "(WITA)",
        "value", "note",
    ]  # fmt: skip
    assert firing.split()[:4] == ["firing", "door_held_open", str(DOOR).split()[1], "critical"]
    assert wita(NOW - timedelta(minutes=7)) in firing
    assert "terbuka 12 menit" in firing
    assert pending.split()[:3] == [
        "pending",
        "port_down",
        "bukit-pelangi/gw-diskominfo/sw-core/Gi0/1",
    ]
    # Aligned: each column starts where its header does.
    assert firing.index("door_held_open") == header.index("rule") == pending.index("port_down")
    assert "gateway_offline" not in listed.stdout
    assert "Silences: none" in listed.stdout
    assert listed.stderr == "1 firing, 1 pending; 0 silence(s)\n"

    everything = run(config, "alerts", "list", "--all")
    assert everything.exit_code == 0, everything.output
    [resolved] = [line for line in everything.stdout.splitlines() if "gateway_offline" in line]
    assert resolved.startswith("  resolved")
    assert wita(NOW - timedelta(hours=1)) in resolved
    assert everything.stderr == "1 firing, 1 pending, 1 resolved; 0 silence(s)\n"


def test_silence_add_list_remove_and_the_list_says_which_alert_it_silences(config: Path) -> None:
    added = sh(
        config,
        "alerts silence add --match rule=door_* --match site=bukit-pelangi --for 2h "
        "--comment 'renovasi lobi' --by budi",
    )
    assert added.exit_code == 0, added.output
    assert added.stdout.startswith("added silence 1: rule=door_* site=bukit-pelangi from ")
    assert added.stdout.endswith(f"until {wita(datetime.now(UTC) + timedelta(hours=2))} WITA\n")

    later = sh(config, "alerts silence add -m device=sw-core --until 2099-12-04T08:00")
    assert later.exit_code == 0, later.output
    assert "until 2099-12-04 08:00 WITA" in later.stdout

    listed = sh(config, "alerts silence list")
    assert listed.exit_code == 0, listed.output
    header, first, second = listed.stdout.splitlines()
    assert header.split()[:3] == ["id", "matches", "from"]
    assert first.split()[:3] == ["1", "rule=door_*", "site=bukit-pelangi"]
    assert first.rstrip().endswith("budi  renovasi lobi")
    assert second.split()[:2] == ["2", "device=sw-core"]
    assert "2099-12-04 08:00" in second
    assert listed.stderr == "2 silence(s)\n"

    alerts = sh(config, "alerts list")
    [door] = [line for line in alerts.stdout.splitlines() if "door_held_open" in line]
    assert door.rstrip().endswith("silenced by 1")
    [port] = [line for line in alerts.stdout.splitlines() if "port_down" in line]
    assert port.rstrip().endswith("silenced by 2")

    removed = sh(config, "alerts silence remove 1")
    assert (removed.exit_code, removed.stdout) == (
        0,
        "removed silence 1: rule=door_* site=bukit-pelangi\n",
    )
    again = sh(config, "alerts silence remove 1")
    assert (again.exit_code, again.stderr) == (
        1,
        "pelangi-collector: there is no silence with id 1\n",
    )
    assert sh(config, "alerts silence list").stderr == "1 silence(s)\n"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            "--match door=pintu-utama --for 2h",
            (
                "--match: expected PART=GLOB with PART one of rule, site, gateway, device, item, "
                "got 'door=pintu-utama'"
            ),
        ),
        ("--match site=a --match site=b --for 2h", "--match: expected one matcher per part"),
        ("--match site= --for 2h", "empty glob for ['site']"),
        ("--match site=x --for soon", "--for: expected a duration such as 2h, 30m"),
        ("--match site=x --until besok", "--until: expected a time such as 2026-12-04T08:00"),
        ("--match site=x", "--until/--for: expected exactly one of them, got 'neither'"),
        ("--match site=x --for 1h --until 2099-01-01T00:00", "got 'both'"),
        ("--match site=x --until 2020-01-01T08:00", "a silence must end after it starts"),
    ],
)
def test_a_bad_silence_is_named_and_refused_with_status_2(
    tmp_path: Path, arguments: str, message: str
) -> None:
    config = configured(tmp_path, StateSettings(url=f"sqlite:///{tmp_path / 'state.db'}"))
    refused = sh(config, f"alerts silence add {arguments}")
    assert refused.exit_code == 2, refused.output
    assert refused.stderr.startswith("pelangi-collector: ")
    assert message in refused.stderr
    assert len(refused.stderr.splitlines()) == 1
    assert refused.stdout == ""


def test_a_state_database_that_cannot_be_opened_is_one_line_and_status_1(tmp_path: Path) -> None:
    missing = StateSettings(url=f"sqlite:///{tmp_path / 'no-such-folder' / 'state.db'}")
    config = configured(tmp_path, missing)
    for line in ("alerts list", "alerts outbox", "alerts silence list", "alerts silence remove 3"):
        failed = sh(config, line)
        assert failed.exit_code == 1, failed.output
        assert failed.stderr.startswith("pelangi-collector: "), failed.stderr
        assert len(failed.stderr.splitlines()) == 1, failed.stderr


def test_outbox_lists_what_waits_with_its_attempts_and_last_error(config: Path) -> None:
    waiting = run(config, "alerts", "outbox")
    assert waiting.exit_code == 0, waiting.output
    header, row = waiting.stdout.splitlines()
    assert header.split()[:5] == ["id", "kind", "audience", "group", "alerts"]
    assert row.split()[:4] == ["firing-door-1", "firing", "security", "security"]
    assert row[header.index("attempts") :].split()[0] == "1"
    assert wita(NOW + timedelta(minutes=1)) in row
    assert row.endswith("connect: 0 connection refused")
    assert waiting.stderr == "1 notification(s) waiting\n"


def test_run_has_help_without_the_engine_being_started(tmp_path: Path) -> None:
    # Only --help: the engine (collector/alerts/service.py) has its own tests.
    shown = run(tmp_path / "collector.yaml", "alerts", "run", "--help")
    assert shown.exit_code == 0, shown.output
    assert "Start the alert engine" in shown.stdout
    assert "--log-level" in shown.stdout


def outcome(read: Callable[[], T]) -> T | int:
    """What ``read`` returned, or the exit status it refused with."""
    try:
        return read()
    except typer.Exit as refused:
        return refused.exit_code


@given(st.text(max_size=20))
def test_a_typed_duration_is_read_or_refused_never_anything_else(text: str) -> None:
    span = outcome(lambda: parse_duration(text))
    if isinstance(span, int):
        assert span == 2
    else:
        assert span > timedelta(0)


@given(st.lists(st.text(max_size=12), min_size=1, max_size=4))
def test_typed_matchers_are_read_or_refused_never_anything_else(texts: list[str]) -> None:
    found = outcome(lambda: parse_matchers(texts))
    if isinstance(found, int):
        assert found == 2
    else:
        assert set(found) <= set(PARTS)
        assert len(found) == len(texts)


def test_durations_read_as_written() -> None:
    assert parse_duration("1d12h") == timedelta(days=1, hours=12)
    assert parse_duration("90s") == timedelta(seconds=90)
    assert parse_duration(" 2H ") == timedelta(hours=2)
