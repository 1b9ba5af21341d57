"""What the broker sends the gateway, routed: rebirth commands, receipts, presence.

Called from paho's network thread for every message of the gateway's subscriptions
(:mod:`edge_agent.uplink.connection`). A message that does not parse is logged
(throttled) and ignored; nothing here raises.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from edge_agent.uplink.messages import parse_presence, parse_receipt
from pelangi.errors import PayloadError
from pelangi.liveness import REBIRTH
from pelangi.throttle import ThrottledLog
from pelangi.topics import command_topic, parse_collector_state_topic, stored_topic

if TYPE_CHECKING:
    from paho.mqtt.properties import Properties

    from edge_agent.uplink.delivery import Delivery
    from edge_agent.uplink.gate import SendGate

log = logging.getLogger(__name__)


class Inbox:
    """Routes one gateway's incoming messages (see the module docstring)."""

    def __init__(self, site: str, gateway: str, gate: SendGate) -> None:
        """Route for gateway ``site/gateway``; presence goes to ``gate``."""
        self.command_topic = command_topic(site, gateway, REBIRTH)
        self.stored_topic = stored_topic(site, gateway)
        self.delivery: Delivery | None = None
        self._gate = gate
        self._lock = threading.Lock()
        self._receipts = 0
        self._bad = ThrottledLog(log, burst=3, interval_s=300.0)

    @property
    def receipts(self) -> int:
        """Valid receipts received since the agent started."""
        with self._lock:
            return self._receipts

    def handle(
        self, topic: str, payload: bytes, properties: Properties | None, *, retained: bool
    ) -> bool:
        """Route one message; return True when it asks for a new birth (rebirth)."""
        if topic == self.command_topic:
            log.info("a rebirth was requested on %s", topic)
            return True
        try:
            if topic == self.stored_topic:
                receipt = parse_receipt(payload)
                with self._lock:
                    self._receipts += 1
                if self.delivery is not None:
                    self.delivery.stored(receipt)
                return False
            collector = parse_collector_state_topic(topic)
            if collector is not None:
                self._gate.presence(
                    parse_presence(collector, payload, properties, retained=retained)
                )
        except PayloadError as exc:
            self._bad.log(logging.WARNING, "ignored a message on %s: %s", topic, exc)
        return False
