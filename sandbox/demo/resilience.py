"""The resilience part of ``make demo``: dead letters, liveness, outages and a crash."""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from typing import TYPE_CHECKING, Any, Final

from sandbox.card_frames import card_uid, rdm6300_frame
from sandbox.demo.output import say, step
from sandbox.demo.stage import ARRIVAL_TIMEOUT_S, DATABASE
from sandbox.probes import ReadingSubscriber
from sandbox.processes import find_program
from sandbox.waiting import wait_until

if TYPE_CHECKING:
    from sandbox.deployment import Deployment
    from sandbox.servers import InfluxDB, Mosquitto, SerialPty

OUTAGE_CARD: Final = "2A00BEEF01"
CRASH_CARDS: Final = tuple(f"2B00C0DE{n:02X}" for n in range(10))
CONFIRM_TIMEOUT_S: Final = 5
"""The demo's agent waits this long for a receipt before sending again (default 30 s)."""
RECONNECT_TIMEOUT_S: Final = 60.0
"""The agent reconnects with jittered backoff (up to 30 s by default): allow for it."""


def dead_letters(influx: InfluxDB, database: str, timeout: float) -> list[dict[str, Any]]:
    """The dead-letter rows (the malformed message the demo published)."""
    return wait_until(
        lambda: influx.query("SELECT * FROM dead_letter", db=database),
        timeout=timeout,
        what="the malformed message is dead-lettered",
    )


def retained(broker: Mosquitto, topic_filter: str) -> list[str]:
    """The retained messages under ``topic_filter``, as ``topic payload`` lines."""
    argv = [find_program("mosquitto_sub"), "-h", broker.host, "-p", str(broker.port)]
    argv += ["-V", "mqttv5", "-t", topic_filter, "-v", "--retained-only", "-W", "1"]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
    return [line for line in result.stdout.splitlines() if line.strip()]


def broker_outage(
    broker: Mosquitto, pty: SerialPty, influx: InfluxDB, database: str
) -> dict[str, Any]:
    """Stop the broker, tap a card, start the broker; return the card's row once stored."""
    broker.stop()
    pty.write(rdm6300_frame(OUTAGE_CARD))
    broker.start()
    uid = card_uid(OUTAGE_CARD)
    rows: list[dict[str, Any]] = wait_until(
        lambda: influx.query(f"SELECT * FROM card_read WHERE uid = '{uid}'", db=database),  # noqa: S608
        timeout=RECONNECT_TIMEOUT_S,
        what=f"card {uid}, tapped while the broker was down, is stored",
        interval=0.1,
    )
    return rows[0]


def central_crash(
    deployment: Deployment, broker: Mosquitto, pty: SerialPty, influx: InfluxDB
) -> list[dict[str, Any]]:
    """Freeze the collector, tap, kill it and the broker, wipe the broker; return the rows."""
    collector = deployment.collector
    collector.signal(signal.SIGSTOP)
    uids = {card_uid(card) for card in CRASH_CARDS}
    with ReadingSubscriber(broker) as taps:  # to see that the broker accepted them
        for card in CRASH_CARDS:
            pty.write(rdm6300_frame(card))
        wait_until(
            lambda: uids <= set(taps.uids()),
            timeout=ARRIVAL_TIMEOUT_S,
            what="the broker has accepted the taps made while the collector is frozen",
        )
    collector.kill()
    broker.kill()
    shutil.rmtree(broker.data_dir)
    broker.data_dir.mkdir()
    broker.start()
    deployment.start_collector()
    where = " OR ".join(f"uid = '{u}'" for u in sorted(uids))  # hex of our own constants
    query = f"SELECT * FROM card_read WHERE {where}"  # noqa: S608
    return wait_until(
        lambda: (rows := influx.query(query, db=DATABASE)) and len(rows) == len(uids) and rows,
        timeout=RECONNECT_TIMEOUT_S,
        what="every card tapped before the crash is stored",
        interval=0.2,
    )


def show_resilience(
    deployment: Deployment, broker: Mosquitto, pty: SerialPty, influx: InfluxDB
) -> None:
    """Dead letters, liveness, a card tapped while the broker is down, a central crash."""
    step("The malformed MQTT message was dead-lettered, not lost (measurement dead_letter)")
    for row in dead_letters(influx, DATABASE, ARRIVAL_TIMEOUT_S):
        say(f"    reason {row.get('reason')}, topic {row.get('topic')}")

    step("Liveness: retained birth certificates and collector presence on the broker")
    for line in retained(broker, "pelangi/+/+/status") + retained(broker, "pelangi-host/+/state"):
        say(f"    {line[:150]}")

    step("Broker outage: stop Mosquitto, tap a card, start Mosquitto again")
    say("    the agent keeps the tap in its outbox on disk until the broker is back")
    row = broker_outage(broker, pty, influx, DATABASE)
    say(
        f"    card {row.get('uid')} stored after the outage (seq {row.get('seq')}, "
        f"historical: {bool(row.get('historical'))})"
    )

    step("Central crash: collector frozen, taps, collector and broker killed (kill -9),")
    say("    the broker's files wiped: what it acknowledged is gone. The agent kept every")
    say("    reading until a collector's receipt named it, and sends what is unconfirmed")
    say("    again on reconnecting (or after the receipt timeout, if the connection stays)")
    started = time.monotonic()
    rows = central_crash(deployment, broker, pty, influx)
    say(
        f"    all {len(rows)} cards tapped before the crash stored, "
        f"{time.monotonic() - started:.0f} s after the crash "
        f"(the demo's receipt timeout: {CONFIRM_TIMEOUT_S} s)"
    )
