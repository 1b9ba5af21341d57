"""Pelangi edge agent: runs on a building gateway, reads devices, publishes readings to MQTT.

Layers, from the devices to the wire (one folder each):

- :mod:`edge_agent.serial`: serial port IO (a thread per port that survives unplugging)
  and line splitting.
- :mod:`edge_agent.readers`: card readers: sans-IO frame decoders, the hold filter,
  one :class:`~edge_agent.readers.reader.CardReader` per reader, their settings.
- :mod:`edge_agent.doors`: door contacts (GPIO, serial controller, Zigbee2MQTT).
- :mod:`edge_agent.snmp`: switches: SNMP polling, BER codec, counter-rate math.
- :mod:`edge_agent.emitter`: stamps readings (sequence number, per-device clock) into
  envelopes for the sink (:mod:`edge_agent.sink`).
- :mod:`edge_agent.outbox`: the durable SQLite outbox; a reading is on disk before it
  is published and leaves only once delivered.
- :mod:`edge_agent.uplink`: store and forward to MQTT: the publisher (sending loop),
  the connection (reconnects, birth/death certificates, collector presence).
- :mod:`edge_agent.agent`: builds and wires it all; :mod:`edge_agent.cli`: the
  ``pelangi-agent`` command.

Errors derive from :class:`edge_agent.errors.AgentError`.
"""
