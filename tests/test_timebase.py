"""The gateway's clock: offset from time signals, hysteresis, the frozen anchor, stamping.

Time is passed in (a hand-moved wall and monotonic clock); the anchor file is real, in a
temporary folder; the outbox and the publisher's ``submit`` are the real ones.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Final

import pytest

from edge_agent import ntp
from edge_agent.clock import BIG_STEP_BACK_NS, DeviceClock
from edge_agent.clockanchor import FILE_NAME, AnchorFile
from edge_agent.config import AgentSettings
from edge_agent.emitter import Emitter
from edge_agent.outbox import Outbox, OutboxSettings
from edge_agent.timebase import Anchor, Stamp, TimeBase
from edge_agent.uplink.certificates import BirthInfo
from edge_agent.uplink.publisher import MqttPublisher
from pelangi.card import em4100
from pelangi.liveness import GatewayStatus, decode_liveness
from pelangi.payloads import SCHEMA_VERSION, AgentHealth, CardRead, Envelope, decode, encode
from sandbox.sinks import ListSink

if TYPE_CHECKING:
    from pathlib import Path

    from edge_agent.sink import ReadingSink

S: Final = 1_000_000_000
TRUE_NOW: Final = 1_800_000_000 * S
"""The collectors' time when the test's gateway boots."""
YEAR: Final = 365 * 86_400 * S
DAY: Final = 86_400 * S
BOOT: Final = "boot-1"
CARD = em4100(bytes.fromhex("01001293D8"))


class Clocks:
    """The gateway's wall and monotonic clocks, moved by hand; ``true`` is the real time."""

    def __init__(self, wall_error_ns: int) -> None:
        self.mono = 5 * S  # a few seconds after boot
        self.wall_error = wall_error_ns
        self.true = TRUE_NOW

    def wall(self) -> int:
        return self.true + self.wall_error

    def monotonic(self) -> int:
        return self.mono

    def advance(self, ns: int) -> None:
        self.mono += ns
        self.true += ns

    def signal(self, timebase: TimeBase, latency_ns: int = 0) -> None:
        """A collector's presence published ``latency_ns`` ago, arriving now."""
        timebase.observe(self.true - latency_ns, local_wall_ns=self.wall(), local_mono_ns=self.mono)


def _timebase(
    clocks: Clocks, tolerance_s: float = 2.0, boot_id: str = BOOT, **extra: object
) -> TimeBase:
    return TimeBase(
        tolerance_s,
        boot_id=boot_id,
        wall_ns=clocks.wall,
        mono_ns=clocks.monotonic,
        **extra,  # type: ignore[arg-type]
    )


def _reading_json(ts: int, seq: int = 1) -> bytes:
    return CardRead(seq=seq, ts=ts, card=CARD).model_dump_json().encode()


# -- stamping and hysteresis ------------------------------------------------------------


def test_before_any_signal_readings_get_the_local_clock_and_are_provisional() -> None:
    clocks = Clocks(-YEAR)
    timebase = _timebase(clocks)
    assert timebase.provisional
    assert timebase.stamp() == Stamp(clocks.wall(), corrected=False, mono_ns=clocks.mono)
    assert timebase.status().offset_ms is None
    assert not timebase.status().correcting


def test_a_clock_a_year_behind_is_corrected_from_the_first_signal() -> None:
    clocks = Clocks(-YEAR)
    timebase = _timebase(clocks)
    clocks.signal(timebase)
    clocks.advance(3 * S)
    assert timebase.known
    assert timebase.stamp() == Stamp(clocks.true, corrected=True)
    assert timebase.now_ns() == (clocks.true, True)
    assert timebase.status().offset_ms == YEAR // 1_000_000


def test_correction_starts_beyond_the_tolerance_and_stops_below_half_of_it() -> None:
    clocks = Clocks(-1_500_000_000)  # 1.5 s behind: within 2 s
    timebase = _timebase(clocks, tolerance_s=2.0)
    clocks.signal(timebase)
    assert timebase.stamp() == Stamp(clocks.wall())
    clocks.wall_error = -2_500_000_000  # the wall clock slips: beyond 2 s
    assert timebase.stamp().corrected
    clocks.wall_error = -1_500_000_000  # between 1 and 2 s: keeps correcting
    assert timebase.stamp() == Stamp(clocks.true, corrected=True)
    clocks.wall_error = 900_000_000  # below 1 s (and ahead): back to the local clock
    assert timebase.stamp() == Stamp(clocks.wall())
    assert not timebase.status().correcting


def test_the_estimate_rides_the_monotonic_clock_through_a_wall_clock_step() -> None:
    clocks = Clocks(DAY)
    timebase = _timebase(clocks)
    clocks.signal(timebase)
    clocks.advance(10 * S)
    clocks.wall_error = 0  # NTP finally steps the wall clock: no signal needed to see it
    assert timebase.stamp() == Stamp(clocks.true)
    assert timebase.status().offset_ms == 0


def test_one_wild_signal_is_outvoted_and_latency_costs_only_milliseconds() -> None:
    clocks = Clocks(-YEAR)
    timebase = _timebase(clocks)
    for latency in (20_000_000, 5_000_000, 10_000_000):
        clocks.signal(timebase, latency_ns=latency)
        clocks.advance(S)
    timebase.observe(clocks.true + DAY, local_wall_ns=clocks.wall(), local_mono_ns=clocks.mono)
    error = timebase.stamp().ts - clocks.true
    assert 0 >= error >= -20_000_000


def test_a_signal_out_of_range_is_ignored(caplog: pytest.LogCaptureFixture) -> None:
    clocks = Clocks(0)
    timebase = _timebase(clocks)
    timebase.observe(0, local_wall_ns=clocks.wall(), local_mono_ns=clocks.mono)
    assert timebase.provisional
    assert "out of range" in caplog.text


def test_switching_to_and_from_corrected_time_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    clocks = Clocks(DAY)
    timebase = _timebase(clocks)
    with caplog.at_level(logging.WARNING, logger="edge_agent.timebase"):
        clocks.signal(timebase)
        clocks.wall_error = 0
        timebase.stamp()
    assert "86400.000 s ahead of the collectors'" in caplog.text
    assert "right again" in caplog.text


def test_the_tolerance_must_be_positive() -> None:
    with pytest.raises(ValueError, match="above 0 seconds, got 0"):
        TimeBase(0)


# -- correcting provisional readings: the frozen anchor ---------------------------------


def test_a_provisional_reading_is_corrected_from_the_anchor() -> None:
    clocks = Clocks(DAY)
    timebase = _timebase(clocks)
    stamp = timebase.stamp()
    assert stamp.mono_ns is not None
    body = _reading_json(stamp.ts)
    assert timebase.correct(body, stamp.mono_ns) == body  # no signal yet: nothing to go by
    clocks.advance(60 * S)
    clocks.signal(timebase)
    corrected = json.loads(timebase.correct(body, stamp.mono_ns))
    assert corrected["ts"] == TRUE_NOW
    assert corrected["clock_corrected"] is True
    assert CardRead.model_validate(corrected).card == CARD


def test_a_provisional_reading_within_the_tolerance_is_left_unchanged() -> None:
    clocks = Clocks(1_000_000_000)
    timebase = _timebase(clocks)
    stamp = timebase.stamp()
    assert stamp.mono_ns is not None
    clocks.advance(S)
    clocks.signal(timebase)
    body = _reading_json(stamp.ts)
    assert timebase.correct(body, stamp.mono_ns) == body


def test_a_body_that_is_not_a_reading_is_left_to_the_collector() -> None:
    clocks = Clocks(DAY)
    timebase = _timebase(clocks)
    clocks.signal(timebase)
    for body in (b"not json", b"[1]", b'{"ts": "x"}'):
        assert timebase.correct(body, clocks.mono) == body


def test_later_signals_do_not_move_the_anchor(tmp_path: Path) -> None:
    clocks = Clocks(-YEAR)
    anchors = AnchorFile(tmp_path, BOOT)
    timebase = _timebase(clocks, on_anchor=anchors.save)
    stamp = timebase.stamp()
    assert stamp.mono_ns is not None
    body = _reading_json(stamp.ts)
    clocks.advance(S)
    clocks.signal(timebase, latency_ns=30_000_000)
    first = timebase.correct(body, stamp.mono_ns)
    for _ in range(3):
        clocks.advance(S)
        clocks.signal(timebase)  # a better estimate for new readings, not for old ones
    assert timebase.correct(body, stamp.mono_ns) == first


def test_an_agent_restarted_in_the_same_boot_corrects_exactly_as_before(tmp_path: Path) -> None:
    clocks = Clocks(-YEAR)
    anchors = AnchorFile(tmp_path, BOOT)
    timebase = _timebase(clocks, anchor=anchors.load(), on_anchor=anchors.save)
    stamp = timebase.stamp()
    assert stamp.mono_ns is not None
    body = _reading_json(stamp.ts)
    clocks.advance(2 * S)
    clocks.signal(timebase, latency_ns=7_000_000)
    first = timebase.correct(body, stamp.mono_ns)
    assert (tmp_path / FILE_NAME).exists()

    clocks.advance(30 * S)  # the agent restarts; no signal yet
    again = AnchorFile(tmp_path, BOOT)
    restarted = _timebase(clocks, anchor=again.load(), on_anchor=again.save)
    assert restarted.anchor == timebase.anchor
    assert restarted.correct(body, stamp.mono_ns) == first
    assert restarted.known  # the anchor is a signal of this boot: stamps are right at once
    assert restarted.stamp() == Stamp(clocks.true - 7_000_000, corrected=True)


def test_a_new_boot_gets_a_new_anchor(tmp_path: Path) -> None:
    clocks = Clocks(-YEAR)
    old = AnchorFile(tmp_path, BOOT)
    old.save(Anchor(BOOT, TRUE_NOW - DAY, TRUE_NOW - DAY - YEAR, 3 * S))
    anchors = AnchorFile(tmp_path, "boot-2")
    assert anchors.load() is None
    timebase = _timebase(clocks, boot_id="boot-2", on_anchor=anchors.save)
    clocks.signal(timebase)
    saved = AnchorFile(tmp_path, "boot-2").load()
    assert saved == timebase.anchor
    assert saved is not None
    assert saved.reference_ns == TRUE_NOW


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"{",
        b'{"boot_id": "boot-1"}',
        b'{"boot_id": 1, "reference_ns": 1, "local_wall_ns": 1, "local_mono_ns": 1}',
        b"\xff\xfe",
    ],
)
def test_a_damaged_anchor_file_is_logged_and_ignored(
    tmp_path: Path, content: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / FILE_NAME).write_bytes(content)
    assert AnchorFile(tmp_path, BOOT).load() is None
    assert "clock anchor" in caplog.text


def test_an_anchor_that_cannot_be_saved_is_used_from_memory(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    anchors = AnchorFile(blocker, BOOT)
    clocks = Clocks(DAY)
    timebase = _timebase(clocks, on_anchor=anchors.save)
    clocks.signal(timebase)
    assert timebase.stamp().corrected
    assert anchors.problem is not None
    assert "cannot save the clock anchor" in anchors.problem
    assert "cannot save the clock anchor" in caplog.text


# -- the device clock --------------------------------------------------------------------


def test_the_device_clock_follows_a_big_step_back_and_stays_increasing_otherwise() -> None:
    t = TRUE_NOW + DAY
    local = [Stamp(t), Stamp(t), Stamp(t - 5 * S)]  # a small step back: pinned
    corrected = [t - DAY, t - DAY, t - DAY - BIG_STEP_BACK_NS + 1]  # a big one: followed once
    stamps = iter([*local, *(Stamp(ts, corrected=True) for ts in corrected)])
    clock = DeviceClock(lambda: next(stamps))
    got = [clock.next() for _ in range(6)]
    assert [s.ts for s in got] == [t, t + 1, t + 2, t - DAY, t - DAY + 1, t - DAY + 2]
    assert [s.corrected for s in got] == [False] * 3 + [True] * 3


def test_the_device_clock_keeps_provisional_monotonic_times_increasing() -> None:
    stamps = iter([Stamp(10, mono_ns=7), Stamp(10, mono_ns=7), Stamp(11, mono_ns=5)])
    clock = DeviceClock(lambda: next(stamps))
    assert [clock.next().mono_ns for _ in range(3)] == [7, 8, 9]


# -- emitting, storing, sending -----------------------------------------------------------


def _emitter(timebase: TimeBase, sink: ReadingSink) -> Emitter:
    counter = iter(range(1, 1000))
    return Emitter(
        site="s",
        gateway="g",
        sink=sink,
        next_seq=lambda: next(counter),
        clock_factory=lambda: DeviceClock(timebase.stamp),
    )


def test_the_emitter_marks_corrected_readings_and_hands_provisional_ones_their_mono() -> None:
    clocks = Clocks(-YEAR)
    timebase = _timebase(clocks)
    sink = ListSink()
    emitter = _emitter(timebase, sink)

    def tap(seq: int, ts: int) -> CardRead:
        return CardRead(seq=seq, ts=ts, card=CARD)

    emitter.emit("rfid", [tap, tap])
    clocks.advance(S)
    clocks.signal(timebase)
    emitter.emit("rfid", [tap])
    before, after = sink.envelopes
    assert [r.clock_corrected for r in before.readings] == [False, False]
    assert sink.mono_ns[0] == (clocks.mono - S, clocks.mono - S + 1)
    assert after.readings[0].clock_corrected
    assert after.readings[0].ts == clocks.true
    assert sink.mono_ns[1] is None
    assert b"clock_corrected" not in encode(before)
    assert decode(encode(after)) == after


def test_provisional_readings_are_kept_with_their_mono_and_corrected_in_the_payload(
    tmp_path: Path,
) -> None:
    clocks = Clocks(DAY)
    timebase = _timebase(clocks)
    settings = AgentSettings(site="s", gateway="g", state_dir=tmp_path)
    publisher = MqttPublisher.build(settings, rewrite=timebase.correct)
    try:
        sink_emitter = _emitter(timebase, publisher)  # the real sink, not started
        sink_emitter.emit("rfid", [lambda seq, ts: CardRead(seq=seq, ts=ts, card=CARD)])
        clocks.advance(S)
        clocks.signal(timebase)
        sink_emitter.emit("rfid", [lambda seq, ts: CardRead(seq=seq, ts=ts, card=CARD)])
        (batch,) = publisher.outbox.take()
        assert batch.mono_ns == (5 * S, None)
        envelope = decode(batch.payload("s", "g", timebase.correct))
        assert [(r.ts, r.clock_corrected) for r in envelope.readings] == [
            (TRUE_NOW, True),
            (TRUE_NOW + S, True),
        ]
    finally:
        publisher.close(0)


# -- birth, health, NTP ---------------------------------------------------------------------


def test_the_birth_carries_the_clock_status_and_old_births_stay_as_they_were() -> None:
    clocks = Clocks(DAY)
    timebase = _timebase(clocks, synchronized=lambda: False)
    info = BirthInfo("s", "g", "1.0", ("rfid",), 60.0, clock_status=timebase.status)
    assert b"clock_offset_ms" not in info.birth(1, TRUE_NOW).model_dump_json().encode()
    clocks.signal(timebase)
    birth = decode_liveness(info.birth(2, TRUE_NOW).model_dump_json().encode(), GatewayStatus)
    assert (birth.clock_offset_ms, birth.ntp_synchronized) == (-DAY // 1_000_000, False)
    plain = BirthInfo("s", "g", "1.0", ("rfid",), 60.0).birth(1, TRUE_NOW)
    assert "ntp_synchronized" not in plain.model_dump_json()


def test_the_health_reading_carries_the_clock_and_omits_it_when_unknown() -> None:
    health = AgentHealth(
        seq=1, ts=TRUE_NOW, uptime_s=1.0, clock_offset_ms=-5, ntp_synchronized=True
    )
    envelope = Envelope(v=SCHEMA_VERSION, site="s", gateway="g", device="agent", readings=(health,))
    assert decode(encode(envelope)).readings == (health,)
    bare = AgentHealth(seq=1, ts=TRUE_NOW, uptime_s=1.0).model_dump_json()
    assert "clock_offset_ms" not in bare
    assert "ntp_synchronized" not in bare


def test_the_kernel_says_whether_ntp_keeps_the_clock() -> None:
    assert isinstance(ntp.synchronized(), bool)


@pytest.mark.parametrize("error_days", [-400, 400])
def test_a_correction_never_makes_stored_readings_look_old(tmp_path: Path, error_days: int) -> None:
    """Provisional readings (the raw clock's ts) and corrected ones both survive the ages."""
    clocks = Clocks(error_days * DAY)
    timebase = _timebase(clocks)
    settings = OutboxSettings(max_age_s=86_400, event_max_age_s=2 * 86_400)  # seconds
    with Outbox.open(tmp_path / "outbox.db", settings, wall_ns=timebase.age_clock_ns) as outbox:
        raw = timebase.stamp()
        outbox.append(
            "rfid", _reading_json(raw.ts, 1), is_event=True, ts=raw.ts, seq=1, mono_ns=raw.mono_ns
        )
        clocks.advance(S)
        clocks.signal(timebase)  # correction starts: the true time is 400 days away
        corrected = timebase.stamp()
        assert corrected.corrected
        outbox.append("rfid", _reading_json(corrected.ts, 2), is_event=True, ts=corrected.ts, seq=2)
        assert outbox.enforce_limits()
        stats = outbox.stats()
        assert (stats.events, stats.evicted_event_age) == (2, 0)
        clocks.advance(3 * DAY)
        assert outbox.enforce_limits()
        # The reading stamped by the earlier clock is old by it and goes; the other one is
        # judged old only once it is old by both (late eviction, never early; the size
        # limit still holds).
        assert outbox.stats().evicted_event_age == 1
