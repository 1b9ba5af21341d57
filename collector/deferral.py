"""Messages the writer pool did not take: left with the broker, taken back once there is room.

The subscriber's side of backpressure (:mod:`collector.backpressure`, whose
:class:`~collector.backpressure.Deferrals` is the policy), on the MQTT network thread. A
QoS 1 message the pool does not take is *deferred*: not taken, not acked, so the broker
keeps it; the first since a connect is logged. A QoS 0 message has no copy on the broker:
it is lost, counted as rejected and logged (throttled). Every :data:`RESUME_CHECK_S` the
network thread asks whether the pool has room again; once it has, the collector
reconnects deliberately (:meth:`collector.session.NetworkThread.reconnect_now`) and the
broker sends every deferred message again.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Final

from collector.backpressure import Deferrals

if TYPE_CHECKING:
    from collections.abc import Callable

    from collector.metrics import Metrics
    from collector.session import NetworkThread
    from pelangi.throttle import ThrottledLog

# Logged under the subscriber's name, as it was when this was part of the subscriber.
log = logging.getLogger("collector.subscriber")

QOS0_WHILE_FULL: Final = "qos0_while_full"
"""Why a QoS 0 message was not stored: it arrived while the caps were reached."""
RESUME_CHECK_S: Final = 0.5
"""How often the network thread checks whether deferred messages can be taken back."""


class Deferral:
    """Defers what the pool did not take; reconnects to get it back (network thread)."""

    def __init__(
        self,
        metrics: Metrics,
        network: NetworkThread,
        address: str,
        *,
        clock: Callable[[], float],
        refusal_log: ThrottledLog,
    ) -> None:
        """Reconnect ``network`` (to the broker at ``address``) to take messages back.

        ``refusal_log`` is the subscriber's throttled log of refused messages; a QoS 0
        message lost while full is logged through it too (one throttle for both).
        """
        self._metrics = metrics
        self._network = network
        self._address = address
        self._clock = clock
        self._refusal_log = refusal_log
        self._deferrals = Deferrals()
        self._resuming = False

    def not_taken(self, topic_bytes: bytes, qos: int) -> None:
        """The pool did not take this message (its caps are reached)."""
        if qos:
            self._defer()
            return
        # QoS 0: the broker keeps no copy, so it is lost; say so.
        self._metrics.message_rejected(QOS0_WHILE_FULL)
        self._refusal_log.log(
            logging.WARNING,
            "a QoS 0 message on %s arrived while storage is behind and is lost "
            "(counted as rejected.%s): publish readings at QoS 1",
            topic_bytes.decode(errors="replace"),
            QOS0_WHILE_FULL,
            key=QOS0_WHILE_FULL,
        )

    def connected(self) -> None:
        """A new connection: all in flight comes again, the deferred ones too."""
        self._deferrals.connected()

    def disconnected(self) -> bool:
        """The connection ended: return whether it was ended to take messages back."""
        resuming, self._resuming = self._resuming, False
        return resuming

    def resume_if_room(self, *, has_room: bool) -> None:
        """Reconnect deliberately to get deferred messages again, once there is room."""
        count = self._deferrals.resume(self._clock(), has_room=has_room)
        if count:
            log.info(
                "storage caught up; reconnecting to mqtt %s so that the broker sends the %d "
                "messages left with it again",
                self._address,
                count,
            )
            self._metrics.reconnected_to_resume()
            self._resuming = True
            self._network.reconnect_now()

    def _defer(self) -> None:
        """Leave a message with the broker (not taken, not acked) while the caps are reached."""
        self._metrics.message_deferred()
        if self._deferrals.defer():
            held = self._metrics.snapshot()
            log.warning(
                "storage is behind (%d messages, %d points held): leaving new messages with "
                "the broker until it catches up",
                held.unacked,
                held.unacked_points,
            )
