"""Pelangi collector: subscribes to MQTT, validates readings and stores them in InfluxDB.

Layers:

- :mod:`collector.mqtt_client`: paho's client with its per-message costs removed.
- :mod:`collector.session`: the MQTT network thread (reconnects with jittered backoff,
  deliberate reconnects, timers, survives any error).
- :mod:`collector.subscriber`: the MQTT side (persistent session, QoS 1, manual acks,
  receipts, optional shared subscription); :mod:`collector.presence`: its presence;
  :mod:`collector.receipt_sender`: its receipts; :mod:`collector.deferral`: messages
  left with the broker while storage is behind (:mod:`collector.backpressure`).
- :mod:`collector.intake`: one message in, lines (or dead letters) and what to confirm out.
- :mod:`collector.validation`: bytes + topic in, envelope or a reasoned rejection out.
- :mod:`collector.plausibility`: readings whose timestamps are out of the window (pure).
- :mod:`collector.encoding`: envelope to line protocol (fast), unstorable readings out.
- :mod:`collector.confirmations`: which readings a stored write confirms (receipts).
- :mod:`collector.deadletter`: refused messages, readings and points, kept whole with the
  reason; :mod:`collector.replay` judges them again (``dead-letters replay``).
- :mod:`collector.storage`: schema, line protocol, InfluxDB backends (1.x, v2 API), setup.
- :mod:`collector.writer_pool`: batching, writer threads, acknowledging only what was stored;
  :mod:`collector.progress`: how storage is doing, for the watchdog.
- :mod:`collector.metrics` and :mod:`collector.selfstats`: own counters, into InfluxDB too.
- :mod:`collector.watchdog`: stall detection and systemd notifications.
- :mod:`collector.service`: wires the layers together; :mod:`collector.cli` is the command
  (:mod:`collector.deadletter_cli`: ``dead-letters list | replay``).

Errors derive from :class:`collector.errors.CollectorError`.
"""
