"""Doctor's local checks on real files and programs: the outbox read only, and NTP."""

from __future__ import annotations

from typing import TYPE_CHECKING

from edge_agent.toolkit.doctor.clock import ntp_status
from edge_agent.toolkit.doctor.storage import backlog
from pelangi.card import CardId
from pelangi.payloads import CardRead
from sandbox.doctor import fake_timedatectl

if TYPE_CHECKING:
    from pathlib import Path

    import pytest

    from sandbox.outboxes import FakeClock, Outboxes

HOUR_NS = 3600 * 10**9


def card(seq: int, ts: int) -> bytes:
    read = CardRead(seq=seq, ts=ts, card=CardId(raw="01001293D8", uid="001293D8"))
    return read.model_dump_json().encode()


def test_the_backlog_counts_waiting_readings_and_warns_when_the_oldest_is_old(
    open_outbox: Outboxes, clock: FakeClock, tmp_path: Path
) -> None:
    path = tmp_path / "outbox.db"
    assert backlog(path, clock.wall_ns()).found.startswith("no outbox yet")
    outbox = open_outbox(path)
    now = clock.wall_ns()
    assert backlog(path, now).found == "the outbox is empty: every reading has left"
    outbox.append(
        "rfid-lobi", card(1, now - 2 * HOUR_NS), is_event=True, ts=now - 2 * HOUR_NS, seq=1
    )
    outbox.append("rfid-lobi", card(2, now), is_event=True, ts=now, seq=2)
    found = backlog(path, now)
    assert found.status == "warn"
    assert found.found == "2 reading(s) waiting, the oldest from 120 min ago"
    assert "see the broker and collector checks" in found.fix
    assert backlog(path, now - HOUR_NS - 10**9).status == "ok"  # then, it was under an hour old


def test_ntp_follows_timedatectl_and_falls_back_to_the_kernel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", fake_timedatectl(tmp_path / "yes", "yes"))
    assert ntp_status().found == "the clock is NTP-synchronised (timedatectl)"
    monkeypatch.setenv("PATH", fake_timedatectl(tmp_path / "no", "no"))
    unsynced = ntp_status()
    assert unsynced.status == "warn"
    assert "timedatectl set-ntp true" in unsynced.fix
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no timedatectl at all
    assert ntp_status().found.endswith("(the kernel's clock status)")
