"""The collector's presence message: what agents read on ``pelangi-host/<collector>/state``.

Payload: :class:`pelangi.liveness.CollectorState` (unchanged, so agents from before
receipts still read it), retained, QoS 1. MQTT v5 user properties say more to agents that
understand them (:mod:`pelangi.receipts`):

- :data:`~pelangi.receipts.CONFIRMS_PROPERTY` ``"1"``: this collector sends receipts;
- :data:`~pelangi.receipts.PRESENCE_INTERVAL_PROPERTY`: how often (s) it publishes its
  presence afresh.

How presence is refreshed: ``online`` is published on every connect and then again every
``presence_interval_s`` with a fresh ``ts`` (the collector's clock) for as long as the
connection lasts; ``offline`` is the Will (the broker publishes it when we vanish) and is
published by the collector itself at a clean shutdown. An agent can therefore learn the
offset of its own clock from ``ts``, and tell a live collector from a stale retained
``online`` left behind by a broker that crashed and lost the Will: a live collector's
``ts`` is never older than about one interval.
"""

from __future__ import annotations

from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from pelangi.liveness import CollectorState
from pelangi.receipts import CONFIRMS_PROPERTY, PRESENCE_INTERVAL_PROPERTY


def presence_payload(collector_id: str, *, online: bool, ts: int) -> bytes:
    """The presence payload of ``collector_id`` at ``ts`` (ns since the epoch)."""
    return CollectorState(collector=collector_id, online=online, ts=ts).model_dump_json().encode()


def presence_properties(interval_s: float, packet: int = PacketTypes.PUBLISH) -> Properties:
    """The user properties of every presence message (``packet``: PUBLISH, or WILLMESSAGE)."""
    properties = Properties(packet)  # type: ignore[no-untyped-call] # paho is untyped here
    properties.UserProperty = [
        (CONFIRMS_PROPERTY, "1"),
        (PRESENCE_INTERVAL_PROPERTY, f"{interval_s:g}"),
    ]
    return properties


__all__ = ["presence_payload", "presence_properties"]
