"""The broker probe both doctors use: TCP, TLS, the login, a round trip, retained messages.

Each probe is one short MQTT v5 connection made with the product's own client set-up
(:func:`pelangi.mqtt.make_client`: same login, same TLS), under a client id of its own
(``<id>-doctor``): a probe under the service's id would throw the running service off
the broker, which admits one connection per client id.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from pelangi.doctor.model import Check, Finding, failed, passed, skipped
from pelangi.mqtt import disconnect_and_stop, make_client

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    import paho.mqtt.client as paho
    from paho.mqtt.reasoncodes import ReasonCode

    from pelangi.mqtt import MqttSettings

_POLL_S: Final = 0.01
_REFUSED_LOGIN: Final = {
    0x86: "the broker refused the login: bad user name or password",
    # Mosquitto 2.0 answers this one for a wrong password too (seen with 2.0.11).
    0x87: "the broker refused the login: not authorized (a wrong user name or password, or "
    "a user the broker does not admit)",
    0x85: "the broker refused the client id",
}
"""CONNACK reason codes of MQTT v5 a technician can act on, in words."""


class ProbeError(Exception):
    """A probe could not get as far as it needed; the message says how far it got."""


def tcp_reachable(settings: MqttSettings, timeout_s: float) -> Finding:
    """Whether a TCP connection to the broker opens within ``timeout_s``."""
    started = time.monotonic()
    try:
        with socket.create_connection((settings.host, settings.port), timeout=timeout_s):
            pass
    except OSError as exc:
        return failed(
            f"cannot open a TCP connection to {settings.address}: {_reason(exc)}",
            f"check mqtt.host and mqtt.port, that the broker runs (systemctl status "
            f"mosquitto on {settings.host}) and that no firewall blocks port {settings.port}",
        )
    took_ms = (time.monotonic() - started) * 1000
    return passed(f"{settings.address} accepts TCP connections ({took_ms:.0f} ms)")


def tls_handshake(settings: MqttSettings, timeout_s: float) -> Finding:
    """Whether the broker's certificate is signed by the configured CA (and matches)."""
    tls = settings.tls
    if tls is None:
        return skipped("no mqtt.tls section: plain TCP (fine only on a trusted network)")
    context = ssl.create_default_context(cafile=str(tls.ca_file) if tls.ca_file else None)
    try:
        if tls.cert_file is not None:
            context.load_cert_chain(tls.cert_file, tls.key_file)
        with (
            socket.create_connection((settings.host, settings.port), timeout=timeout_s) as raw,
            context.wrap_socket(raw, server_hostname=settings.host) as wrapped,
        ):
            version = wrapped.version()
    except ssl.SSLCertVerificationError as exc:
        ca = tls.ca_file or "the system's CA bundle"
        return failed(
            f"the broker's certificate does not verify against {ca}: {exc.verify_message}",
            "set mqtt.tls.ca_file to the CA that signed the broker's certificate (ask "
            "whoever set up the broker), and check that mqtt.host is the name or address "
            "the certificate was made for",
        )
    except (ssl.SSLError, OSError) as exc:
        return failed(
            f"no TLS handshake with {settings.address}: {_reason(exc)}",
            "check that mqtt.port is the broker's TLS listener (often 8883) and that the "
            "files under mqtt.tls exist and are readable",
        )
    return passed(f"TLS handshake with {settings.address} ({version}), certificate verified")


def login(settings: MqttSettings, client_id: str, timeout_s: float) -> Finding:
    """Whether the broker accepts the configured user name and password."""
    who = f"user {settings.username!r}" if settings.username else "no user name (anonymous)"
    try:
        with session(settings, client_id, timeout_s):
            pass
    except ProbeError as exc:
        fix = (
            "mqtt.username and mqtt.password must match the broker's password file: ask the "
            "broker's administrator for this gateway's login (pelangi-collector gateway add "
            "prints it) and copy it into the configuration"
        )
        return failed(f"{exc} ({who})", fix)
    return passed(f"the broker accepts the login of {who}")


def round_trip(settings: MqttSettings, client_id: str, topic: str, timeout_s: float) -> Finding:
    """Subscribe to ``topic``, publish one QoS 1 message on it, and see it come back."""
    user = settings.username or "anonymous"
    acl_fix = (
        f"the broker's ACL must let user {user!r} read and write {topic.rsplit('/', 1)[0]}/#: "
        "ask the broker's administrator to run pelangi-collector gateway add for this "
        "gateway (it writes the ACL lines), then restart or reload the broker"
    )
    payload = f"pelangi doctor {time.time_ns()}".encode()
    try:
        with session(settings, client_id, timeout_s) as probe:
            granted = probe.subscribe(topic)
            if granted.is_failure:
                return failed(f"the broker refused the subscription to {topic}: {granted}", acl_fix)
            outcome = probe.publish(topic, payload)
            if outcome is not None:
                return failed(f"the broker refused the publish on {topic}: {outcome}", acl_fix)
            if not probe.wait_for(lambda m: m.topic == topic and m.payload == payload):
                return failed(f"the test message on {topic} did not come back", acl_fix)
    except ProbeError as exc:
        return failed(str(exc), acl_fix)
    return passed(f"published on {topic} at QoS 1 and received it back")


@dataclass(frozen=True, slots=True)
class Arrival:
    """A message and when it arrived (wall clock, ns): a clock check compares the two."""

    message: paho.MQTTMessage
    at_ns: int


def retained(
    settings: MqttSettings, client_id: str, topic_filter: str, marker: str, timeout_s: float
) -> list[Arrival]:
    """The messages the broker holds for ``topic_filter`` (and any fresh ones meanwhile).

    A broker sends the retained messages of a subscription before anything published
    after it on the same connection, so once a message of our own on ``marker`` (a topic
    this login may read and write) comes back, all of them have arrived: no guessing
    how long to wait. Raises :class:`ProbeError`.
    """
    with session(settings, client_id, timeout_s) as probe:
        if probe.subscribe(topic_filter).is_failure:
            raise ProbeError(f"the broker refused the subscription to {topic_filter}")
        token = f"marker {time.time_ns()}".encode()
        if probe.subscribe(marker).is_failure or probe.publish(marker, token) is not None:
            raise ProbeError(f"cannot round-trip a message on {marker}")
        end = probe.wait_for(lambda m: m.topic == marker and m.payload == token)
        if end is None:
            raise ProbeError(f"the message on {marker} did not come back")
        return [a for a in probe.messages[: probe.messages.index(end)] if a.message.topic != marker]


class Probe:
    """One connected MQTT client and what came back to it (see :func:`session`)."""

    def __init__(self, client: paho.Client, timeout_s: float) -> None:
        """Watch ``client``'s callbacks; every wait lasts at most ``timeout_s``."""
        self.client = client
        self.timeout_s = timeout_s
        self.connack: ReasonCode | None = None
        self.messages: list[Arrival] = []
        self.dropped = threading.Event()
        self._subacks: dict[int, ReasonCode] = {}
        self._pubacks: dict[int, ReasonCode] = {}
        client.on_connect = self._on_connect
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        client.on_publish = self._on_publish
        client.on_disconnect = self._on_disconnect

    # paho's callbacks (API version 2), on its network thread.
    def _on_connect(self, _c: object, _u: object, _f: object, rc: ReasonCode, _p: object) -> None:
        self.connack = rc

    def _on_message(self, _c: object, _u: object, message: paho.MQTTMessage) -> None:
        self.messages.append(Arrival(message, time.time_ns()))

    def _on_subscribe(
        self, _c: object, _u: object, mid: int, codes: list[ReasonCode], _p: object
    ) -> None:
        self._subacks[mid] = codes[0]

    def _on_publish(self, _c: object, _u: object, mid: int, rc: ReasonCode, _p: object) -> None:
        self._pubacks[mid] = rc

    def _on_disconnect(self, *_: object) -> None:
        self.dropped.set()

    def subscribe(self, topic_filter: str) -> ReasonCode:
        """Subscribe at QoS 1; the SUBACK's reason code (a failure: refused)."""
        result, mid = self.client.subscribe(topic_filter, qos=1)
        if mid is None:
            raise ProbeError(f"cannot send the subscription to {topic_filter} (error {result})")
        return self._wait(self._subacks, mid, f"no answer to the subscription to {topic_filter}")

    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> str | None:
        """Publish at QoS 1; None when acknowledged, else why not, in words.

        Mosquitto 2.0 with ``max_queued_messages 0`` may close the connection on a refused
        publish instead of answering with a failing PUBACK: both mean refused.
        """
        mid = self.client.publish(topic, payload, qos=1, retain=retain).mid
        try:
            code = self._wait(self._pubacks, mid, f"no PUBACK for the message on {topic}")
        except ProbeError as exc:
            if self.dropped.is_set():
                return "the broker closed the connection instead of acknowledging (refused)"
            return str(exc)
        return str(code) if code.is_failure else None

    def wait_for(self, match: Callable[[paho.MQTTMessage], bool]) -> Arrival | None:
        """The first message ``match`` accepts, waiting at most the timeout; None if none."""
        deadline = time.monotonic() + self.timeout_s
        while time.monotonic() < deadline:
            found = next((a for a in list(self.messages) if match(a.message)), None)
            if found is not None:
                return found
            if self.dropped.is_set():
                return None
            time.sleep(_POLL_S)
        return None

    def _wait(self, answers: dict[int, ReasonCode], mid: int, what: str) -> ReasonCode:
        deadline = time.monotonic() + self.timeout_s
        while mid not in answers:
            if self.dropped.is_set() or time.monotonic() > deadline:
                raise ProbeError(what)
            time.sleep(_POLL_S)
        return answers[mid]


@contextlib.contextmanager
def session(settings: MqttSettings, client_id: str, timeout_s: float) -> Iterator[Probe]:
    """A connected, logged-in :class:`Probe`; raises :class:`ProbeError` saying why not."""
    client = make_client(settings, client_id, reconnect_on_failure=False)
    client.connect_timeout = timeout_s
    probe = Probe(client, timeout_s)
    try:
        client.connect(settings.host, settings.port, keepalive=max(5, round(timeout_s * 2)))
    except (OSError, ValueError) as exc:
        raise ProbeError(f"cannot connect to {settings.address}: {_reason(exc)}") from None
    client.loop_start()
    try:
        deadline = time.monotonic() + timeout_s
        while probe.connack is None and time.monotonic() < deadline and not probe.dropped.is_set():
            time.sleep(_POLL_S)
        code = probe.connack
        if code is None:
            raise ProbeError(f"{settings.address} did not answer the MQTT CONNECT")
        if code.is_failure:
            words = _REFUSED_LOGIN.get(code.value, f"the broker refused the connection: {code}")
            raise ProbeError(words)
        yield probe
    finally:
        disconnect_and_stop(client, timeout=1.0)


def _reason(exc: BaseException) -> str:
    """An OS or TLS error in words, without Python's decoration."""
    if isinstance(exc, socket.timeout | TimeoutError):
        return "timed out"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (nothing listens on that port)"
    if isinstance(exc, ssl.SSLError):
        return exc.reason or str(exc)
    return exc.strerror or str(exc) if isinstance(exc, OSError) else str(exc)


REACHABLE: Final = "broker reachable"
TLS: Final = "broker TLS"
LOGIN: Final = "broker login"


def connection_checks(settings: MqttSettings, client_id: str, timeout_s: float) -> list[Check]:
    """The checks both doctors start with: TCP, then TLS (if configured), then the login."""
    # The runner's limit lies beyond the probe's own timeouts, which say more when they end.
    limit = timeout_s * 2 + 1
    return [
        Check(REACHABLE, lambda: tcp_reachable(settings, timeout_s), limit),
        Check(TLS, lambda: tls_handshake(settings, timeout_s), limit, (REACHABLE,)),
        Check(LOGIN, lambda: login(settings, client_id, timeout_s), limit, (REACHABLE, TLS)),
    ]
