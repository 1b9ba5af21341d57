"""Pelangi edge agent: runs on a building gateway, reads devices, publishes readings to MQTT.

Layers, from the wire inwards:

- :mod:`edge_agent.drivers`: device IO (serial ports) and sans-IO frame parsers.
- :mod:`edge_agent.publisher`: the MQTT side (connect, reconnect, publish at QoS 1).
- :mod:`edge_agent.agent`: wires drivers to the publisher.
- :mod:`edge_agent.cli`: the ``pelangi-agent`` command.
"""
