"""A paho-mqtt client with the three per-message costs of its MQTT v5 path removed.

Measured on the 2-core bench machine (paho-mqtt 2.2, loopback Mosquitto, QoS 1 backlog),
paho spends about 30 µs per received message, of which three parts scale with the
message count rather than the bytes and are not needed by a consumer that acks in bulk:

1. **MQTT v5 properties.** paho builds a :class:`~paho.mqtt.properties.Properties` object
   for every PUBLISH even when its property block is empty (one ``0x00`` byte), ~10 µs.
   :meth:`TunedClient._handle_publish` decodes PUBLISH packets itself when their
   property block is empty and hands ``(topic, payload, mid, qos)`` straight to
   :attr:`TunedClient.on_fast_message`, with no ``MQTTMessage`` (whose ``MQTTMessageInfo``
   allocates a ``threading.Condition``) and no topic matcher. Any PUBLISH that carries
   properties goes through paho's own code, unchanged.
2. **One ``recv`` and one ``select`` per packet.** paho reads a packet with 3-4 ``recv``
   calls (header byte, length bytes, body) and goes back to ``select()`` after each packet
   (it reads as many packets per wake-up as it has QoS 2 exchanges open: one, for a QoS 1
   consumer). :meth:`TunedClient._sock_recv` reads up to 256 KiB at once and serves
   paho's small reads from that buffer; :meth:`TunedClient.loop_read` keeps handling
   packets while buffered bytes remain (so nothing waits in the buffer for a ``select``
   that would never fire).
3. **One PUBACK, one wake-up, one ``send`` per message.** :meth:`TunedClient.ack_many`
   queues the PUBACKs of a whole stored batch as one write.

A malformed or truncated PUBLISH is treated as paho treats a ``MalformedPacket``: a
protocol error that closes the connection (the session stays), on the fast path and on
paho's own (where a truncated packet would otherwise raise ``IndexError`` or
``struct.error`` out of the network loop). ``tests/test_collector_mqtt_client.py`` fuzzes
both from a raw socket against paho's own outcome.

One repair besides: **a DISCONNECT that arrives.** paho closes the socket as soon as it
has written DISCONNECT. If bytes from the broker are still unread then (a broker
streaming messages to us), the kernel answers with a reset, and the broker may drop our
DISCONNECT unread with it, take the connection for lost and publish our Will (seen:
presence went "offline" at a deliberate reconnect). :meth:`TunedClient._sock_close`
half-closes first and reads until the broker has closed (at most :data:`LINGER_S`).

Everything else (connect, reconnect, keepalive, subscribe, TLS, Will) is paho's. The
overrides use paho internals (``_in_packet``, ``_packet_queue``, ``_sock_recv``,
``_sock_close``, ``_state``), so ``pyproject.toml`` pins paho-mqtt to 2.2.x and
``tests/test_collector_mqtt_client.py`` checks those internals are still there and that
the fast decode agrees with paho's on real packets from a real broker.
"""

from __future__ import annotations

import select
import socket
import struct
import time
from typing import TYPE_CHECKING, Final

import paho.mqtt.client as paho
from paho.mqtt.enums import _ConnectionState
from paho.mqtt.exception import MalformedPacket, MQTTException

from pelangi.mqtt import make_client

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from paho.mqtt.enums import MQTTErrorCode

    from pelangi.mqtt import MqttSettings


_PUBACK: Final = 0x40
_PUBACK_HEADER: Final = struct.Struct("!BBH")
_READ_CHUNK: Final = 256 * 1024
"""Bytes asked of the socket per ``recv``: a few hundred small messages, or one big one."""
LINGER_S: Final = 1.0
"""Longest wait for the broker to close after our DISCONNECT."""


class TunedClient(paho.Client):
    """:class:`paho.mqtt.client.Client` with bulk acks, buffered reads and a fast PUBLISH path.

    Set :attr:`on_fast_message` to receive QoS 0/1 PUBLISH packets without properties as
    ``(topic_bytes, payload, mid, qos)``; others still go to ``on_message``. Meant for
    ``manual_ack=True`` consumers: the fast path never acks by itself.
    """

    on_fast_message: Callable[[bytes, bytes, int, int], None] | None = None

    def __init__(self, *args: object, **kwargs: object) -> None:
        """Create the client exactly as :class:`paho.mqtt.client.Client` would."""
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._rbuf = b""
        self._rpos = 0

    # -- acks ------------------------------------------------------------------------------

    def ack_many(self, mids: Iterable[int]) -> None:
        """Queue PUBACKs for QoS 1 messages ``mids`` as one write (any thread).

        MQTT allows acks in any order; the broker tracks each message by its id. The
        packets are concatenated: to the broker they are simply consecutive PUBACKs.
        """
        packet = b"".join(_PUBACK_HEADER.pack(_PUBACK, 2, mid) for mid in mids)
        if packet:
            self._packet_queue(_PUBACK, packet, 0, 0)

    # -- reads ---------------------------------------------------------------------------------

    def _sock_recv(self, bufsize: int) -> bytes:
        if self._rpos >= len(self._rbuf):
            data = super()._sock_recv(_READ_CHUNK)
            if len(data) <= bufsize:
                return data  # also b"" (connection closed): paho handles it
            self._rbuf, self._rpos = data, 0
        end = self._rpos + bufsize
        chunk = self._rbuf[self._rpos : end]
        self._rpos = min(end, len(self._rbuf))
        if self._rpos >= len(self._rbuf):
            self._rbuf, self._rpos = b"", 0
        return chunk

    def loop_read(self, max_packets: int = 1) -> MQTTErrorCode:
        """Read packets, and go on while any bytes wait in our read buffer."""
        rc = super().loop_read(max_packets)
        while rc == paho.MQTT_ERR_SUCCESS and self._rbuf and self._sock is not None:
            rc = super().loop_read(1)
        return rc

    def _sock_close(self) -> None:
        # Bytes of a dead connection must not be read as the start of the next one.
        self._rbuf, self._rpos = b"", 0
        sock = self._sock
        if sock is not None and self._state == _ConnectionState.MQTT_CS_DISCONNECTING:
            _linger(sock)  # type: ignore[arg-type] # a socket (or TLS socket) once connected
        super()._sock_close()

    # -- PUBLISH -------------------------------------------------------------------------------

    def _handle_publish(self) -> MQTTErrorCode:
        handler = self.on_fast_message
        header: int = self._in_packet["command"]
        packet: bytes | bytearray = self._in_packet["packet"]
        qos = (header & 0x06) >> 1
        if handler is None or qos > 1 or self._protocol != paho.MQTTv5:
            return self._paho_publish()
        parts = _split_publish(packet, qos)
        if parts is None:
            return self._paho_publish()  # properties or a topic alias: paho's way
        topic, payload, mid = parts
        with self._in_callback_mutex:
            handler(topic, payload, mid, qos)
        return paho.MQTT_ERR_SUCCESS

    def _paho_publish(self) -> MQTTErrorCode:
        """Paho's own PUBLISH handling, with every decoding error counted as malformed.

        paho turns a ``MalformedPacket`` into a protocol error (the connection is closed,
        the session stays), but lets ``struct.error`` or ``IndexError`` from a truncated
        packet escape its network loop. The callbacks behind it never raise
        (:mod:`collector.subscriber` catches everything), so these can only come from
        decoding.
        """
        try:
            return super()._handle_publish()
        except (struct.error, IndexError, ValueError, MQTTException) as exc:
            if isinstance(exc, MalformedPacket):
                raise
            raise MalformedPacket(f"undecodable PUBLISH: {exc!r}") from None


def _split_publish(packet: bytes | bytearray, qos: int) -> tuple[bytes, bytes, int] | None:
    """``(topic, payload, mid)`` of an MQTT v5 PUBLISH without properties (pure).

    None when it carries properties or a topic alias (paho decodes those).

    Raises:
        MalformedPacket: the packet ends before its topic, packet id or property length:
            what paho does with a malformed packet (a protocol error, the connection
            closed), rather than an ``IndexError`` that would end the network loop.
    """
    if len(packet) < 2:
        raise MalformedPacket(f"PUBLISH of {len(packet)} bytes has no topic length")
    topic_end = 2 + ((packet[0] << 8) | packet[1])
    pos = topic_end + (2 if qos else 0)
    if pos >= len(packet):  # MQTT v5: a property length follows, at least one byte
        raise MalformedPacket(
            f"PUBLISH of {len(packet)} bytes ends before its topic ({topic_end - 2} bytes), "
            "packet id and property length"
        )
    if packet[pos] != 0:
        return None
    topic = bytes(packet[2:topic_end])
    if not topic:
        return None
    mid = (packet[topic_end] << 8) | packet[topic_end + 1] if qos else 0
    return topic, bytes(packet[pos + 1 :]), mid


def _linger(sock: socket.socket, timeout: float = LINGER_S) -> None:
    """Half-close ``sock`` and drop what arrives until the peer closes (or ``timeout``)."""
    try:
        sock.shutdown(socket.SHUT_WR)
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            readable, _, _ = select.select([sock], [], [], left)
            if readable and not sock.recv(_READ_CHUNK):
                return  # the broker has closed: it read our DISCONNECT
    except (OSError, ValueError):
        return  # already gone (or TLS wants more): nothing more to do


def tuned_client(settings: MqttSettings, client_id: str) -> TunedClient:
    """Build (not connect) a :class:`TunedClient` for MQTT v5 with manual acks.

    Configured by :func:`pelangi.mqtt.make_client` (login, TLS, reconnect pacing).
    """
    return make_client(settings, client_id, manual_ack=True, client_class=TunedClient)


__all__ = ["TunedClient", "tuned_client"]
