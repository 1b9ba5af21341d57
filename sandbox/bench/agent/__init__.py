"""Agent benchmark: the outbox, replay through the broker, live latency, footprint, outage soak.

Targets (issue 4, on 2 cores):

- replay >= 20,000 readings/s (to PUBACK) after a 1-hour backlog at pilot rate;
- a live tap -> PUBACK p99 <= 50 ms while a backlog replays;
- agent RSS <= 50 MB and CPU <= 1 % of a core at pilot load (2 readers, 10 doors, two
  48-port switches polled every 60 s);
- a week of pilot telemetry <= 1 GB of outbox.

Parts:

``outbox``
    :func:`sandbox.bench.outbox.run_benchmark`: the outbox alone (durable appends/s,
    replay with an instant ack, bytes per reading, a week's size).
``replay`` (:mod:`.replay`)
    a backlog built on disk (1 hour, and 2 days, of the pilot's readings), then the real
    store-and-forward publisher (:class:`edge_agent.uplink.publisher.MqttPublisher`, in this
    process) against a private Mosquitto, with a collector announced online and a QoS 1
    subscriber (``mosquitto_sub``, another process) taking the messages: readings/s from
    the first take to the last PUBACK.
``live`` (:mod:`.replay`)
    during the 2-day replay, a card tap every 10 ms submitted as a reader thread does:
    time from ``submit()`` to the PUBACK of the message that carried it.
``footprint`` (:mod:`.footprint`)
    ``pelangi-agent run`` at pilot load for a few minutes: RSS and CPU from ``/proc``.
``outage``
    :mod:`sandbox.bench.outage` with the issue's 2-minute broker outage (the test
    suite runs it for 20 s).

:mod:`.benchmark` runs the parts one after the other and makes one result of them
(:func:`run`).
"""

from sandbox.bench.agent.benchmark import NAME, run
from sandbox.bench.agent.footprint import Footprint, measure_footprint
from sandbox.bench.agent.replay import ReplayRun, run_replay

__all__ = ["NAME", "Footprint", "ReplayRun", "measure_footprint", "run", "run_replay"]
