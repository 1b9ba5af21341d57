"""Pelangi edge agent: runs on a building gateway, reads devices, publishes readings to MQTT.

Layers, from the devices to the wire:

- :mod:`edge_agent.drivers`, :mod:`edge_agent.doors`, :mod:`edge_agent.snmp`: device IO
  (serial ports, GPIO, Zigbee2MQTT, SNMP) and sans-IO parsers and trackers.
- :mod:`edge_agent.emitter`: stamps readings (sequence number, per-device clock) into
  envelopes for the sink (:mod:`edge_agent.sink`).
- :mod:`edge_agent.outbox`: the durable SQLite outbox; a reading is on disk before it is
  published and leaves only after the broker's PUBACK.
- :mod:`edge_agent.publisher`: store and forward: the sink that appends to the outbox,
  and the sending loop that takes batches out (:mod:`edge_agent.fallback`: in memory
  while the outbox cannot store).
- :mod:`edge_agent.connection`: the MQTT connection: jittered reconnects, birth/death
  certificates (:mod:`edge_agent.liveness`), collector presence
  (:mod:`edge_agent.presence`), rebirth commands.
- :mod:`edge_agent.agent`: wires it all together; :mod:`edge_agent.cli`: the
  ``pelangi-agent`` command.
"""
