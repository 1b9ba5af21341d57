"""Is the gateway's clock sane? Judged against a collector's presence ``ts``; NTP status.

The judgement (:func:`judge_clock`) is pure: the reference time, the local time and how
old the reference may be are passed in. A retained presence was published up to one
presence interval ago (the collector refreshes it that often), so a correct clock reads
it between that interval and zero seconds in the past; only what lies outside that
window is skew.
"""

from __future__ import annotations

import shutil
import subprocess
from typing import Final

from edge_agent import ntp
from pelangi.doctor import Finding, failed, passed, skipped, warned

FAIL_BEYOND_S: Final = 300.0
"""Beyond this the gateway's clock is wrong, not drifting (readings dead-lettered as too old
or in the future, attendance on the wrong minute)."""

SET_CLOCK_FIX: Final = (
    "enable NTP (sudo timedatectl set-ntp true) or set the clock by hand (sudo date -s "
    "'YYYY-MM-DD HH:MM:SS'); meanwhile the agent stamps readings with the collectors' time "
    "(clock_corrected) beyond clock_tolerance_s"
)


def clock_skew_s(reference_ns: int, local_ns: int, max_age_s: float) -> float:
    """How far the local clock is off (s): positive behind, negative ahead, 0 within doubt.

    ``reference_ns`` was the true time at most ``max_age_s`` before ``local_ns`` was read.
    """
    offset_s = (reference_ns - local_ns) / 1e9
    if offset_s > 0:
        return offset_s
    if offset_s < -max_age_s:
        return offset_s + max_age_s
    return 0.0


def judge_clock(  # noqa: PLR0913 - the measurement and its two limits, named
    reference_ns: int,
    local_ns: int,
    *,
    max_age_s: float,
    source: str,
    warn_beyond_s: float = 2.0,
    fail_beyond_s: float = FAIL_BEYOND_S,
) -> Finding:
    """The clock check's finding for one measurement against ``source``'s time."""
    skew = clock_skew_s(reference_ns, local_ns, max_age_s)
    if skew == 0:
        return passed(f"within {max_age_s + warn_beyond_s:g} s of {source}")
    words = f"{_duration(abs(skew))} {'behind' if skew > 0 else 'ahead of'} {source}"
    if abs(skew) > fail_beyond_s:
        return failed(f"the gateway's clock is {words}", SET_CLOCK_FIX)
    if abs(skew) > warn_beyond_s:
        return warned(f"the gateway's clock is {words}", SET_CLOCK_FIX)
    return passed(f"{words} (within {warn_beyond_s:g} s)")


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.1f} s"
    minutes = round(seconds / 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def ntp_status() -> Finding:
    """Whether NTP keeps the clock: timedatectl if present, else the kernel's flag."""
    timedatectl = shutil.which("timedatectl")
    if timedatectl is not None:
        done = subprocess.run(
            [timedatectl, "show", "-p", "NTPSynchronized", "--value"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
        answer = done.stdout.strip()
        if done.returncode == 0 and answer in {"yes", "no"}:
            return _ntp_finding(synced=answer == "yes", how="timedatectl")
    synced = ntp.synchronized()
    if synced is None:
        return skipped("cannot tell: no timedatectl answer and no adjtimex")
    return _ntp_finding(synced=synced, how="the kernel's clock status")


def _ntp_finding(*, synced: bool, how: str) -> Finding:
    if synced:
        return passed(f"the clock is NTP-synchronised ({how})")
    return warned(
        f"the clock is not NTP-synchronised ({how})",
        "enable an NTP client (sudo timedatectl set-ntp true, or install chrony) and let "
        "it reach a time server; without one the clock check above is the only safeguard",
    )
