"""Test-side clients: subscribers, collectors' presence by hand, the agent in a thread or process.

Subscribers collect readings and birth/death certificates; :func:`announce_collector`
publishes a collector's presence as the collector would.

Used by the tests, the benchmarks (and usable from a Python shell) to watch what really
crosses the broker.
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import TYPE_CHECKING, Any, Self, TypeVar

import paho.mqtt.client as paho
import yaml
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from edge_agent.agent import run
from edge_agent.config import AgentSettings
from pelangi.liveness import CollectorState, GatewayStatus, decode_liveness
from pelangi.payloads import AnyReading, Envelope, decode
from pelangi.topics import collector_state_topic, parse_reading_topic, reading_filter
from sandbox.processes import ChildProcess, SandboxError, venv_program
from sandbox.waiting import wait_until

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path
    from types import TracebackType

    from paho.mqtt.reasoncodes import ReasonCode

    from sandbox.servers import Mosquitto

R = TypeVar("R", bound=AnyReading)

TIMEOUT = 15.0


class _Subscriber:
    """A paho subscriber with a persistent session, connected on ``with``.

    A persistent session (clean_start off, long expiry) keeps its subscription and queue
    in the broker while the broker is stopped gracefully, so nothing published before it
    reconnects is lost to it.
    """

    qos = 1

    def __init__(self, broker: Mosquitto, topic_filter: str) -> None:
        """Prepare a subscriber to ``topic_filter`` on ``broker`` (connects on ``with``)."""
        self.broker = broker
        self.topic_filter = topic_filter
        self.client_id = f"test-sub-{uuid.uuid4().hex[:8]}"
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
        client.subscribe(self.topic_filter, qos=self.qos)

    def _on_subscribe(self, *_args: object) -> None:
        self._subscribed.set()

    def _on_message(self, _client: paho.Client, _userdata: object, msg: paho.MQTTMessage) -> None:
        self._handle(msg)

    def _handle(self, msg: paho.MQTTMessage) -> None:
        raise NotImplementedError


class ReadingSubscriber(_Subscriber):
    """Collects every envelope published on the broker, across broker restarts."""

    def __init__(self, broker: Mosquitto, topic_filter: str = reading_filter()) -> None:
        """Prepare a subscriber to ``topic_filter`` on ``broker`` (connects on ``with``)."""
        super().__init__(broker, topic_filter)
        self.envelopes: list[Envelope] = []

    def _handle(self, msg: paho.MQTTMessage) -> None:
        envelope = decode(bytes(msg.payload), parse_reading_topic(msg.topic))
        with self._lock:
            self.envelopes.append(envelope)

    def readings(self, device: str) -> list[tuple[bool, AnyReading]]:
        """``(historical, reading)`` of one device, in arrival order."""
        with self._lock:
            return [
                (envelope.historical, reading)
                for envelope in self.envelopes
                if envelope.device == device
                for reading in envelope.readings
            ]

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


class StatusSubscriber(_Subscriber):
    """Collects the birth and death certificates on gateways' status topics."""

    def __init__(self, broker: Mosquitto, topic_filter: str = "pelangi/+/+/status") -> None:
        """Prepare a subscriber to ``topic_filter`` on ``broker`` (connects on ``with``)."""
        super().__init__(broker, topic_filter)
        self.received: list[tuple[GatewayStatus, bool]] = []

    def _handle(self, msg: paho.MQTTMessage) -> None:
        if not msg.payload:  # a cleared retained message
            return
        status = decode_liveness(bytes(msg.payload), GatewayStatus)
        with self._lock:
            self.received.append((status, bool(msg.retain)))

    def statuses(self) -> list[GatewayStatus]:
        """Every certificate received so far, in arrival order."""
        with self._lock:
            return [status for status, _ in self.received]

    def wait_for(
        self, predicate: Callable[[GatewayStatus], bool], what: str, timeout: float = TIMEOUT
    ) -> GatewayStatus:
        """Wait for a certificate matching ``predicate`` (received at any time); return it."""

        def found() -> GatewayStatus | None:
            return next((s for s in self.statuses() if predicate(s)), None)

        return wait_until(found, timeout=timeout, what=what)


def announce_collector(broker: Mosquitto, collector: str, *, online: bool) -> None:
    """Publish a collector's presence as the collector would: retained, QoS 1."""
    state = CollectorState(collector=collector, online=online, ts=time.time_ns())
    broker.publish(collector_state_topic(collector), state.model_dump_json(), retain=True)


class AgentProcess:
    """``pelangi-agent run`` as a child process, with a configuration written for it."""

    def __init__(self, workdir: Path, config: dict[str, Any]) -> None:
        """Write ``config`` to ``workdir/agent.yaml``; nothing runs until :meth:`start`."""
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.config_path = workdir / "agent.yaml"
        self.config_path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        self.settings = AgentSettings.model_validate(config)
        self.process = ChildProcess(
            [venv_program("pelangi-agent"), "run", "--config", self.config_path],
            log_path=workdir / "agent.log",
            name="pelangi-agent",
        )

    def start(self, broker: Mosquitto | None = None, timeout: float = 30.0) -> None:
        """Start the agent; with ``broker``, return once it has connected there."""
        process = self.process.start()
        if broker is None:
            return
        connections = broker.log_text().count(f" as {self.settings.client_id} (")

        def connected() -> bool:
            if not process.running:
                raise SandboxError(
                    f"the agent {process.describe_exit()}; its log ends with:\n{process.log_tail()}"
                )
            return broker.log_text().count(f" as {self.settings.client_id} (") > connections

        wait_until(connected, timeout=timeout, what="the agent has connected to the broker")

    def kill(self) -> int | None:
        """SIGKILL the agent (a crash or power cut of the process)."""
        return self.process.kill()

    def stop(self) -> int | None:
        """SIGTERM the agent and wait for it (SIGKILL after 10 s)."""
        return self.process.stop()

    def log_text(self) -> str:
        """What the current run has logged so far."""
        return self.process.log_text()


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
