"""The send gate: may readings go to the broker now? Connection state plus presence.

The connection (:mod:`edge_agent.uplink.connection`) tells the gate when it connects,
when the retained presence states have all arrived, every presence message and when the
connection ends; the publisher waits on it (:meth:`SendGate.wait_ready`). The gate also
keeps receipt mode (:mod:`edge_agent.uplink.presence`) and remembers it on disk
(:class:`edge_agent.uplink.memory.ReceiptMemory`). Thread-safe; no network IO.

In receipt mode the gate also waits, once per boot, until the gateway's clock has been
checked against a collector's (``clock_known``: a fresh presence message was a time
signal, :mod:`edge_agent.timebase`): readings stamped before that are *provisional*, and
sending them before the offset is known would send a wrong ``ts`` that the collector
dead-letters (a gateway that booted before NTP answered). Collectors answer a gateway's
birth with a fresh presence within about a second, and refresh it every
``presence_interval_s`` anyway; with no collector online at all the wait lasts until one
is. After an agent restart in the same boot the saved anchor makes the clock known at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    from edge_agent.uplink.memory import ReceiptMemory
    from edge_agent.uplink.messages import PresenceMessage
    from edge_agent.uplink.presence import Presence

log = logging.getLogger(__name__)

MQTT_RECEIVE_MAXIMUM = 65_535
"""A broker that announces no Receive Maximum allows this many (MQTT v5)."""

TimeSignal: TypeAlias = Callable[[int, int, int], None]
"""``(collector_ns, local_wall_ns, local_mono_ns)``: a collector's clock, read just now."""


class SendGate:
    """Whether readings may leave, and why not (see the module docstring)."""

    def __init__(
        self,
        presence: Presence,
        address: str,
        *,
        memory: ReceiptMemory | None = None,
        time_signal: TimeSignal | None = None,
        clock_known: Callable[[], bool] | None = None,
    ) -> None:
        """Gate on ``presence`` for the broker at ``address`` (for messages)."""
        self._presence = presence
        self._address = address
        self._memory = memory
        if memory is not None and memory.recall():
            presence.receipts = True
        self._time_signal = time_signal
        self._clock_known = clock_known
        self._cond = threading.Condition()
        self._connected = False
        self._stopping = False
        self._may_send = False
        self._receive_maximum = MQTT_RECEIVE_MAXIMUM
        self._ready_count = 0

    # What the connection tells it.

    def connected(self, receive_maximum: int) -> None:
        """A connection is up; presence is read afresh (nothing known until settled)."""
        with self._cond:
            self._receive_maximum = max(1, receive_maximum)
            self._connected = True
            self._presence.reset()
            self._update()

    def settled(self) -> None:
        """Every retained presence state has arrived since connecting."""
        with self._cond:
            self._presence.settle()
            self._update()

    def presence(self, message: PresenceMessage) -> None:
        """A collector's presence message arrived."""
        if message.fresh and message.online and message.ts is not None and self._time_signal:
            self._time_signal(message.ts, time.time_ns(), time.monotonic_ns())
        with self._cond:
            switched = self._presence.update(
                message.collector, online=message.online, confirms=message.confirms
            )
            self._update()
        if switched:
            log.info(
                "collector %s confirms what it stores: readings now leave the outbox only "
                "when a receipt names them",
                message.collector,
            )
            if self._memory is not None:
                self._memory.remember(message.collector)

    def disconnected(self) -> None:
        """The connection ended."""
        with self._cond:
            self._connected = False
            self._may_send = False
            self._presence.reset()
            self._cond.notify_all()

    def stop(self) -> None:
        """Wake every waiter for good (the agent stops)."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()

    # What the publisher asks.

    @property
    def ready(self) -> bool:
        """True while readings may be handed to the broker."""
        with self._cond:
            return self._may_send

    def wait_ready(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds until :attr:`ready`; return whether it is."""
        with self._cond:
            return (
                self._cond.wait_for(lambda: self._may_send or self._stopping, timeout)
                and not self._stopping
            )

    @property
    def ready_count(self) -> int:
        """How many times :attr:`ready` has become true (each connect, each collector return)."""
        with self._cond:
            return self._ready_count

    @property
    def receive_maximum(self) -> int:
        """QoS 1 messages the broker accepts unacknowledged (its CONNACK's Receive Maximum)."""
        with self._cond:
            return self._receive_maximum

    @property
    def receipt_mode(self) -> bool:
        """Whether a PUBACK leaves readings in the outbox until a receipt names them."""
        with self._cond:
            return self._presence.receipts

    @property
    def is_connected(self) -> bool:
        """True while connected to the broker."""
        with self._cond:
            return self._connected

    def waiting_for(self) -> str:
        """Why readings are held back right now, in words (empty when they are not)."""
        with self._cond:
            if not self._connected:
                return f"not connected to mqtt {self._address}"
            if self._presence.may_send() and self._presence.known and not self._clock_ok():
                return "waiting for a collector's time signal to check the gateway's clock"
            return self._presence.waiting_for()

    def _clock_ok(self) -> bool:
        """Whether the clock need not (or no longer) wait for a time signal."""
        return not self._presence.receipts or self._clock_known is None or self._clock_known()

    def _update(self) -> None:
        """Re-evaluate and log a change (called with the condition held)."""
        may_send = self._connected and self._presence.may_send() and self._clock_ok()
        if may_send and not self._may_send:
            self._ready_count += 1
        if may_send != self._may_send and self._presence.known:
            if may_send:
                online = self._presence.online()
                if online:
                    log.info("collector(s) online: %s; sending readings", ", ".join(online))
                elif self._presence.primary == "any":
                    log.warning(
                        "no collector announces its presence on mqtt %s; sending readings "
                        "without waiting for one (collectors from before presence)",
                        self._address,
                    )
            else:
                why = self._presence.waiting_for() or "waiting for a collector's time signal"
                log.warning("holding readings in the outbox: %s", why)
        self._may_send = may_send
        self._cond.notify_all()
