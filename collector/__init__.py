"""Pelangi collector: subscribes to MQTT, validates readings and stores them in InfluxDB.

Layers:

- :mod:`collector.mqtt_client`: paho's client with its per-message costs removed.
- :mod:`collector.subscriber`: the MQTT side (persistent session, QoS 1, manual acks,
  optional shared subscription, presence with a Will).
- :mod:`collector.validation`: bytes + topic in, envelope or a reasoned rejection out.
- :mod:`collector.plausibility`: readings whose timestamps are out of the window (pure).
- :mod:`collector.encoding`: envelope to line protocol (fast), unstorable readings out.
- :mod:`collector.deadletter`: refused messages, readings and points, kept with the reason.
- :mod:`collector.storage`: schema, line protocol, InfluxDB backends (1.x, v2 API), setup.
- :mod:`collector.writer_pool`: batching, writer threads, acknowledging only what was stored.
- :mod:`collector.metrics` and :mod:`collector.selfstats`: own counters, into InfluxDB too.
- :mod:`collector.watchdog`: stall detection and systemd notifications.
- :mod:`collector.service`: wires the layers together; :mod:`collector.cli` is the command.

Errors derive from :class:`collector.errors.CollectorError`.
"""
