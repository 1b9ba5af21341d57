"""A confirming collector's stand-in for the replay benchmark, run as its own process.

It announces itself as a collector that confirms (presence with the ``pelangi-confirms``
user property), takes every reading message at QoS 1 and, every :data:`FLUSH_S`, sends
each gateway one receipt for the seqs it took, as the real collector does after a write.
It stores nothing: the benchmark measures what confirmation costs the agent (a second
message stream, the outbox's deletes by seq), not InfluxDB.

Run: ``python -m sandbox.bench.agent.confirmer HOST PORT``; it stops on SIGTERM.
"""

from __future__ import annotations

import re
import signal
import sys
import threading
import time
from collections import defaultdict
from typing import TYPE_CHECKING, Final

from collector.presence import presence_payload, presence_properties
from pelangi.mqtt import MqttSettings, make_client
from pelangi.receipts import encode_receipt, receipts_for
from pelangi.topics import collector_state_topic, parse_reading_topic, reading_filter, stored_topic

if TYPE_CHECKING:
    import paho.mqtt.client as paho

COLLECTOR: Final = "bench-confirmer"
FLUSH_S: Final = 0.05
"""How often receipts go out (the real collector sends one per write, every batch delay)."""
_SEQ: Final = re.compile(rb'"seq":(\d+)')


class Confirmer:
    """Takes readings, sends receipts (see the module docstring)."""

    def __init__(self, host: str, port: int) -> None:
        """Connect to the broker at ``host:port`` (on :meth:`run`)."""
        self._address = (host, port)
        self._client = make_client(
            MqttSettings(host=host, port=port), f"pelangi-collector-{COLLECTOR}"
        )
        self._client.on_connect = self._on_connect
        self._client.on_message = self._on_message
        self._lock = threading.Lock()
        self._taken: defaultdict[tuple[str, str], list[int]] = defaultdict(list)
        self._stop = threading.Event()

    def run(self) -> None:
        """Serve until :meth:`stop`."""
        self._client.connect(*self._address)
        self._client.loop_start()
        while not self._stop.wait(FLUSH_S):
            self._flush()
        self._client.loop_stop()

    def stop(self) -> None:
        """End :meth:`run`."""
        self._stop.set()

    def _on_connect(self, client: paho.Client, *_: object) -> None:
        client.subscribe(reading_filter(), qos=1)
        client.publish(
            collector_state_topic(COLLECTOR),
            presence_payload(COLLECTOR, online=True, ts=time.time_ns()),
            qos=1,
            retain=True,
            properties=presence_properties(10.0),
        )

    def _on_message(self, _client: paho.Client, _userdata: object, msg: paho.MQTTMessage) -> None:
        topic = parse_reading_topic(msg.topic)
        seqs = [int(m) for m in _SEQ.findall(msg.payload)]
        with self._lock:
            self._taken[(topic.site, topic.gateway)].extend(seqs)

    def _flush(self) -> None:
        with self._lock:
            taken, self._taken = self._taken, defaultdict(list)
        now = time.time_ns()
        for (site, gateway), seqs in taken.items():
            for receipt in receipts_for(COLLECTOR, now, seqs):
                self._client.publish(stored_topic(site, gateway), encode_receipt(receipt), qos=1)


def main() -> None:
    """The command line (see the module docstring)."""
    confirmer = Confirmer(sys.argv[1], int(sys.argv[2]))
    signal.signal(signal.SIGTERM, lambda *_: confirmer.stop())
    confirmer.run()


if __name__ == "__main__":
    main()
