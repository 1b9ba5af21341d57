"""Door sensors: one state model, three sources (GPIO, a microcontroller on serial, Zigbee2MQTT).

Every source is reduced to observations of :class:`~edge_agent.doors.state.DoorState`
(``open``, ``closed`` or ``unknown``, never a bare boolean) through the polarity each
input declares; :class:`~edge_agent.doors.state.DoorTracker` turns observations into
change events and periodic re-statements.
"""
