"""The uplink: from the outbox to the broker, and the gateway's liveness around it.

- :mod:`edge_agent.uplink.publisher`: the agent's sink; appends to the durable outbox
  (:mod:`edge_agent.outbox`, through :mod:`edge_agent.uplink.storing`) and runs the
  sending loop. :meth:`MqttPublisher.build` assembles the uplink from the configuration,
  in one place (the connection's parts: :mod:`edge_agent.uplink.assembly`).
- :mod:`edge_agent.uplink.connection`: one MQTT connection at a time, jittered
  reconnects, births and deaths, rebirth commands; where it stands in
  :mod:`edge_agent.uplink.state`, what it subscribes to in
  :mod:`edge_agent.uplink.subscriptions`.
- :mod:`edge_agent.uplink.certificates`: the birth/death certificates and ``bdseq``.
- :mod:`edge_agent.uplink.presence`: whether a collector is there to receive (pure).
- :mod:`edge_agent.uplink.fallback`: readings held in memory while the outbox cannot store.
"""
