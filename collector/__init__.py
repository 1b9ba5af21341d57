"""Pelangi collector: subscribes to MQTT, validates readings and stores them in InfluxDB.

Layers:

- :mod:`collector.subscriber`: the MQTT side (persistent session, QoS 1, manual acks).
- :mod:`collector.validation`: bytes + topic in, envelope or a reasoned rejection out.
- :mod:`collector.storage`: readings to points, line protocol, and the InfluxDB backends.
- :mod:`collector.pipeline`: batching, writing, and acknowledging only what was stored.
- :mod:`collector.metrics`: the collector's own counters.
- :mod:`collector.service`: wires the layers together; :mod:`collector.cli` is the command.

Errors derive from :class:`collector.errors.CollectorError`.
"""
