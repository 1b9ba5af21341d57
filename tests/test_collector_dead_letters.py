"""Dead letters keep the whole reading or payload, and ``dead-letters list | replay`` re-ingests.

Pure parts (pieces, the judge, ``--since``) first; then a real InfluxDB: dead letters made
by the collector's own intake are stored, read back whole, listed and replayed by the real
``pelangi-collector`` command, with the configuration's current settings.
"""

from __future__ import annotations

import json
import subprocess
import time
from typing import TYPE_CHECKING

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from collector.config import DeadLetterSettings, InfluxV1Settings, ValiditySettings
from collector.deadletter import PIECE_BYTES, DeadLetters, UniqueClock, pieces
from collector.deadletter_cli import parse_since
from collector.encoding import LineEncoder
from collector.intake import Intake
from collector.metrics import Metrics
from collector.plausibility import TimeWindow
from collector.replay import DeadLetter, judge
from collector.storage.influx_v1 import InfluxV1Writer
from pelangi.card import em4100
from pelangi.payloads import SCHEMA_VERSION, CardRead, Envelope, encode
from sandbox.processes import venv_program

if TYPE_CHECKING:
    from pathlib import Path

    from sandbox.servers import InfluxDB

NOW = time.time_ns()
HOUR = 3600 * 10**9
TOPIC = "pelangi/bukit-pelangi/gw-1/reading/rfid-lobby"


def message(*readings: CardRead, historical: bool = False) -> Envelope:
    return Envelope(
        v=SCHEMA_VERSION,
        site="bukit-pelangi",
        gateway="gw-1",
        device="rfid-lobby",
        historical=historical,
        readings=readings,
    )


def card(seq: int, ts: int) -> CardRead:
    return CardRead(seq=seq, ts=ts, card=em4100(bytes([1]) + seq.to_bytes(4, "big")))


# -- pure ---------------------------------------------------------------------------------


@given(st.text(max_size=300), st.integers(min_value=4, max_value=50))
def test_pieces_join_to_the_text_and_stay_within_the_limit(text: str, limit: int) -> None:
    parts = pieces(text, limit)
    assert "".join(parts) == text
    assert all(0 < len(part.encode("utf-8", "surrogatepass")) <= limit for part in parts)


def test_since_takes_durations_and_dates_and_explains_anything_else() -> None:
    assert parse_since("2h", NOW) == NOW - 2 * HOUR
    assert parse_since("1.5d", NOW) == NOW - 36 * HOUR
    assert parse_since("2026-12-01T08:00:00Z", NOW) == 1_796_112_000 * 10**9
    assert parse_since("2026-12-01", NOW) == 1_796_083_200 * 10**9
    with pytest.raises(ValueError, match=r"neither a duration back from now \(30m, 2h, 7d\)"):
        parse_since("yesterday", NOW)


def stored_letters(influx: InfluxDB, database: str, lines: list[str]) -> list[DeadLetter]:
    """Write dead-letter lines to InfluxDB and read them back as the CLI does."""
    influx.write("\n".join(lines), database)
    rows = influx.query("SELECT * FROM dead_letter", db=database)
    return [DeadLetter.from_row(row) for row in rows]


@pytest.mark.servers
def test_a_refused_reading_is_replayed_once_the_window_admits_it(
    influxdb: InfluxDB, influx_db: str
) -> None:
    dead = DeadLetters("c1", DeadLetterSettings(), UniqueClock())
    intake = Intake(ValiditySettings(max_future_s=60), Metrics(), dead, wall_clock_ns=lambda: NOW)
    ahead = card(7, NOW + HOUR)
    lines, _ = intake.take(TOPIC.encode(), encode(message(ahead, historical=True)))
    [letter] = stored_letters(influxdb, influx_db, lines)
    assert (letter.reason, letter.seq, letter.historical) == ("ts_in_future", 7, True)

    strict = TimeWindow(ValiditySettings(max_future_s=60))
    still = judge(letter, strict, LineEncoder(), NOW)
    assert (still.status, still.why) == (
        "refused",
        "ts_in_future: reading seq 7: ts is 3600 s ahead of the collector's clock",
    )
    later = judge(letter, strict, LineEncoder(), NOW + HOUR)  # the gateway's clock was right
    expected, _ = LineEncoder().encode(message(ahead, historical=True))
    assert (later.status, list(later.lines)) == ("replay", expected)


def test_old_dead_letters_without_the_reading_say_why_they_cannot_be_replayed() -> None:
    old = DeadLetter(time_ns=1, collector="c1", reason="ts_too_old", detail="old", topic=TOPIC)
    verdict = judge(old, TimeWindow(ValiditySettings()), LineEncoder(), NOW)
    assert verdict.status == "unreplayable"
    assert "only its seq and ts were kept" in verdict.why


# -- a real InfluxDB and the real command -------------------------------------------------


def write_config(tmp_path: Path, influx: InfluxDB, database: str, **validity: float) -> Path:
    config = {
        "collector_id": "c1",
        "influxdb": {"url": influx.url, "database": database},
        "validity": validity,
    }
    path = tmp_path / f"collector-{len(list(tmp_path.iterdir()))}.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def command(*args: str | Path) -> subprocess.CompletedProcess[str]:
    argv = [str(venv_program("pelangi-collector")), "dead-letters", *map(str, args)]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.servers
def test_dead_letters_are_kept_whole_listed_and_replayed_once(
    influxdb: InfluxDB, influx_db: str, tmp_path: Path
) -> None:
    writer = InfluxV1Writer(InfluxV1Settings(url=influxdb.url, database=influx_db))
    dead = DeadLetters("c1", DeadLetterSettings(log_file=tmp_path / "dl.jsonl"), UniqueClock())
    intake = Intake(ValiditySettings(max_future_s=60), Metrics(), dead)
    big = message(*(card(100 + k, NOW - HOUR + k) for k in range(1000)))  # ~150 KB
    bad_uid = json.loads(encode(message(card(9, NOW - HOUR))))
    bad_uid["readings"][0]["card"]["uid"] = "not-hex"
    lines: list[str] = []
    for payload in (
        encode(message(card(1, NOW + HOUR), card(2, NOW - HOUR))),  # seq 1 an hour ahead
        json.dumps(bad_uid).encode(),  # invalid, and will stay so
        b"\xff\xfe not UTF-8",
    ):
        lines += intake.take(TOPIC.encode(), payload)[0]
    # A big valid message refused by an older rule: its payload is stored in pieces.
    lines.append(dead.message(TOPIC, encode(big), "unsupported_version", "from before"))
    dead.close()
    writer.write(lines)
    writer.close()

    listed = command("list", "-c", write_config(tmp_path, influxdb, influx_db), "--json")
    assert listed.returncode == 0, listed.stderr
    letters = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [x["reason"] for x in letters] == [
        "ts_in_future",
        "invalid",
        "not_json",
        "unsupported_version",
    ]
    assert letters[0]["reading"] == json.loads(card(1, NOW + HOUR).model_dump_json())
    assert letters[3]["payload"] == encode(big).decode()  # whole, though > 64 KB
    assert len(encode(big)) > max(PIECE_BYTES, 64 * 1024)
    logged = [json.loads(x) for x in (tmp_path / "dl.jsonl").read_text().splitlines()]
    assert logged[3]["payload"] == encode(big).decode()

    relaxed = write_config(tmp_path, influxdb, influx_db, max_future_s=7200)
    dry = command("replay", "-c", relaxed, "--reason", "ts_in_future", "--since", "1h", "--dry-run")
    assert "would replay: " in dry.stdout, dry.stderr
    assert not influxdb.query("SELECT * FROM card_read WHERE seq = 1", db=influx_db)

    first = command("replay", "-c", relaxed, "--reason", "ts_in_future", "--since", "1h")
    assert first.returncode == 0, first.stderr
    assert "1 dead letters: replayed 1" in first.stderr
    rows = influxdb.query("SELECT * FROM card_read WHERE seq = 1", db=influx_db)
    assert [(row["time"], row["uid"]) for row in rows] == [(NOW + HOUR, "00000001")]
    again = command("replay", "-c", relaxed, "--reason", "ts_in_future", "--since", "1h")
    assert "already replayed at " in again.stdout
    assert "already replayed 1" in again.stderr

    message_replay = command("replay", "-c", relaxed, "-r", "unsupported_version", "-s", "1h")
    assert "replayed 1" in message_replay.stderr, message_replay.stdout
    count = influxdb.query("SELECT count(uid) FROM card_read WHERE seq >= 100", db=influx_db)
    assert count[0]["count"] == 1000

    refused = command("replay", "-c", relaxed, "--reason", "invalid", "--since", "1h")
    assert "still refused 1" in refused.stderr
    assert "readings.0.card_read.card.uid" in refused.stdout
    mistaken = command("replay", "-c", relaxed, "--reason", "late", "--since", "1h")
    assert mistaken.returncode == 1
    assert "--reason 'late' is not a reason; expected one of bad_topic," in mistaken.stderr
