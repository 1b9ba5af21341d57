"""Test-side clients: a subscriber that collects readings, and the agent run in a thread.

Used by the tests (and usable from a Python shell) to watch what really crosses the broker.
"""

from __future__ import annotations

import threading
import uuid
from typing import TYPE_CHECKING, Self, TypeVar

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from edge_agent.agent import run
from pelangi.payloads import AnyReading, Envelope, decode
from pelangi.sandbox.processes import SandboxError
from pelangi.sandbox.waiting import wait_until
from pelangi.topics import parse_reading_topic, reading_filter

if TYPE_CHECKING:
    from types import TracebackType

    from paho.mqtt.reasoncodes import ReasonCode

    from edge_agent.config import AgentSettings
    from pelangi.sandbox.servers import Mosquitto

R = TypeVar("R", bound=AnyReading)

TIMEOUT = 15.0


class ReadingSubscriber:
    """Collects every envelope published on the broker, across broker restarts.

    A persistent session (clean_start off, long expiry) keeps its subscription and queue
    in the broker while the broker is stopped gracefully, so nothing published before it
    reconnects is lost to it.
    """

    def __init__(self, broker: Mosquitto, topic_filter: str = reading_filter()) -> None:
        """Prepare a subscriber to ``topic_filter`` on ``broker`` (connects on ``with``)."""
        self.broker = broker
        self.topic_filter = topic_filter
        self.client_id = f"test-sub-{uuid.uuid4().hex[:8]}"
        self.envelopes: list[Envelope] = []
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self._client = paho.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            protocol=paho.MQTTv5,
        )
        self._client.reconnect_delay_set(min_delay=1, max_delay=1)
        self._client.on_connect = self._on_connect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_message = self._on_message

    def __enter__(self) -> Self:
        """Connect and wait until subscribed."""
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        properties.SessionExpiryInterval = 600
        self._client.connect(
            self.broker.host, self.broker.port, clean_start=False, properties=properties
        )
        self._client.loop_start()
        if not self._subscribed.wait(TIMEOUT):
            raise SandboxError(f"subscriber {self.client_id} did not subscribe in {TIMEOUT} s")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Disconnect."""
        self._client.disconnect()
        self._client.loop_stop()
        # Break the client -> bound method -> self cycle so paho's sockets close promptly.
        self._client.on_connect = None
        self._client.on_subscribe = None
        self._client.on_message = None

    def _on_connect(
        self,
        client: paho.Client,
        _userdata: object,
        _flags: paho.ConnectFlags,
        _reason: ReasonCode,
        _properties: Properties | None,
    ) -> None:
        client.subscribe(self.topic_filter, qos=1)

    def _on_subscribe(self, *_args: object) -> None:
        self._subscribed.set()

    def _on_message(self, _client: paho.Client, _userdata: object, msg: paho.MQTTMessage) -> None:
        envelope = decode(bytes(msg.payload), parse_reading_topic(msg.topic))
        with self._lock:
            self.envelopes.append(envelope)

    def of(self, kind: type[R], device: str | None = None) -> list[R]:
        """Every reading of one kind (and device) received so far, in arrival order."""
        with self._lock:
            return [
                reading
                for envelope in self.envelopes
                if device is None or envelope.device == device
                for reading in envelope.readings
                if isinstance(reading, kind)
            ]

    def card_envelopes(self) -> list[Envelope]:
        """The envelopes that carry card reads."""
        with self._lock:
            return [e for e in self.envelopes if e.card_reads()]

    def uids(self) -> list[str]:
        """The card numbers read so far, in arrival order."""
        return [read.card.uid for e in self.card_envelopes() for read in e.card_reads()]

    def wait_for_uid(self, uid: str, timeout: float = TIMEOUT) -> list[str]:
        """Wait until a reading of ``uid`` arrived; return every uid received so far."""
        wait_until(lambda: uid in self.uids(), timeout=timeout, what=f"card {uid} reaches MQTT")
        return self.uids()


class AgentThread:
    """``edge_agent.agent.run`` in a thread of this process, stopped like SIGTERM would."""

    def __init__(self, settings: AgentSettings) -> None:
        """Prepare to run the agent with ``settings`` (starts on ``with``)."""
        self.settings = settings
        self.stop = threading.Event()
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._main, name="agent-under-test")

    def _main(self) -> None:
        try:
            run(self.settings, self.stop)
        except BaseException as exc:  # the test reports it
            self.error = exc
            raise

    @property
    def alive(self) -> bool:
        """Whether the agent is still running."""
        return self._thread.is_alive()

    def __enter__(self) -> Self:
        """Start the agent."""
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Stop the agent; raise if it did not stop in time or had failed."""
        self.stop.set()
        self._thread.join(TIMEOUT)
        if self._thread.is_alive():
            raise SandboxError("the agent did not stop within its timeout")
        if self.error is not None:
            raise SandboxError(f"the agent failed: {self.error!r}") from self.error
