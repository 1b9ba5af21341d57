"""The pure parts of doctor: the exit rule, the runner's skips and timeouts, the report's
lines, the clock judgement, and the permission findings (with a stand-in for os.access,
so they are tested as root too)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from edge_agent.toolkit.doctor.clock import clock_skew_s, judge_clock
from edge_agent.toolkit.doctor.devices import port_usable
from edge_agent.toolkit.doctor.storage import folder_usable
from pelangi.doctor import (
    Check,
    Finding,
    Result,
    exit_status,
    failed,
    passed,
    run_checks,
    skipped,
    warned,
)
from pelangi.doctor.report import format_line, summary

if TYPE_CHECKING:
    from pathlib import Path

S = 10**9


def results(*statuses: str) -> list[Result]:
    makers = {"ok": passed, "skip": skipped}
    return [
        Result(
            f"c{i}", makers[s](s) if s in makers else (warned if s == "warn" else failed)(s, "x")
        )
        for i, s in enumerate(statuses)
    ]


def test_exit_status_is_0_1_or_2() -> None:
    assert exit_status(results("ok", "skip")) == 0
    assert exit_status(results("ok", "warn", "skip")) == 1
    assert exit_status(results("warn", "fail", "ok")) == 2
    assert exit_status([]) == 0


def test_a_check_whose_need_failed_is_skipped_but_a_not_applicable_one_blocks_nothing() -> None:
    ran: list[str] = []

    def ok(name: str) -> Check:
        def run() -> Finding:
            ran.append(name)
            return passed("fine")

        return Check(name, run, needs=("tls",))

    checks = [
        Check("tls", lambda: skipped("no TLS configured")),
        ok("login"),
        Check("broken", lambda: failed("down", "start it")),
        Check("after", lambda: passed("never"), needs=("broken",)),
        Check("later", lambda: passed("never"), needs=("after",)),
    ]
    done = run_checks(checks)
    assert ran == ["login"]
    assert [r.status for r in done] == ["skip", "ok", "fail", "skip", "skip"]
    assert done[3].finding.found == "skipped: needs 'broken', which failed"
    assert done[4].finding.found == "skipped: needs 'after', which could not run"


def test_a_hanging_check_times_out_and_a_raising_one_fails_without_a_traceback() -> None:
    never = threading.Event()

    def hangs() -> Finding:
        never.wait()
        raise AssertionError

    def raises() -> Finding:
        raise OSError(5, "Input/output error")

    done = run_checks(
        [
            Check("hangs", hangs, timeout_s=0.05, fix_on_timeout="check the link"),
            Check("raises", raises),
        ]
    )
    never.set()
    assert done[0].finding == failed("no answer within 0.05 s", "check the link")
    assert done[1].status == "fail"
    assert "OSError" in done[1].finding.found


def test_lines_and_summary() -> None:
    bad = Result("broker login", failed("refused", "copy the password"))
    assert format_line(bad) == ["✗ broker login: refused", "  fix: copy the password"]
    assert format_line(Result("tls", skipped("no TLS"))) == ["- tls: no TLS"]
    assert format_line(Result("ntp", warned("unsynced", "enable NTP")))[0] == "! ntp: unsynced"
    assert summary([bad, Result("tls", skipped("no"))]) == (
        "0 passed, 0 warning(s), 1 failed, 1 skipped (exit status 2)"
    )


def test_clock_skew_allows_for_the_age_of_a_retained_presence() -> None:
    now = 1_700_000_000 * S
    assert clock_skew_s(now - 5 * S, now, max_age_s=10) == 0  # a presence 5 s old
    assert clock_skew_s(now + 3 * S, now, max_age_s=10) == 3  # we are 3 s behind
    assert clock_skew_s(now - 70 * S, now, max_age_s=10) == -60  # we are 60 s ahead


def test_clock_judgement_warns_beyond_the_tolerance_and_fails_beyond_five_minutes() -> None:
    now = 1_700_000_000 * S

    def judged(reference_ns: int) -> Finding:
        return judge_clock(reference_ns, now, max_age_s=10, source="collector pusat")

    assert judged(now - 2 * S).status == "ok"
    assert judged(now + S).status == "ok"
    drifting = judged(now + 30 * S)
    assert drifting == warned("the gateway's clock is 30.0 s behind collector pusat", drifting.fix)
    hour = judged(now - 3610 * S)
    assert hour.status == "fail"
    assert hour.found == "the gateway's clock is 1 h 0 min ahead of collector pusat"
    assert "timedatectl set-ntp true" in hour.fix


def test_a_port_this_user_may_not_open_names_the_group(tmp_path: Path) -> None:
    device = tmp_path / "ttyUSB0"
    device.touch()
    refused = port_usable(str(device), "pelangi", access=lambda _p, _m: False)
    assert refused.status == "fail"
    assert refused.found.startswith(f"{device} exists but this user (pelangi) may not read")
    assert "sudo usermod -aG" in refused.fix
    assert "pelangi, then log in again" in refused.fix
    assert port_usable(str(device), "pelangi", access=lambda _p, _m: True).status == "ok"


def test_an_outbox_folder_this_user_may_not_write_says_chown(tmp_path: Path) -> None:
    outbox = tmp_path / "state" / "outbox.db"
    refused = folder_usable(outbox, "pelangi", access=lambda _p, _m: False)
    assert refused.found == f"{tmp_path} is not writable by this user (pelangi)"
    assert f"sudo chown -R pelangi {outbox.parent}" in refused.fix
    fine = folder_usable(outbox, "pelangi")
    assert fine.status in {"ok", "warn"}
    assert f"(to be created in {tmp_path})" in fine.found
