"""The card part of ``make demo``: taps (one held, one broken, noise) and what InfluxDB holds."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from sandbox.card_frames import LINE_NOISE, card_printed, card_uid, hold_card, rdm6300_frame
from sandbox.demo.output import say, step, table, wita_time
from sandbox.demo.stage import ARRIVAL_TIMEOUT_S, DATABASE, READER, DemoFailedError
from sandbox.waiting import wait_until

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sandbox.deployment import Deployment
    from sandbox.servers import InfluxDB, Mosquitto, SerialPty


@dataclass(frozen=True)
class Expected:
    """What InfluxDB should hold after the taps: card -> number of rows."""

    counts: dict[str, int]
    absent: list[str]


FIRST_CARD: Final = "01001293D8"


def time_one_tap(pty: SerialPty, influx: InfluxDB) -> None:
    """Tap one card and measure how long until InfluxDB answers a query with it."""
    step("Tapping one card and timing its way into InfluxDB")
    uid = card_uid(FIRST_CARD)
    say(f"    tap card {uid} (printed {card_printed(FIRST_CARD)})")
    tapped = time.monotonic()
    pty.write(rdm6300_frame(FIRST_CARD))
    wait_until(
        lambda: any(row.get("uid") == uid for row in _stored(influx)),
        timeout=ARRIVAL_TIMEOUT_S,
        what=f"card {uid} is stored",
        interval=0.01,
    )
    say(
        f"    queryable in InfluxDB {time.monotonic() - tapped:.3f} s after the tap (target: < 1 s)"
    )


def tap_cards(pty: SerialPty, broker: Mosquitto, deployment: Deployment) -> Expected:
    """Tap the cards of the story and say what each should lead to."""
    step("Tapping more cards")
    plain = ["62E3086CED", "0A00C0FFEE"]
    held, broken, last = "0400ABCDEF", "0B0BADF00D", "1F00123456"

    for card in plain:
        say(f"    tap card {card_uid(card)} (printed {card_printed(card)})")
        pty.write(rdm6300_frame(card))
        # A person takes a moment between taps; a reader never sees two cards at once.
        time.sleep(0.2)

    say(f"    hold card {card_uid(held)} on the reader for 1 s: the reader repeats its frame")
    frames = hold_card(pty.write, rdm6300_frame(held), seconds=1.0)
    say(f"      ({frames} identical frames; the agent should store ONE tap)")

    say(f"    a frame for card {card_uid(broken)} with a broken checksum: should be rejected")
    pty.write(rdm6300_frame(broken, bad_checksum=True))
    say(f"    line noise ({len(LINE_NOISE)} bytes of garbage): should be ignored")
    pty.write(LINE_NOISE)

    topic = deployment.topic(READER)
    say("    a malformed message published straight to the broker on the reader's topic")
    say(f"      {topic}: the collector should reject it")
    broker.publish(topic, b"this is not a Pelangi envelope")

    say(f"    tap card {card_uid(last)} after all that: should arrive as usual")
    pty.write(rdm6300_frame(last))
    return Expected(counts=dict.fromkeys([FIRST_CARD, *plain, held, last], 1), absent=[broken])


def _stored(influx: InfluxDB) -> list[dict[str, Any]]:
    return influx.query("SELECT * FROM card_read", db=DATABASE)


def wait_for_rows(influx: InfluxDB, expected: Expected) -> list[dict[str, Any]]:
    """Wait until every expected card is stored; return all rows."""
    uids = {card_uid(card) for card in expected.counts}
    # Readings of one reader arrive in order: once the last tap is stored, so is the rest.
    return wait_until(
        lambda: (rows := _stored(influx)) and uids <= {row.get("uid") for row in rows} and rows,
        timeout=ARRIVAL_TIMEOUT_S,
        what=f"InfluxDB holds cards {sorted(uids)}",
        interval=0.05,
    )


def print_table(rows: Sequence[dict[str, Any]]) -> None:
    """Print the stored rows as a table, times in WITA."""
    step(f"InfluxDB now holds (database {DATABASE!r}, measurement card_read):")
    header = ("time (WITA)", "site", "gateway", "reader", "uid", "printed", "seq")
    cells = [
        (
            wita_time(int(row["time"]), date=True),
            str(row.get("site")),
            str(row.get("gateway")),
            str(row.get("device")),
            str(row.get("uid")),
            str(row.get("printed")),
            str(row.get("seq")),
        )
        for row in sorted(rows, key=lambda r: int(r["time"]))
    ]
    for line in table(header, cells):
        say(line)


def check_rows(rows: Sequence[dict[str, Any]], expected: Expected) -> None:
    """Check each card was stored exactly as often as expected, with the right identity."""
    step("Checking")
    problems = []
    for card, count in expected.counts.items():
        found = [row for row in rows if row.get("uid") == card_uid(card)]
        if len(found) != count:
            problems.append(f"card {card_uid(card)}: stored {len(found)} times, expected {count}")
        elif found[0].get("printed") != card_printed(card):
            problems.append(f"card {card_uid(card)}: printed {found[0].get('printed')!r}")
    stored_uids = {row.get("uid") for row in rows}
    problems += [
        f"card {card_uid(card)} (broken checksum) was stored"
        for card in expected.absent
        if card_uid(card) in stored_uids
    ]
    if len(rows) != sum(expected.counts.values()):
        problems.append(f"{len(rows)} rows stored, expected {sum(expected.counts.values())}")
    if problems:
        raise DemoFailedError("; ".join(problems))
    say(f"    OK: {len(rows)} taps stored once each, the held card once, the broken frame")
    say("    and the noise dropped, the malformed MQTT message kept out")
