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

import contextlib
from typing import TYPE_CHECKING, Final

from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from pelangi.liveness import CollectorState
from pelangi.receipts import CONFIRMS_PROPERTY, PRESENCE_INTERVAL_PROPERTY
from pelangi.topics import collector_state_topic

if TYPE_CHECKING:
    from collections.abc import Callable

    import paho.mqtt.client as paho

QOS: Final = 1
_OFFLINE_PUBLISH_TIMEOUT_S: Final = 2.0


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


class Presence:
    """Publishes one collector's presence through ``client`` (see the module docstring)."""

    def __init__(
        self,
        client: paho.Client,
        collector_id: str,
        interval_s: float,
        wall_clock_ns: Callable[[], int],
    ) -> None:
        """Announce ``collector_id`` every ``interval_s`` (the caller runs the timer)."""
        self._client = client
        self._collector = collector_id
        self._topic = collector_state_topic(collector_id)
        self._interval_s = interval_s
        self._properties = presence_properties(interval_s)
        self._wall_clock_ns = wall_clock_ns

    def announce(self) -> None:
        """Publish ``online`` afresh (on connect and every interval)."""
        self._publish(online=True)

    def set_will(self) -> None:
        """Set ``offline`` as the Will of the next CONNECT, stamped now."""
        self._client.will_set(
            self._topic,
            self._payload(online=False),
            qos=QOS,
            retain=True,
            properties=presence_properties(self._interval_s, PacketTypes.WILLMESSAGE),
        )

    def say_offline(self) -> None:
        """Publish ``offline`` and wait (briefly) until the broker has it (a clean stop)."""
        info = self._publish(online=False)
        # Best effort: if the connection went meanwhile, the Will says it for us.
        with contextlib.suppress(RuntimeError, ValueError):
            info.wait_for_publish(_OFFLINE_PUBLISH_TIMEOUT_S)

    def _publish(self, *, online: bool) -> paho.MQTTMessageInfo:
        payload = self._payload(online=online)
        return self._client.publish(
            self._topic, payload, qos=QOS, retain=True, properties=self._properties
        )

    def _payload(self, *, online: bool) -> bytes:
        return presence_payload(self._collector, online=online, ts=self._wall_clock_ns())


__all__ = ["Presence", "presence_payload", "presence_properties"]
