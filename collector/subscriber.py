"""The MQTT side: a persistent QoS 1 session whose messages are acked only when stored.

The session (MQTT v5):

- a fixed client id per collector instance and ``clean_start=False`` on every connect,
  with a Session Expiry Interval: while the collector is away (restart, crash, network),
  the broker queues its messages, and on return re-sends exactly the unacknowledged ones;
- QoS 1 subscription, renewed on every connect (harmless when the session already holds
  it; needed when the broker lost it), optionally shared (``$share/<group>/...``) with
  the other collectors of the group;
- manual acks: a message is acked by a writer thread after the write containing its
  lines succeeded (:mod:`collector.writer_pool`). A refused message becomes a dead letter
  (:mod:`collector.deadletter`) and is acked once that is stored;
- receipts: right before those acks, the readings the write stored (or dead-lettered) are
  confirmed to their gateways (:mod:`collector.receipt_sender`, :mod:`pelangi.receipts`);
  a message the broker sends again is stored and confirmed again (both idempotent);
- Receive Maximum = ``batch.max_unacked``, so the broker's in-flight window never
  throttles batching; our own caps (in the pool) bound memory regardless;
- backpressure without going silent (:mod:`collector.backpressure`): at the pool's caps
  a message is deferred (left with the broker) while keepalives go on, and taken back
  once there is room (:mod:`collector.deferral`);
- presence (:mod:`collector.presence`): retained ``online`` on every connect, every
  ``presence_interval_s`` and in answer to gateways' births; ``offline`` as the Will and
  at a clean shutdown.

The connection itself (reconnects with jittered backoff, deliberate reconnects, the
presence timer) runs on our own network thread (:mod:`collector.session`).

Acks name a message by its packet id, which only means something within the session
that sent it. Each token therefore carries the session it came from
(``session << 16 | mid``); when the broker starts a new session (``session present`` =
0: it expired or the broker lost its state), acks for messages of the old one are not
sent (they could ack a different message). A message re-sent (DUP) while we still hold
its first copy is not taken twice: the first copy's ack covers both.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any, Final

from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from collector.batching import Delivery
from collector.deferral import RESUME_CHECK_S, Deferral
from collector.intake import Intake
from collector.mqtt_client import tuned_client
from collector.presence import BIRTH_CHECK_S, STATUS_FILTER, Presence, is_status_topic
from collector.receipt_sender import ReceiptSender
from collector.session import NetworkThread
from pelangi.throttle import ThrottledLog

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    import paho.mqtt.client as paho
    from paho.mqtt.reasoncodes import ReasonCode

    from collector.batching import Token
    from collector.config import CollectorSettings
    from collector.confirmations import Confirm
    from collector.deadletter import DeadLetters
    from collector.metrics import Metrics

log = logging.getLogger(__name__)

_RECEIVE_MAXIMUM_LIMIT: Final = 65_535  # MQTT v5: a two-byte integer
QOS: Final = 1


class Subscriber:
    """Receives messages over MQTT, hands them on, confirms and acks what was stored."""

    def __init__(  # noqa: PLR0913 - collaborators, named at the one call site
        self,
        settings: CollectorSettings,
        metrics: Metrics,
        dead_letters: DeadLetters,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock_ns: Callable[[], int] = time.time_ns,
        on_crash: Callable[[BaseException], None] | None = None,
    ) -> None:
        """Build the MQTT client; nothing connects until :meth:`start`.

        Args:
            settings: the collector configuration (broker, client id, subscription).
            metrics: counters to update.
            dead_letters: makes the dead-letter lines of refused messages and readings.
            clock: monotonic seconds (reconnect pacing, rejection log rate limit).
            wall_clock_ns: the clock of readings' plausibility, receipts and presence.
            on_crash: called if handling a message fails unexpectedly (a bug), so the
                service stops and is restarted rather than running on half-broken.
        """
        self._settings = settings
        self._metrics = metrics
        self._intake = Intake(
            settings.validity, metrics, dead_letters, clock=clock, wall_clock_ns=wall_clock_ns
        )
        self._on_crash = on_crash
        self._address = settings.mqtt.address
        self._client = tuned_client(settings.mqtt, settings.client_id)
        self._client.on_pre_connect = self._before_connect
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_publish = self._on_publish
        self._client.on_message = self._on_message
        self._client.on_fast_message = self._on_fast_message
        self._lock = threading.Lock()
        self._session = 0
        self._held: set[int] = set()
        self._deliver: Callable[[Delivery], bool] | None = None
        self._has_room: Callable[[], bool] = lambda: True
        self._accepting = False
        self._closing = False
        self._connected = threading.Event()
        refusal_log = ThrottledLog(log, burst=1, interval_s=300.0, clock=clock)
        self._receipts = ReceiptSender(
            self._client,
            settings,
            metrics,
            qos=QOS,
            clock=clock,
            wall_clock_ns=wall_clock_ns,
            refusal_log=refusal_log,
        )
        self._lost_log = ThrottledLog(log, burst=5, interval_s=60.0, clock=clock)
        self._network = NetworkThread(self._client, settings.mqtt, clock=clock)
        self._deferral = Deferral(
            metrics, self._network, self._address, clock=clock, refusal_log=refusal_log
        )
        self._presence = Presence(
            self._client,
            settings.collector_id,
            settings.presence_interval_s,
            wall_clock_ns,
            clock=clock,
        )
        self._network.every(settings.presence_interval_s, self._presence.announce)
        self._network.every(BIRTH_CHECK_S, self._presence.answer_births)
        self._network.every(RESUME_CHECK_S, self._resume_if_room)

    @property
    def connected(self) -> bool:
        """Whether the broker has accepted our connection (and not lost it since)."""
        return self._connected.is_set()

    @property
    def network(self) -> NetworkThread:
        """The MQTT network thread (for the watchdog)."""
        return self._network

    def start(self, deliver: Callable[[Delivery], bool], has_room: Callable[[], bool]) -> None:
        """Connect (retrying in the background until the broker answers) and consume.

        Args:
            deliver: takes one message (lines, ack token, confirmation) without blocking;
                returns False if it did not take it (full: the message is deferred).
            has_room: whether deferred messages can be taken back now.
        """
        self._deliver = deliver
        self._has_room = has_room
        self._accepting = True
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call] # paho
        properties.SessionExpiryInterval = self._settings.session_expiry_s
        properties.ReceiveMaximum = min(self._settings.batch.max_unacked, _RECEIVE_MAXIMUM_LIMIT)
        log.info("connecting to mqtt %s as %s", self._address, self._settings.client_id)
        self._client.connect_async(
            self._settings.mqtt.host,
            self._settings.mqtt.port,
            keepalive=self._settings.mqtt.keepalive_s,
            clean_start=False,
            properties=properties,
        )
        self._network.start()

    def stored(self, tokens: Sequence[Token], confirms: Sequence[Confirm]) -> None:
        """Confirm, then acknowledge, the messages of a stored write (on a writer thread)."""
        self._receipts.send(confirms)
        with self._lock:
            session = self._session
            mids = [token & 0xFFFF for token in tokens if token >> 16 == session]
            self._held.difference_update(mids)
            # Under the lock, so a re-sent copy arriving now is either still seen as held
            # (and skipped) or arrives after this ack and is taken anew.
            self._client.ack_many(mids)

    def stop_accepting(self) -> None:
        """Take no more messages; those arriving now stay unacked for the next session."""
        self._accepting = False

    def close(self) -> None:
        """Say we are offline, then disconnect after the queued acks; the session stays."""
        self._accepting = False
        self._closing = True
        if self._connected.is_set():
            self._presence.say_offline()
        self._network.stop()
        # paho closes the socket pair that wakes its loop only in Client.__del__. Our
        # callbacks and the client reference each other, and when the garbage collector
        # frees such a cycle it may finalise the sockets first: a ResourceWarning. paho
        # has no public way to close them, so use the method its __del__ uses.
        self._client._reset_sockets()  # noqa: SLF001

    def log_suppressed(self) -> None:
        """Log a summary of rejections not logged one by one in the last minute."""
        self._intake.log_suppressed()

    # -- paho callbacks (network thread) -------------------------------------------------

    def _before_connect(self, _client: paho.Client, _userdata: Any) -> None:  # noqa: ANN401
        # The Will goes out with each CONNECT: give it the time of this connection.
        self._presence.set_will()

    def _on_connect(
        self,
        client: paho.Client,
        _userdata: Any,  # noqa: ANN401 - paho's signature
        flags: paho.ConnectFlags,
        reason_code: ReasonCode,
        _properties: Properties | None,
    ) -> None:
        if reason_code.is_failure:
            log.error("mqtt %s refused the connection: %s", self._address, reason_code)
            return
        with self._lock:
            if not flags.session_present:
                self._session = (self._session + 1) & 0xFFFF
                self._held.clear()
        self._deferral.connected()
        self._connected.set()
        log.info(
            "connected to mqtt %s as %s (%s)",
            self._address,
            self._settings.client_id,
            "session resumed" if flags.session_present else "new session",
        )
        self._presence.announce()
        # Births (not the retained ones): answered with a fresh presence, see BirthAnswers.
        client.subscribe(
            STATUS_FILTER,
            options=SubscribeOptions(qos=0, retainHandling=SubscribeOptions.RETAIN_DO_NOT_SEND),
        )
        # Retained readings (should an agent ever retain one) only on a new subscription,
        # not again at every reconnect.
        options = SubscribeOptions(qos=QOS, retainHandling=SubscribeOptions.RETAIN_SEND_IF_NEW_SUB)
        client.subscribe(self._settings.subscribe_filter, options=options)

    def _on_subscribe(
        self,
        _client: paho.Client,
        _userdata: Any,  # noqa: ANN401 - paho's signature
        _mid: int,
        reason_codes: list[ReasonCode],
        _properties: Properties | None,
    ) -> None:
        refused = [code for code in reason_codes if code.is_failure]
        if refused:
            log.error(
                "mqtt %s refused the subscription to %s: %s; no readings will arrive "
                "(check the broker's ACL for this user)",
                self._address,
                self._settings.subscribe_filter,
                refused[0],
            )
            return
        log.info("subscribed to %s", self._settings.subscribe_filter)

    def _on_publish(
        self,
        _client: paho.Client,
        _userdata: Any,  # noqa: ANN401 - paho's signature
        _mid: int,
        reason_code: ReasonCode,
        _properties: Properties | None,
    ) -> None:
        if reason_code.is_failure:
            self._receipts.refused(reason_code)

    def _on_disconnect(
        self,
        _client: paho.Client,
        _userdata: Any,  # noqa: ANN401 - paho's signature
        _flags: paho.DisconnectFlags,
        reason_code: ReasonCode,
        _properties: Properties | None,
    ) -> None:
        self._connected.clear()
        resumed = self._deferral.disconnected()  # left on purpose, to take messages back
        if self._closing or resumed:
            log.info("disconnected from mqtt %s", self._address)
        else:
            self._lost_log.log(
                logging.WARNING,
                "lost connection to mqtt %s (%s); reconnecting",
                self._address,
                reason_code,
            )

    def _on_message(
        self,
        _client: paho.Client,
        _userdata: Any,  # noqa: ANN401 - paho's signature
        message: paho.MQTTMessage,
    ) -> None:
        # Messages that carry MQTT v5 properties come this way (paho decoded them).
        self._on_fast_message(message._topic, bytes(message.payload), message.mid, message.qos)  # noqa: SLF001

    def _on_fast_message(self, topic: bytes, payload: bytes, mid: int, qos: int) -> None:
        if is_status_topic(topic):  # a gateway's birth or death: never a reading
            self._presence.birth()
            return
        # An exception escaping from here would break the connection (session.py): stop
        # the service instead, so it is restarted rather than running half-broken.
        try:
            self._handle(topic, payload, mid, qos)
        except Exception as exc:
            log.exception("handling a message failed; stopping")
            self._accepting = False
            if self._on_crash is not None:
                self._on_crash(exc)

    # -- one message -------------------------------------------------------------------

    def _handle(self, topic_bytes: bytes, payload: bytes, mid: int, qos: int) -> None:
        self._metrics.message_received()
        if not self._accepting:
            return  # not acked: the broker sends it again to our next session
        token: Token | None = None
        if qos:
            with self._lock:
                if mid in self._held:
                    return  # a re-sent copy of a message we hold: its ack covers this one
                self._held.add(mid)
                token = self._session << 16 | mid
        lines, confirm = self._intake.take(topic_bytes, payload)
        if self._deliver is None or not self._deliver(Delivery(lines, token, confirm)):
            with self._lock:
                self._held.discard(mid)
            if not self._accepting:
                return  # stopping: the broker sends it again to our next session
            self._deferral.not_taken(topic_bytes, qos)

    def _resume_if_room(self) -> None:
        """Take deferred messages back once there is room (see :mod:`collector.deferral`)."""
        if self._accepting:
            self._deferral.resume_if_room(has_room=self._has_room())


__all__ = ["Subscriber"]
