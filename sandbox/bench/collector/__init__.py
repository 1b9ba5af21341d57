"""Collector benchmark: readings/s from a pre-filled persistent session into InfluxDB.

For each message shape, (a) one reading per message and (b) 48 readings per message (a
switch poll), a fresh private Mosquitto is started (InfluxDB is shared, one database per
run) and one backlog of N messages is queued at once in four persistent sessions
(created with a QoS 1 subscription, then left offline while the backlog is published).
Then, one after the other, each consumer drains its own session:

1. a paho subscriber that only counts messages, the way a plain paho script runs
   (MQTT 3.1.1, ``loop_forever``): the broker + paho ceiling;
2. the same with the collector's MQTT setup (MQTT v5, its Receive Maximum, paho's
   ``loop_start`` thread): the ceiling of that setup;
3. InfluxDB ingesting the same points as pre-built line protocol, on one connection and
   on two (no MQTT): the storage ceiling;
4. a naive bridge: json.loads + f-string line protocol, POST every 5,000 points or
   100 ms, auto-ack, no validation;
5. the real ``pelangi-collector run`` as a child process with its default settings:
   validation against the contract, ack only after the write that stored the message.

Zero loss is verified with ``SELECT count`` in InfluxDB (points == readings published)
for the ingest runs, the naive bridge and the collector, and by message count for the
count-only subscribers.

The modules, in the order a run uses them:

- :mod:`.workload`: the backlog (sizes, envelopes built through the contract);
- :mod:`.sessions`: the broker, its persistent sessions and the backlog's publisher;
- :mod:`.runs`: what one run measured, and how it waits for its consumer;
- :mod:`.baselines`: consumers 1 to 4; :mod:`.process`: consumer 5;
- :mod:`.stored`: what InfluxDB holds afterwards (counts, write counters, fields);
- :mod:`.report`: the tables, targets, figures and notes;
- :mod:`.benchmark`: both shapes end to end (:func:`run`).
"""

from sandbox.bench.collector.baselines import NaiveBridge, naive_lines
from sandbox.bench.collector.benchmark import NAME, run
from sandbox.bench.collector.runs import Run
from sandbox.bench.collector.workload import FULL, QUICK, Sizes, make_backlog, make_envelope

__all__ = [
    "FULL",
    "NAME",
    "QUICK",
    "NaiveBridge",
    "Run",
    "Sizes",
    "make_backlog",
    "make_envelope",
    "naive_lines",
    "run",
]
