"""The gateway's subscriptions, made on every connection, and the SUBACK that settles presence.

On CONNACK (:mod:`edge_agent.uplink.connection`) the gateway subscribes to the
collectors' presence, then its receipts and the rebirth command (what arrives on them is
routed by :mod:`edge_agent.uplink.inbox`). The broker sends every retained presence
state before it answers the next SUBSCRIBE, so the SUBACK of the last subscription tells
the gate that the collectors' states are all known (:meth:`SendGate.settled`). A
refused subscription is logged: the broker's access rules are wrong.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Final

from pelangi.topics import collector_state_filter

if TYPE_CHECKING:
    import paho.mqtt.client as paho
    from paho.mqtt.reasoncodes import ReasonCode

    from edge_agent.uplink.gate import SendGate
    from edge_agent.uplink.inbox import Inbox

# Logged under the connection's name, as it was when this was part of the connection.
log = logging.getLogger("edge_agent.uplink.connection")

PRESENCE_FILTER: Final = collector_state_filter()
PRESENCE_QOS: Final = 0
"""QoS 0 for the retained presence states: the broker sends them all at once, before the
SUBACK of the next subscription (QoS 1 ones beyond its in-flight window of 20 would come
after it), so that SUBACK marks the moment every collector's state is known. Presence is
read afresh on every connect, so a lost QoS 0 message cannot leave a stale view."""


class Subscriptions:
    """Subscribes each new connection; tells the gate when presence has settled."""

    def __init__(self, address: str, inbox: Inbox, gate: SendGate, *, qos: int) -> None:
        """Subscribe to ``inbox``'s topics at ``qos``; ``address`` names the broker in the log."""
        self._address = address
        self._inbox = inbox
        self._gate = gate
        self._qos = qos
        self._lock = threading.Lock()
        self._settle_mid: int | None = None

    def subscribe(self, client: paho.Client) -> None:
        """Send the SUBSCRIBEs of a connection that has just been accepted."""
        # The SUBACK of the last subscription says every retained presence has arrived.
        client.subscribe(PRESENCE_FILTER, qos=PRESENCE_QOS)
        client.subscribe(self._inbox.stored_topic, qos=self._qos)
        _, mid = client.subscribe(self._inbox.command_topic, qos=self._qos)
        with self._lock:
            self._settle_mid = mid

    def answered(self, mid: int, reason_codes: list[ReasonCode]) -> None:
        """The broker answered the SUBSCRIBE ``mid`` (a SUBACK)."""
        refused = [str(code) for code in reason_codes if code.is_failure]
        if refused:
            log.error(
                "mqtt %s refused a subscription of this gateway (%s): check the broker's "
                "access rules (the gateway must read %s and %s)",
                self._address,
                ", ".join(refused),
                PRESENCE_FILTER,
                self._inbox.stored_topic,
            )
        with self._lock:
            settled = mid == self._settle_mid
        if settled:
            self._gate.settled()
