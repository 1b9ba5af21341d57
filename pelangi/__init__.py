"""Pelangi's shared core: the wire contract and the plumbing both deployables use.

The edge agent (:mod:`edge_agent`) and the collector (:mod:`collector`) never define
topics or payloads themselves; they import them from here, so the contract is written
once:

- :mod:`pelangi.topics`: the MQTT topic scheme (site / gateway / device).
- :mod:`pelangi.payloads`: the versioned payload models and their codec.
- :mod:`pelangi.card`: card identity (one canonical form, the printed forms derived).
- :mod:`pelangi.configfile`: YAML configuration loading with readable errors.
- :mod:`pelangi.mqtt`: MQTT connection settings and the paho client factory.

Exceptions all derive from :class:`pelangi.errors.PelangiError`.
"""

__version__ = "0.1.0"
