"""The MQTT side: a persistent QoS 1 session whose messages are acked only when stored.

The session (MQTT v5):

- a fixed client id per collector instance and ``clean_start=False`` on every connect,
  with a Session Expiry Interval: while the collector is away (restart, crash, network),
  the broker queues its messages, and on return re-sends exactly the unacknowledged ones;
- QoS 1 subscription, renewed on every connect (harmless when the session already
  holds it; needed when the broker lost it);
- paho's ``manual_ack``: a valid message is acked by the storage thread after the write
  containing it succeeded (:mod:`collector.pipeline`); an invalid one is acked at once,
  since storing it will never succeed;
- Receive Maximum = ``batch.max_unacked``: the broker may have that many messages in
  flight to us, our own cap (the pipeline's ``max_unacked``) enforces it regardless.

Acks name a message by its packet id, which only means something within the session
that sent it. Each token therefore carries the session it came from; when the broker
starts a new session (``session present`` = 0: it expired or the broker lost its state),
acks for messages of the old one are not sent (they could ack a different message).
A message re-sent (DUP) while we still hold its first copy is not taken twice: the first
copy's ack covers both.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from collector.validation import validate
from pelangi.errors import PayloadError, RejectReason
from pelangi.mqtt import make_client
from pelangi.throttle import LogThrottle

if TYPE_CHECKING:
    from collections.abc import Callable

    import paho.mqtt.client as paho
    from paho.mqtt.reasoncodes import ReasonCode

    from collector.config import CollectorSettings
    from collector.metrics import Metrics
    from pelangi.payloads import Envelope

log = logging.getLogger(__name__)

_MAX_LOGGED_TOPIC = 200
_RECEIVE_MAXIMUM_LIMIT = 65_535  # MQTT v5: a two-byte integer


@dataclass(frozen=True, slots=True)
class AckToken:
    """What acknowledging one message needs: the session it arrived in, its id and QoS."""

    session: int
    mid: int
    qos: int


class Subscriber:
    """Receives readings over MQTT, rejects invalid ones, hands valid ones to storage."""

    def __init__(
        self,
        settings: CollectorSettings,
        metrics: Metrics,
        *,
        clock: Callable[[], float] = time.monotonic,
        on_crash: Callable[[BaseException], None] | None = None,
    ) -> None:
        """Build the MQTT client; nothing connects until :meth:`start`.

        Args:
            settings: the collector configuration (broker, client id, subscription).
            metrics: counters to update.
            clock: monotonic seconds (for the rate limit on rejection log lines).
            on_crash: called if handling a message fails unexpectedly (a bug), so the
                service stops and is restarted rather than running on half-broken.
        """
        self._settings = settings
        self._metrics = metrics
        self._clock = clock
        self._on_crash = on_crash
        self._address = settings.mqtt.address
        self._client = make_client(settings.mqtt, settings.client_id, manual_ack=True)
        self._client.on_connect = self._on_connect
        self._client.on_connect_fail = self._on_connect_fail
        self._client.on_disconnect = self._on_disconnect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_message = self._on_message
        self._lock = threading.Lock()
        self._session = 0
        self._held: set[int] = set()
        self._deliver: Callable[[Envelope, AckToken], bool] | None = None
        self._accepting = False
        self._closing = False
        self._reject_log = LogThrottle(burst=5, interval_s=60.0)
        self._reject_log_lock = threading.Lock()

    def start(self, deliver: Callable[[Envelope, AckToken], bool]) -> None:
        """Connect (retrying in the background until the broker answers) and consume.

        Args:
            deliver: takes one valid message for storage; may block (backpressure);
                returns False if it did not take the message (shutting down).
        """
        self._deliver = deliver
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
        self._client.loop_start()

    def ack(self, token: AckToken) -> None:
        """Acknowledge a stored message (called from the storage thread)."""
        with self._lock:
            if token.session != self._session:
                return  # the broker started a new session and forgot this message
            self._held.discard(token.mid)
            if token.qos > 0:
                # Under the lock, so a re-sent copy arriving now is either still seen as
                # held (and skipped) or arrives after this ack and is taken anew.
                self._client.ack(token.mid, token.qos)

    def stop_accepting(self) -> None:
        """Take no more messages; those arriving now stay unacked for the next session."""
        self._accepting = False

    def close(self) -> None:
        """Disconnect after the queued acks are sent; the session stays on the broker."""
        self._accepting = False
        self._closing = True
        self._client.disconnect()
        self._client.loop_stop()
        # paho closes the socket pair that wakes its loop only in Client.__del__. Our
        # callbacks and the client reference each other, and when the garbage collector
        # frees such a cycle it may finalise the sockets first: a ResourceWarning. paho
        # has no public way to close them, so use the method its __del__ uses.
        self._client._reset_sockets()  # noqa: SLF001

    def log_suppressed(self) -> None:
        """Log a summary of rejections not logged one by one in the last minute."""
        with self._reject_log_lock:
            suppressed = self._reject_log.due(self._clock())
        if suppressed:
            reasons = ", ".join(f"{reason} {n}" for reason, n in sorted(suppressed.items()))
            log.warning(
                "rejected %d more messages in the last minute (%s)", suppressed.total(), reasons
            )

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
                self._session += 1
                self._held.clear()
        log.info(
            "connected to mqtt %s as %s (%s)",
            self._address,
            self._settings.client_id,
            "session resumed" if flags.session_present else "new session",
        )
        # Retained readings (should an agent ever retain one) only on a new subscription,
        # not again at every reconnect.
        options = SubscribeOptions(qos=1, retainHandling=SubscribeOptions.RETAIN_SEND_IF_NEW_SUB)
        client.subscribe(self._settings.subscription, options=options)

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
                self._settings.subscription,
                refused[0],
            )
            return
        log.info("subscribed to %s", self._settings.subscription)

    def _on_connect_fail(self, _client: paho.Client, _userdata: Any) -> None:  # noqa: ANN401
        log.warning("cannot reach mqtt %s; retrying", self._address)

    def _on_disconnect(
        self,
        _client: paho.Client,
        _userdata: Any,  # noqa: ANN401 - paho's signature
        _flags: paho.DisconnectFlags,
        reason_code: ReasonCode,
        _properties: Properties | None,
    ) -> None:
        if self._closing:
            log.info("disconnected from mqtt %s", self._address)
        else:
            log.warning("lost connection to mqtt %s (%s); reconnecting", self._address, reason_code)

    def _on_message(
        self,
        _client: paho.Client,
        _userdata: Any,  # noqa: ANN401 - paho's signature
        message: paho.MQTTMessage,
    ) -> None:
        # paho lets an exception escape from here and its network thread dies with it.
        try:
            self._handle(message)
        except Exception as exc:
            log.exception("handling a message failed; stopping")
            self._accepting = False
            if self._on_crash is not None:
                self._on_crash(exc)

    def _handle(self, message: paho.MQTTMessage) -> None:
        self._metrics.message_received()
        if not self._accepting:
            return  # not acked: the broker sends it again to our next session
        try:
            topic = message.topic
        except UnicodeDecodeError:
            # MQTT requires UTF-8 topics, but paho decodes them only when asked.
            bad_topic = PayloadError(RejectReason.BAD_TOPIC, "the topic is not valid UTF-8")
            self._reject("(undecodable topic)", message, bad_topic)
            return
        try:
            envelope = validate(topic, bytes(message.payload))
        except PayloadError as exc:
            self._reject(topic, message, exc)
            return
        with self._lock:
            if message.qos > 0:
                if message.mid in self._held:
                    return  # a re-sent copy of a message we hold: its ack covers this one
                self._held.add(message.mid)
            token = AckToken(self._session, message.mid, message.qos)
        if self._deliver is None or not self._deliver(envelope, token):
            with self._lock:
                self._held.discard(message.mid)

    def _reject(self, topic: str, message: paho.MQTTMessage, error: PayloadError) -> None:
        self._metrics.message_rejected(error.reason)
        with self._reject_log_lock:
            allowed = self._reject_log.allow(self._clock(), error.reason)
        if allowed:
            shown = topic if len(topic) <= _MAX_LOGGED_TOPIC else topic[:_MAX_LOGGED_TOPIC] + "..."
            log.warning("rejected message on %s because %s: %s", shown, error.reason, error.detail)
        self.log_suppressed()
        # Storing it will never succeed: ack now so the broker does not send it again.
        if message.qos > 0:
            self._client.ack(message.mid, message.qos)
        self._metrics.messages_acked()


__all__ = ["AckToken", "Subscriber"]
