"""The agent's MQTT connection: reconnects, liveness certificates, collector presence.

One supervisor thread runs the connection's life cycle, one connection at a time::

    bdseq += 1 -> new paho client, Will = death(bdseq) -> connect -> paho's network thread
    -> on CONNACK: subscribe presence (QoS 0) and rebirth command (QoS 1), publish birth
    -> heartbeat (the birth again, fresh ts) every heartbeat_s -> ... connection lost
    -> wait a jittered backoff -> again

Why a new paho client for every connection: paho keeps its unacknowledged QoS 1 messages
across a reconnect and sends them again by itself (measured: 50 of 50 re-sent and
acknowledged after a broker restart). The outbox re-sends everything that was in flight
when a connection drops, so a reused client would send those readings twice. A fresh
client has nothing to re-send: the outbox is the only memory of what is unacknowledged.

Why our own reconnect loop: paho doubles its delay without jitter, so 50 gateways that
lost the broker together retry together. Here the delay is drawn uniformly from
``[0, min(reconnect_max_s, reconnect_min_s * 2**attempt)]`` (full jitter,
:class:`pelangi.backoff.Backoff`); the attempt count starts again only after a connection
that lasted :data:`STABLE_S`, so a broker that accepts and drops at once is not hammered.

The publisher (:mod:`edge_agent.uplink.publisher`) calls :meth:`MqttConnection.publish` with a
token (an outbox batch id) and hears back through :class:`Delivery`: ``delivered`` on
PUBACK, ``connection_lost`` when the connection drops (everything not acknowledged by
then will never be, on this connection).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Protocol

import paho.mqtt.client as paho
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.reasoncodes import ReasonCode

from pelangi.backoff import Backoff
from pelangi.errors import PayloadError
from pelangi.liveness import REBIRTH, CollectorState, decode_liveness
from pelangi.mqtt import make_client
from pelangi.throttle import ThrottledLog
from pelangi.topics import (
    collector_state_filter,
    command_topic,
    parse_collector_state_topic,
    status_topic,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from paho.mqtt.properties import Properties

    from edge_agent.uplink.certificates import BirthDeathCounter, BirthInfo
    from edge_agent.uplink.presence import Presence
    from pelangi.mqtt import MqttSettings

log = logging.getLogger(__name__)

QOS: Final = 1
"""At least once: a duplicate is harmless (same ``ts``: it overwrites itself in InfluxDB)."""
STABLE_S: Final = 30.0
"""A connection that lasted this long starts the backoff again from its shortest delay."""
CONNACK_TIMEOUT_S: Final = 15.0
"""A broker that accepts TCP but does not answer CONNECT within this time is left."""
PRESENCE_FILTER: Final = collector_state_filter()
PRESENCE_QOS: Final = 0
"""QoS 0 for the retained presence states: the broker sends them all at once, before the
SUBACK of the next subscription (QoS 1 ones beyond its in-flight window of 20 would come
after it), so that SUBACK marks the moment every collector's state is known. Presence is
read afresh on every connect, so a lost QoS 0 message cannot leave a stale view."""
MQTT_RECEIVE_MAXIMUM: Final = 65_535
"""A broker that announces no Receive Maximum allows this many (MQTT v5)."""
SUPERVISOR_TICK_S: Final = 1.0
_INTERNAL: Final = 0
"""Token of the connection's own messages (births): never an outbox batch id."""
_DISCONNECT_WITH_WILL: Final = 4
"""MQTT v5 DISCONNECT reason: the broker publishes our Will, the death certificate."""


class Delivery(Protocol):
    """What the connection tells the publisher (called from paho's network thread)."""

    def delivered(self, token: int, refusal: str | None) -> None:
        """The broker answered the message of ``token``: accepted, or refused with a reason."""
        ...

    def connection_lost(self) -> None:
        """The connection dropped: messages not acknowledged by now never will be."""
        ...


@dataclass(frozen=True, slots=True)
class ConnectionStats:
    """Counters of the connection since the agent started."""

    connected: bool
    attempts: int
    connections: int
    births: int
    bdseq: int
    """The ``bdseq`` of the current (or latest) connection attempt."""


class MqttConnection:
    """One MQTT connection at a time to the broker, with the gateway's liveness around it."""

    def __init__(  # noqa: PLR0913 - every collaborator is named at the call
        self,
        settings: MqttSettings,
        client_id: str,
        *,
        birth_info: BirthInfo,
        bdseq: BirthDeathCounter,
        presence: Presence,
        max_in_flight: int,
        backoff: Backoff | None = None,
        now_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        """Prepare; nothing connects until :meth:`start`.

        ``max_in_flight`` bounds paho's own window (the publisher's window plus room for
        births); paho never holds more than that unacknowledged.
        """
        self.settings = settings
        self.client_id = client_id
        self._info = birth_info
        self._bdseq = bdseq
        self._presence = presence
        self._delivery: Delivery | None = None
        self._max_in_flight = max_in_flight
        self._backoff = backoff or Backoff(
            base=settings.reconnect_min_s, cap=settings.reconnect_max_s
        )
        self._now_ns = now_ns
        self._status_topic = status_topic(birth_info.site, birth_info.gateway)
        self._command_topic = command_topic(birth_info.site, birth_info.gateway, REBIRTH)
        self._cond = threading.Condition()
        # Under _cond.
        self._client: paho.Client | None = None
        self._connected = False
        self._ended = False  # the current client's connection is over
        self._stopping = False
        self._current_bdseq = 0
        self._settle_mid: int | None = None
        self._tokens: dict[int, int] = {}  # mid -> token, current connection only
        self._early: dict[int, ReasonCode] = {}  # PUBACKs that beat publish() to _tokens
        self._may_send = False
        self._receive_maximum = MQTT_RECEIVE_MAXIMUM
        self._ready_count = 0  # times readings became sendable (connect, a collector back)
        self._attempts = self._connections = self._births = 0
        self._thread = threading.Thread(target=self._run, name="mqtt-connection", daemon=True)
        self._unreachable = ThrottledLog(log, burst=1, interval_s=300.0)
        self._refusals = ThrottledLog(log, burst=5, interval_s=60.0)

    # The publisher's side.

    def start(self, delivery: Delivery) -> None:
        """Start connecting in the background; ``delivery`` hears every answer. Returns at once."""
        self._delivery = delivery
        log.info("connecting to mqtt %s as %s", self.settings.address, self.client_id)
        self._thread.start()

    @property
    def connected(self) -> bool:
        """True while connected to the broker."""
        with self._cond:
            return self._connected

    @property
    def ready(self) -> bool:
        """True while readings may be handed to the broker: connected, and a collector is there."""
        with self._cond:
            return self._connected and self._may_send

    def wait_ready(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds until :attr:`ready`; return whether it is."""
        with self._cond:
            return (
                self._cond.wait_for(
                    lambda: (self._connected and self._may_send) or self._stopping, timeout
                )
                and not self._stopping
            )

    @property
    def bdseq_problem(self) -> str | None:
        """Why ``bdseq`` cannot be saved, or None (see :class:`BirthDeathCounter`)."""
        return self._bdseq.problem

    @property
    def receive_maximum(self) -> int:
        """QoS 1 messages the broker accepts unacknowledged (its CONNACK's Receive Maximum)."""
        with self._cond:
            return self._receive_maximum

    @property
    def ready_count(self) -> int:
        """How many times :attr:`ready` has become true (each connect, each collector return)."""
        with self._cond:
            return self._ready_count

    def waiting_for(self) -> str:
        """Why readings are held back right now, in words (empty when they are not)."""
        with self._cond:
            if not self._connected:
                return f"not connected to mqtt {self.settings.address}"
            return self._presence.waiting_for()

    def publish(self, topic: str, payload: bytes, token: int) -> bool:
        """Publish at QoS 1 on the current connection; :class:`Delivery` hears the answer.

        Returns False when there is no connection, or it was lost while publishing: the
        caller must then treat the message as not sent. ``token`` must not be 0.
        """
        return self._publish(topic, payload, token, retain=False)

    def stats(self) -> ConnectionStats:
        """A snapshot of the counters."""
        with self._cond:
            return ConnectionStats(
                connected=self._connected,
                attempts=self._attempts,
                connections=self._connections,
                births=self._births,
                bdseq=self._current_bdseq,
            )

    def close(self, timeout: float) -> None:
        """Leave the broker with a death certificate and stop the supervisor."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("the mqtt connection did not close within %.0f s", timeout)

    # The supervisor thread.

    def _run(self) -> None:
        while not self._is_stopping():
            bdseq = self._bdseq.next()
            client = self._new_client(bdseq)
            with self._cond:
                self._attempts += 1
                self._current_bdseq = bdseq
            try:
                client.connect(
                    self.settings.host, self.settings.port, keepalive=self.settings.keepalive_s
                )
            except (OSError, ValueError) as exc:  # refused, unreachable, TLS, bad host name
                _drop_callbacks(client)
                self._connect_trouble(f"cannot reach mqtt {self.settings.address}: {exc}")
                self._pause(self._backoff.next_delay())
                continue
            with self._cond:
                self._client = client
                self._ended = False
            client.loop_start()
            lasted = self._serve(client)
            client.loop_stop()
            _drop_callbacks(client)
            with self._cond:
                self._client = None
            if lasted >= STABLE_S:
                self._backoff.reset()
            if not self._is_stopping():
                self._pause(self._backoff.next_delay())

    def _new_client(self, bdseq: int) -> paho.Client:
        client = make_client(self.settings, self.client_id, reconnect_on_failure=False)
        # The window of unacknowledged messages is the publisher's; paho just carries it.
        client.max_inflight_messages_set(self._max_in_flight)
        death = self._info.death(bdseq, self._now_ns())
        client.will_set(self._status_topic, death.model_dump_json().encode(), qos=QOS, retain=True)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        return client

    def _serve(self, client: paho.Client) -> float:
        """Run one connection until it ends (or we stop); return how long it was up."""
        started = time.monotonic()
        connected_at: float | None = None
        next_beat = 0.0
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._ended or self._stopping, SUPERVISOR_TICK_S)
                ended, stopping, connected = self._ended, self._stopping, self._connected
            now = time.monotonic()
            if ended:
                break
            if stopping:
                self._leave(client)
                break
            if connected:
                if connected_at is None:
                    connected_at = now
                    next_beat = now + self._info.heartbeat_s
                elif now >= next_beat:
                    next_beat = now + self._info.heartbeat_s
                    self._publish_birth(client, "heartbeat")
            elif now - started > CONNACK_TIMEOUT_S:
                self._connect_trouble(
                    f"mqtt {self.settings.address} did not answer the connection request"
                )
                client.disconnect()
                break
        return 0.0 if connected_at is None else time.monotonic() - connected_at

    def _leave(self, client: paho.Client) -> None:
        """Disconnect so that the broker publishes our Will: the death certificate."""
        reason = ReasonCode(PacketTypes.DISCONNECT, identifier=_DISCONNECT_WITH_WILL)
        client.disconnect(reasoncode=reason)

    def _pause(self, seconds: float) -> None:
        log.debug("next attempt to connect to mqtt %s in %.1f s", self.settings.address, seconds)
        with self._cond:
            self._cond.wait_for(lambda: self._stopping, seconds)

    def _is_stopping(self) -> bool:
        with self._cond:
            return self._stopping

    # Publishing (any thread).

    def _publish(self, topic: str, payload: bytes, token: int, *, retain: bool) -> bool:
        with self._cond:
            client = self._client if self._connected else None
        if client is None:
            return False
        info = client.publish(topic, payload, qos=QOS, retain=retain)
        if info.rc != paho.MQTT_ERR_SUCCESS:
            return False
        with self._cond:
            if self._client is not client or not self._connected:
                return False  # lost meanwhile: connection_lost() has been or will be called
            early = self._early.pop(info.mid, None)
            if early is None:
                self._tokens[info.mid] = token
                return True
        self._answer(token, early)
        return True

    def _publish_birth(self, client: paho.Client, why: str) -> None:
        with self._cond:
            if self._client is not client:
                return
            bdseq = self._current_bdseq
            self._births += 1
        birth = self._info.birth(bdseq, self._now_ns())
        if self._publish(
            self._status_topic, birth.model_dump_json().encode(), _INTERNAL, retain=True
        ):
            log.debug("published the birth certificate (bdseq %d, %s)", bdseq, why)

    def _answer(self, token: int, reason: ReasonCode) -> None:
        refusal = str(reason) if reason.is_failure else None
        if token == _INTERNAL:
            if refusal is not None:
                self._refused(self._status_topic, refusal)
            return
        if refusal is not None:
            self._refused("a reading topic", refusal)
        if self._delivery is not None:
            self._delivery.delivered(token, refusal)

    def _refused(self, topic: str, refusal: str) -> None:
        self._refusals.log(
            logging.ERROR,
            "mqtt %s refused a message on %s because: %s (check the broker's access "
            "rules for this gateway)",
            self.settings.address,
            topic,
            refusal,
        )

    # paho callbacks: they run in paho's network thread of the current client.

    def _on_connect(
        self,
        client: paho.Client,
        _userdata: Any,  # noqa: ANN401 - paho's signature
        _flags: paho.ConnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if reason_code.is_failure:
            # The connection ends now; a wrong password would otherwise log every retry.
            self._connect_trouble(
                f"mqtt {self.settings.address} refused the connection: {reason_code}"
            )
            return
        receive_maximum = getattr(properties, "ReceiveMaximum", MQTT_RECEIVE_MAXIMUM)
        with self._cond:
            self._receive_maximum = max(1, int(receive_maximum))
            self._connected = True
            self._connections += 1
            self._presence.reset()
            self._update_may_send()
            bdseq = self._current_bdseq
        self._unreachable.reset()
        log.info("connected to mqtt %s (bdseq %d)", self.settings.address, bdseq)
        # Commands before the birth (a collector may answer the birth with a command);
        # the SUBACK of the last subscription says every retained presence has arrived.
        client.subscribe(PRESENCE_FILTER, qos=PRESENCE_QOS)
        _, mid = client.subscribe(self._command_topic, qos=QOS)
        with self._cond:
            self._settle_mid = mid
        self._publish_birth(client, "connect")

    def _on_subscribe(
        self,
        _client: paho.Client,
        _userdata: Any,  # noqa: ANN401 - paho's signature
        mid: int,
        reason_codes: list[ReasonCode],
        _properties: Properties | None,
    ) -> None:
        refused = [str(code) for code in reason_codes if code.is_failure]
        if refused:
            log.error(
                "mqtt %s refused a subscription of this gateway (%s): check the broker's "
                "access rules (the gateway must read %s and its own subtree)",
                self.settings.address,
                ", ".join(refused),
                PRESENCE_FILTER,
            )
        with self._cond:
            if mid == self._settle_mid:
                self._presence.settle()
                self._update_may_send()

    def _on_message(
        self,
        client: paho.Client,
        _userdata: Any,  # noqa: ANN401 - paho's signature
        message: paho.MQTTMessage,
    ) -> None:
        topic = message.topic
        if topic == self._command_topic:
            log.info("a rebirth was requested on %s", topic)
            self._publish_birth(client, "rebirth")
            return
        collector = parse_collector_state_topic(topic)
        if collector is None:
            return
        online: bool | None = None
        if message.payload:  # empty: the retained state was cleared
            try:
                state = decode_liveness(bytes(message.payload), CollectorState)
            except PayloadError as exc:
                log.warning("ignored a collector presence message on %s: %s", topic, exc)
                return
            online = state.online
        with self._cond:
            self._presence.update(collector, online=online)
            self._update_may_send()
        log.debug("collector %s is %s", collector, _state_word(online=online))

    def _update_may_send(self) -> None:
        """Re-evaluate presence and log a change (called with _cond held)."""
        may_send = self._connected and self._presence.may_send()
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
                        self.settings.address,
                    )
            else:
                log.warning("holding readings in the outbox: %s", self._presence.waiting_for())
        self._may_send = may_send
        self._cond.notify_all()

    def _on_disconnect(
        self,
        _client: paho.Client,
        _userdata: Any,  # noqa: ANN401 - paho's signature
        _flags: paho.DisconnectFlags,
        reason_code: ReasonCode,
        _properties: Properties | None,
    ) -> None:
        with self._cond:
            was_connected = self._connected
            self._connected = False
            self._ended = True
            self._may_send = False
            self._presence.reset()
            self._tokens.clear()
            self._early.clear()
            stopping = self._stopping
            self._cond.notify_all()
        if self._delivery is not None:
            self._delivery.connection_lost()
        if stopping:
            log.info("disconnected from mqtt %s", self.settings.address)
        elif was_connected:
            log.warning(
                "lost connection to mqtt %s (%s); reconnecting", self.settings.address, reason_code
            )

    def _on_publish(
        self,
        _client: paho.Client,
        _userdata: Any,  # noqa: ANN401 - paho's signature
        mid: int,
        reason_code: ReasonCode,
        _properties: Properties,
    ) -> None:
        with self._cond:
            token = self._tokens.pop(mid, None)
            if token is None:
                self._early[mid] = reason_code
                return
        self._answer(token, reason_code)

    def _connect_trouble(self, problem: str) -> None:
        """Log a failed connection attempt: the first in full, then a summary every 5 min."""
        self._unreachable.log(
            logging.WARNING,
            "%s; trying again within %.0f s at most",
            problem,
            self.settings.reconnect_max_s,
        )


def _state_word(*, online: bool | None) -> str:
    return "presence cleared" if online is None else ("online" if online else "offline")


def _drop_callbacks(client: paho.Client) -> None:
    """Break the client -> bound method -> self cycle, so paho's sockets close promptly."""
    client.on_connect = None
    client.on_disconnect = None
    client.on_publish = None
    client.on_subscribe = None
    client.on_message = None
