"""The resilience part of ``make demo``: dead letters, liveness, and a broker outage."""

from __future__ import annotations

import subprocess
from typing import TYPE_CHECKING, Any, Final

from sandbox.card_frames import card_uid, rdm6300_frame
from sandbox.demo.output import say, step
from sandbox.demo.stage import ARRIVAL_TIMEOUT_S, DATABASE
from sandbox.processes import find_program
from sandbox.waiting import wait_until

if TYPE_CHECKING:
    from sandbox.servers import InfluxDB, Mosquitto, SerialPty

OUTAGE_CARD: Final = "2A00BEEF01"
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


def show_resilience(broker: Mosquitto, pty: SerialPty, influx: InfluxDB) -> None:
    """Dead letters, liveness messages, and a card tapped while the broker is down."""
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
