"""The agent's MQTT connection: reconnects, liveness certificates, presence, receipts.

One supervisor thread (:mod:`edge_agent.uplink.supervisor`) runs the connection's life
cycle, one connection at a time; on CONNACK the connection subscribes to presence (QoS 0),
receipts and the rebirth command (QoS 1: :mod:`edge_agent.uplink.subscriptions`), and
publishes the birth. :mod:`edge_agent.uplink.state` keeps where the connection stands.

Why a new paho client for every connection: paho keeps its unacknowledged QoS 1 messages
across a reconnect and sends them again by itself (measured: 50 of 50 re-sent and
acknowledged after a broker restart). The outbox re-sends everything that was in flight
when a connection drops, so a reused client would send those readings twice. A fresh
client has nothing to re-send: the outbox is the only memory of what is unacknowledged.

The publisher (:mod:`edge_agent.uplink.publisher`) calls :meth:`MqttConnection.publish` with a
token (an outbox batch id) and hears back through
:class:`edge_agent.uplink.delivery.Delivery`: ``delivered`` on PUBACK, ``stored`` for a
collector's receipt (``pelangi/<site>/<gateway>/stored``), ``connection_lost`` when the
connection drops (everything not acknowledged by then will never be, on this connection).

A fresh presence message (not a retained copy) also carries the collector's clock: it is
handed to ``time_signal`` so the agent can learn the offset of its own clock.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any, Final

import paho.mqtt.client as paho
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.reasoncodes import ReasonCode

from edge_agent.uplink.gate import MQTT_RECEIVE_MAXIMUM
from edge_agent.uplink.inbox import Inbox
from edge_agent.uplink.state import ConnectionState
from edge_agent.uplink.subscriptions import Subscriptions
from edge_agent.uplink.supervisor import Supervisor
from pelangi.backoff import Backoff
from pelangi.mqtt import make_client
from pelangi.throttle import ThrottledLog
from pelangi.topics import status_topic

if TYPE_CHECKING:
    from collections.abc import Callable

    from paho.mqtt.properties import Properties

    from edge_agent.uplink.certificates import BirthDeathCounter, BirthInfo
    from edge_agent.uplink.delivery import ConnectionStats, Delivery
    from edge_agent.uplink.gate import SendGate
    from pelangi.mqtt import MqttSettings

log = logging.getLogger(__name__)

QOS: Final = 1
"""At least once: a duplicate is harmless (same ``ts``: it overwrites itself in InfluxDB)."""
_INTERNAL: Final = 0
"""Token of the connection's own messages (births): never an outbox batch id."""
_DISCONNECT_WITH_WILL: Final = 4
"""MQTT v5 DISCONNECT reason: the broker publishes our Will, the death certificate."""


class MqttConnection:
    """One MQTT connection at a time to the broker, with the gateway's liveness around it."""

    def __init__(  # noqa: PLR0913 - every collaborator is named at the call
        self,
        settings: MqttSettings,
        client_id: str,
        *,
        birth_info: BirthInfo,
        bdseq: BirthDeathCounter,
        gate: SendGate,
        max_in_flight: int,
        backoff: Backoff | None = None,
        now_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        """Prepare; nothing connects until :meth:`start`.

        ``max_in_flight`` bounds paho's own window (the publisher's window plus room for
        births); paho never holds more than that unacknowledged. ``gate`` hears the
        connection's state and every presence message; the publisher waits on it.
        """
        self.settings = settings
        self.client_id = client_id
        self._info = birth_info
        self._bdseq = bdseq
        self.gate = gate
        self._delivery: Delivery | None = None
        self._max_in_flight = max_in_flight
        self._now_ns = now_ns
        self._status_topic = status_topic(birth_info.site, birth_info.gateway)
        self._inbox = Inbox(birth_info.site, birth_info.gateway, gate)
        self._subscriptions = Subscriptions(settings.address, self._inbox, gate, qos=QOS)
        self._state = ConnectionState()
        self._supervisor = Supervisor(
            self,
            bdseq,
            backoff or Backoff(base=settings.reconnect_min_s, cap=settings.reconnect_max_s),
            birth_info.heartbeat_s,
        )
        self._unreachable = ThrottledLog(log, burst=1, interval_s=300.0)
        self._refusals = ThrottledLog(log, burst=5, interval_s=60.0)

    # The publisher's side.

    def start(self, delivery: Delivery) -> None:
        """Start connecting in the background; ``delivery`` hears every answer. Returns at once."""
        self._delivery = self._inbox.delivery = delivery
        log.info("connecting to mqtt %s as %s", self.settings.address, self.client_id)
        self._supervisor.start()

    @property
    def connected(self) -> bool:
        """True while connected to the broker."""
        return self._state.connected

    @property
    def bdseq_problem(self) -> str | None:
        """Why ``bdseq`` cannot be saved, or None (see :class:`BirthDeathCounter`)."""
        return self._bdseq.problem

    def waiting_for(self) -> str:
        """Why readings are held back right now, in words (empty when they are not)."""
        return self.gate.waiting_for()

    def publish(self, topic: str, payload: bytes, token: int) -> bool:
        """Publish at QoS 1 on the current connection; :class:`Delivery` hears the answer.

        Returns False when there is no connection, or it was lost while publishing: the
        caller must then treat the message as not sent. ``token`` must not be 0.
        """
        return self._publish(topic, payload, token, retain=False)

    def stats(self) -> ConnectionStats:
        """A snapshot of the counters."""
        return self._state.stats(receipts=self._inbox.receipts, receipt_mode=self.gate.receipt_mode)

    def close(self, timeout: float) -> None:
        """Leave the broker with a death certificate and stop the supervisor."""
        self._state.stop()
        self.gate.stop()
        if not self._supervisor.join(timeout):
            log.warning("the mqtt connection did not close within %.0f s", timeout)

    # The supervisor's side (edge_agent.uplink.supervisor.Link).

    def begin(self, bdseq: int) -> paho.Client | None:
        """Connect a new client for connection ``bdseq``; None if that failed (logged)."""
        client = self._new_client(bdseq)
        self._state.attempt(bdseq)
        try:
            client.connect(
                self.settings.host, self.settings.port, keepalive=self.settings.keepalive_s
            )
        except (OSError, ValueError) as exc:  # refused, unreachable, TLS, bad host name
            _drop_callbacks(client)
            self._connect_trouble(f"cannot reach mqtt {self.settings.address}: {exc}")
            return None
        self._state.began(client)
        client.loop_start()
        return client

    def wait_change(self, timeout: float) -> tuple[bool, bool, bool]:
        """Wait until the connection ended or stopping: return (ended, stopping, connected)."""
        return self._state.wait_change(timeout)

    def heartbeat(self, client: paho.Client) -> None:
        """Publish the birth again with a fresh ts."""
        self._publish_birth(client, "heartbeat")

    def leave(self, client: paho.Client) -> None:
        """Disconnect so that the broker publishes our Will: the death certificate."""
        reason = ReasonCode(PacketTypes.DISCONNECT, identifier=_DISCONNECT_WITH_WILL)
        client.disconnect(reasoncode=reason)

    def give_up(self, client: paho.Client) -> None:
        """The broker did not answer the connection request: say so, disconnect."""
        self._connect_trouble(f"mqtt {self.settings.address} did not answer the connection request")
        client.disconnect()

    def finish(self, client: paho.Client) -> None:
        """The connection is over: stop its network thread, drop the client."""
        client.loop_stop()
        _drop_callbacks(client)
        self._state.finished()

    def wait_stopping(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s for :meth:`close`; return whether it was called."""
        return self._state.wait_stopping(timeout)

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

    # Publishing (any thread).

    def _publish(self, topic: str, payload: bytes, token: int, *, retain: bool) -> bool:
        client = self._state.publishing_client()
        if client is None:
            return False
        info = client.publish(topic, payload, qos=QOS, retain=retain)
        if info.rc != paho.MQTT_ERR_SUCCESS:
            return False
        current, early = self._state.sent(client, info.mid, token, topic)
        if not current:
            return False  # lost meanwhile: connection_lost() has been or will be called
        if early is not None:
            self._answer(token, early, topic)
        return True

    def _publish_birth(self, client: paho.Client, why: str) -> None:
        bdseq = self._state.birth(client)
        if bdseq is None:
            return
        birth = self._info.birth(bdseq, self._now_ns())
        if self._publish(
            self._status_topic, birth.model_dump_json().encode(), _INTERNAL, retain=True
        ):
            log.debug("published the birth certificate (bdseq %d, %s)", bdseq, why)

    def _answer(self, token: int, reason: ReasonCode, topic: str) -> None:
        refusal = str(reason) if reason.is_failure else None
        if refusal is not None:
            self._refused(topic, refusal, readings=token != _INTERNAL)
        if token != _INTERNAL and self._delivery is not None:
            self._delivery.delivered(token, refusal, topic)

    def _refused(self, topic: str, refusal: str, *, readings: bool) -> None:
        self._refusals.log(
            logging.ERROR,
            "mqtt %s refused a message on %s because: %s (check the broker's access "
            "rules for user %s%s)",
            self.settings.address,
            topic,
            refusal,
            self.settings.username or "(anonymous)",
            "; the readings stay in the outbox" if readings else "",
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
        bdseq = self._state.up()
        self._unreachable.reset()
        log.info("connected to mqtt %s (bdseq %d)", self.settings.address, bdseq)
        # Commands before the birth (a collector may answer the birth with a command).
        self._subscriptions.subscribe(client)
        # Only now may readings go (primary_collectors none does not wait for presence):
        # the SUBSCRIBE to receipts is queued before any reading.
        self.gate.connected(int(receive_maximum))
        self._publish_birth(client, "connect")

    def _on_subscribe(
        self,
        _client: paho.Client,
        _userdata: Any,  # noqa: ANN401 - paho's signature
        mid: int,
        reason_codes: list[ReasonCode],
        _properties: Properties | None,
    ) -> None:
        self._subscriptions.answered(mid, reason_codes)

    def _on_message(
        self,
        client: paho.Client,
        _userdata: Any,  # noqa: ANN401 - paho's signature
        message: paho.MQTTMessage,
    ) -> None:
        rebirth = self._inbox.handle(
            message.topic,
            bytes(message.payload),
            getattr(message, "properties", None),
            retained=message.retain,
        )
        if rebirth:
            self._publish_birth(client, "rebirth")

    def _on_disconnect(
        self,
        _client: paho.Client,
        _userdata: Any,  # noqa: ANN401 - paho's signature
        _flags: paho.DisconnectFlags,
        reason_code: ReasonCode,
        _properties: Properties | None,
    ) -> None:
        was_connected, stopping = self._state.down()
        self.gate.disconnected()
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
        sent = self._state.answered(mid, reason_code)
        if sent is not None:
            self._answer(sent[0], reason_code, sent[1])

    def _connect_trouble(self, problem: str) -> None:
        """Log a failed connection attempt: the first in full, then a summary every 5 min."""
        self._unreachable.log(
            logging.WARNING,
            "%s; trying again within %.0f s at most",
            problem,
            self.settings.reconnect_max_s,
        )


def _drop_callbacks(client: paho.Client) -> None:
    """Break the client -> bound method -> self cycle, so paho's sockets close promptly."""
    client.on_connect = None
    client.on_disconnect = None
    client.on_publish = None
    client.on_subscribe = None
    client.on_message = None
