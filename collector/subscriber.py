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
  confirmed to their gateways (:mod:`collector.confirmations`, :mod:`pelangi.receipts`);
  a message the broker sends again is stored and confirmed again (both idempotent);
- Receive Maximum = ``batch.max_unacked``, so the broker's in-flight window never
  throttles batching; our own caps (in the pool) bound memory regardless;
- backpressure without going silent (:mod:`collector.backpressure`): at the pool's caps
  a message is deferred (left with the broker) while keepalives go on;
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

from collector.backpressure import Deferrals
from collector.batching import Delivery
from collector.confirmations import receipts
from collector.intake import Intake
from collector.mqtt_client import tuned_client
from collector.presence import BIRTH_CHECK_S, STATUS_FILTER, Presence, is_status_topic
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
QOS0_WHILE_FULL: Final = "qos0_while_full"
"""Why a QoS 0 message was not stored: it arrived while the caps were reached."""
RESUME_CHECK_S: Final = 0.5
"""How often the network thread checks whether deferred messages can be taken back."""
RECEIPT_PAUSE_S: Final = 60.0
"""How long receipts are withheld after the broker refused one of our messages.

Mosquitto answers a PUBLISH its ACL denies with reason 135 *and drops the connection*
(which fires our Will): a collector whose receipts the ACL refuses (an ACL from before
receipts) would lose its connection after every write, and every agent would see it
offline. Withholding receipts keeps it connected and storing; agents that wait for
receipts send their readings again meanwhile (harmless: writes are idempotent)."""


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
        self._wall_clock_ns = wall_clock_ns
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
        self._deferrals = Deferrals()
        self._resuming = False
        self._accepting = False
        self._closing = False
        self._connected = threading.Event()
        self._refusal_log = ThrottledLog(log, burst=1, interval_s=300.0, clock=clock)
        self._clock = clock
        self._receipts_from = 0.0
        self._lost_log = ThrottledLog(log, burst=5, interval_s=60.0, clock=clock)
        self._network = NetworkThread(self._client, settings.mqtt, clock=clock)
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
        if self._clock() < self._receipts_from:
            confirms = ()  # withheld: see RECEIPT_PAUSE_S
        for topic, payload in receipts(
            confirms, self._settings.collector_id, self._wall_clock_ns()
        ):
            # Queued by paho if the connection is down, and sent on the next one.
            self._client.publish(topic, payload, qos=QOS, retain=False)
        if confirms:
            self._metrics.readings_confirmed(sum(len(confirm.seqs) for confirm in confirms))
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
        self._deferrals.connected()  # all in flight comes again, the deferred ones too
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
            self._receipts_from = self._clock() + RECEIPT_PAUSE_S
            self._refusal_log.log(
                logging.ERROR,
                "mqtt %s refused a message we published (%s); receipts are withheld for "
                "%.0f s (gateways send their readings again meanwhile): check that the "
                "broker's ACL lets user %s write pelangi/+/+/stored and pelangi-host/#",
                self._address,
                reason_code,
                RECEIPT_PAUSE_S,
                self._settings.mqtt.username or "(anonymous)",
            )

    def _on_disconnect(
        self,
        _client: paho.Client,
        _userdata: Any,  # noqa: ANN401 - paho's signature
        _flags: paho.DisconnectFlags,
        reason_code: ReasonCode,
        _properties: Properties | None,
    ) -> None:
        self._connected.clear()
        if self._closing or self._resuming:
            self._resuming = False
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
            if qos:
                self._defer()
            else:  # QoS 0: the broker keeps no copy, so it is lost; say so
                self._metrics.message_rejected(QOS0_WHILE_FULL)
                self._refusal_log.log(
                    logging.WARNING,
                    "a QoS 0 message on %s arrived while storage is behind and is lost "
                    "(counted as rejected.%s): publish readings at QoS 1",
                    topic_bytes.decode(errors="replace"),
                    QOS0_WHILE_FULL,
                    key=QOS0_WHILE_FULL,
                )

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

    def _resume_if_room(self) -> None:
        """Reconnect deliberately to get deferred messages again, once there is room."""
        if not self._accepting:
            return
        count = self._deferrals.resume(self._clock(), has_room=self._has_room())
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


__all__ = ["Subscriber"]
