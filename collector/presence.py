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
import time
from typing import TYPE_CHECKING, Final

from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from pelangi.liveness import CollectorState
from pelangi.receipts import CONFIRMS_PROPERTY, PRESENCE_INTERVAL_PROPERTY
from pelangi.topics import ROOT, collector_state_topic, status_filter

if TYPE_CHECKING:
    from collections.abc import Callable

    import paho.mqtt.client as paho

QOS: Final = 1
_ROOT: Final = ROOT.encode()
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
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Announce ``collector_id`` every ``interval_s`` (the caller runs the timers)."""
        self._client = client
        self._collector = collector_id
        self._topic = collector_state_topic(collector_id)
        self._interval_s = interval_s
        self._properties = presence_properties(interval_s)
        self._wall_clock_ns = wall_clock_ns
        self._clock = clock
        self._births = BirthAnswers()

    def announce(self) -> None:
        """Publish ``online`` afresh (on connect and every interval)."""
        self._publish(online=True)
        self._births.announced(self._clock())

    def birth(self) -> None:
        """A gateway was born: answer with a fresh presence soon (see :class:`BirthAnswers`)."""
        self._births.birth(self._clock())

    def answer_births(self) -> None:
        """Announce now if a birth is waiting for its answer (run every BIRTH_CHECK_S)."""
        if self._births.due(self._clock()):
            self.announce()

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


class BirthAnswers:
    """When to announce presence afresh because a gateway was born (connected). Pure.

    A gateway's agent learns its clock's offset only from a *fresh* presence message
    (a retained one is of unknown age), and in receipt mode it holds its readings until
    the first one of its boot. Answering a birth at once turns that wait into
    milliseconds instead of up to ``presence_interval_s``. One presence message serves
    every gateway (they all subscribe to it), so answers are at most one a second
    (:data:`BIRTH_ANSWER_GAP_S`): 50 gateways returning together cost one message.
    """

    def __init__(self) -> None:
        """Nothing due."""
        self._due: float | None = None
        self._last = float("-inf")

    def birth(self, now: float) -> None:
        """A gateway was born at ``now`` (monotonic s): an answer is due within a second."""
        if self._due is None:
            self._due = max(now, self._last + BIRTH_ANSWER_GAP_S)

    def announced(self, now: float) -> None:
        """Presence was published at ``now`` (an answer, the timer or a connect)."""
        self._last = now
        self._due = None

    def due(self, now: float) -> bool:
        """Whether an answer should go out now."""
        return self._due is not None and now >= self._due


BIRTH_ANSWER_GAP_S: Final = 1.0
"""Fewest seconds between two presence messages that answer births."""
BIRTH_CHECK_S: Final = 0.1
"""How often a due answer to a gateway's birth is looked for (on the network thread)."""
STATUS_FILTER: Final = status_filter()
"""Gateways' births and deaths, subscribed at QoS 0 without the retained ones."""


def is_status_topic(topic: bytes) -> bool:
    """Whether ``topic`` is a gateway's status topic (``pelangi/<site>/<gateway>/status``)."""
    parts = topic.split(b"/")
    return len(parts) == 4 and parts[0] == _ROOT and parts[3] == b"status"


__all__ = [
    "BIRTH_CHECK_S",
    "STATUS_FILTER",
    "BirthAnswers",
    "Presence",
    "is_status_topic",
    "presence_payload",
    "presence_properties",
]
