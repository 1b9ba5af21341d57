"""Store and forward: readings go into the durable outbox, a sending loop takes them out.

:meth:`MqttPublisher.submit` (the agent's :class:`edge_agent.sink.ReadingSink`) returns
once an envelope's readings are committed to the outbox on the gateway's disk; from then
on a crash, a power cut or a broker outage cannot lose them. One sending thread moves
them to the broker::

    wait until ready (connected, and a collector online: edge_agent.uplink.presence)
    -> outbox.take(): live readings first, then the backlog marked historical, in
       per-device batches (one MQTT message each), within the outbox's in-flight window
    -> publish each at QoS 1 with the batch id as token
    PUBACK -> in receipt mode outbox.published (the readings stay until a collector's
       receipt names them: outbox.confirm; unconfirmed ones go out again after the
       confirm timeout), before it outbox.ack (the readings leave the disk)
    refusal -> outbox.refused (the readings stay; the device is held back, 1 s doubling
       up to 60 s; a named problem in the health reading until the topic is accepted)
    connection lost -> outbox.release_all (sent again on the next connection)

The outbox's window (``outbox.max_in_flight_messages``, default 64) is far below paho's
65,535 message ids and bounds paho too (:class:`edge_agent.uplink.connection.MqttConnection`
sets paho's own window above it), so paho never queues readings in memory. The broker's
window (its CONNACK's Receive Maximum: 20 on a default Mosquitto) is respected here:
batches beyond it wait in the loop, live ones first, until PUBACKs free room.

If the outbox cannot store (disk full, folder not writable), readings go to a bounded
in-memory fallback (:mod:`edge_agent.uplink.fallback`) instead, are sent from there, and move
back into the outbox once it stores again (:mod:`edge_agent.uplink.storing`); the health
reading says so. Nothing here raises for disk or network trouble.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Final, Self, TypeAlias

from edge_agent.outbox import Outbox
from edge_agent.uplink.assembly import connection_for
from edge_agent.uplink.fallback import FALLBACK_IN_FLIGHT, Fallback
from edge_agent.uplink.report import UplinkSnapshot, delivery_health, summary_line
from edge_agent.uplink.storing import Storing
from pelangi.topics import ReadingTopic

if TYPE_CHECKING:
    from collections.abc import Callable

    from edge_agent.config import AgentSettings
    from edge_agent.outbox import OutboxBatch
    from edge_agent.sink import DeliveryHealth
    from edge_agent.timebase import ClockStatus
    from edge_agent.uplink.connection import MqttConnection
    from edge_agent.uplink.gate import TimeSignal
    from pelangi.payloads import Envelope
    from pelangi.receipts import StoredReceipt

Rewrite: TypeAlias = "Callable[[bytes, int], bytes]"
"""``rewrite(reading_json, mono_ns)``: a reading stamped before the clock was known, fixed."""

log = logging.getLogger(__name__)

IDLE_WAIT_S: Final = 0.25
"""Longest sleep of the sending loop with nothing to send (also how soon it sees readings
that went to the in-memory fallback, which does not wake it)."""
CLOSE_DRAIN_S: Final = 2.0
"""At shutdown, how long to wait for PUBACKs of messages in flight (saves duplicates)."""


class MqttPublisher:
    """The agent's sink: durable outbox in, MQTT out (see the module docstring)."""

    def __init__(
        self,
        settings: AgentSettings,
        *,
        outbox: Outbox,
        connection: MqttConnection,
        fallback: Fallback,
        rewrite: Rewrite | None = None,
    ) -> None:
        """Send from ``outbox`` (or ``fallback``) over ``connection``; nothing until :meth:`start`.

        :meth:`build` makes the parts from ``settings``; tests may hand in their own.
        ``rewrite`` is applied to stored readings that carry a ``mono_ns`` as they are sent
        (:meth:`edge_agent.outbox.OutboxBatch.payload`).
        """
        self.settings = settings
        self.outbox = outbox
        self.fallback = fallback
        self.connection = connection
        self.gate = connection.gate
        self._rewrite = rewrite
        self._storing = Storing(outbox, fallback)
        self._topics: dict[str, str] = {}
        self._lock = threading.Lock()
        self._generation = 0  # bumped when a connection is lost
        self._in_flight = 0  # messages published on this connection, not yet answered
        # Taken from the outbox but not yet published: the broker's Receive Maximum may be
        # smaller than the outbox's window (Mosquitto: 20). Live batches go first.
        self._pending_live: deque[OutboxBatch] = deque()
        self._pending_hist: deque[OutboxBatch] = deque()
        self._pending_generation = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="publisher", daemon=True)
        self._started = False
        self._closed = False
        self._ready_seen = 0
        self._refusals: dict[str, str] = {}  # topic -> the broker's latest reason

    @classmethod
    def build(  # noqa: PLR0913 - each clock hook is named at the one call (agent.py)
        cls,
        settings: AgentSettings,
        *,
        time_signal: TimeSignal | None = None,
        rewrite: Rewrite | None = None,
        wall_ns: Callable[[], int] = time.time_ns,
        clock_status: Callable[[], ClockStatus] | None = None,
        clock_known: Callable[[], bool] | None = None,
    ) -> Self:
        """The one place the uplink is assembled: outbox, fallback, gate, connection.

        ``time_signal`` hears the collectors' clocks (see :class:`SendGate`); ``rewrite``
        see :meth:`__init__`; ``wall_ns`` is the clock the outbox judges readings' ages
        by (the corrected clock, when the gateway's own is wrong); ``clock_status`` feeds
        the birth's clock fields and ``clock_known`` the gate (see
        :mod:`edge_agent.timebase`). Opening the outbox never raises for disk trouble
        (see :meth:`Outbox.open`).
        """
        return cls(
            settings,
            outbox=Outbox.open(settings.outbox_path, settings.outbox, wall_ns=wall_ns),
            connection=connection_for(
                settings,
                time_signal=time_signal,
                clock_status=clock_status,
                clock_known=clock_known,
            ),
            fallback=Fallback(settings.fallback_max_readings, settings.outbox.confirm_timeout_s),
            rewrite=rewrite,
        )

    # ReadingSink.

    def start(self) -> None:
        """Connect and start the sending loop; returns at once."""
        self._started = True
        self.connection.start(self)
        self._thread.start()

    def submit(self, envelope: Envelope, mono_ns: tuple[int | None, ...] | None = None) -> None:
        """Store ``envelope``'s readings durably (or, if the outbox cannot, in memory).

        ``mono_ns``: per reading, the monotonic time of a provisional one (kept with it).
        Returns once they are committed; never raises for disk or network trouble.
        """
        self._storing.submit(envelope, mono_ns)

    def close(self, timeout: float) -> None:
        """Stop sending, leave the broker (death certificate), close the outbox.

        Readings not yet acknowledged stay in the outbox and are sent after the next start;
        only readings held in memory (the outbox could not store them) can be lost here.
        """
        if self._started:
            self._stop.set()
            self._thread.join(timeout)
            if self.connection.connected:
                # PUBACKs arrive on paho's thread; a lost connection releases the rest.
                self.outbox.wait_until_idle(min(timeout, CLOSE_DRAIN_S))
            self.connection.close(timeout)
        self._storing.close()
        log.info("closing the outbox: %s", self.outbox.summary())
        self.outbox.close()
        self._closed = True

    def summary(self) -> str:
        """One line for the periodic statistics log."""
        if self._closed:
            return f"mqtt {self.settings.mqtt.address} closed; outbox {self.outbox.path} closed"
        return summary_line(self._snapshot())

    def health(self) -> DeliveryHealth:
        """Outbox, fallback and connection figures, and what is wrong, for the health reading."""
        return delivery_health(self._snapshot())

    def _snapshot(self) -> UplinkSnapshot:
        with self._lock:
            refusals = tuple(sorted(self._refusals.items()))
        connection = self.connection.stats()
        return UplinkSnapshot(
            address=self.settings.mqtt.address,
            username=self.settings.mqtt.username,
            outbox=self.outbox.stats(),
            fallback=self.fallback.stats(),
            connection=connection,
            holding=connection.connected and not self.gate.ready,
            waiting_for=self.connection.waiting_for(),
            refusals=refusals,
            unsendable=self._storing.unsendable,
            bdseq_problem=self.connection.bdseq_problem,
        )

    # Delivery (called by the connection, from paho's thread).

    def delivered(self, token: int, refusal: str | None, topic: str) -> None:
        """The broker answered the batch ``token`` on ``topic``.

        Accepted: in receipt mode its readings await a receipt, before it they leave the
        outbox. Refused: they stay; the device is held back for a while and the refusal
        is a problem in the health reading until that topic is accepted again.
        """
        receipts = self.gate.receipt_mode
        with self._lock:
            self._in_flight = max(0, self._in_flight - 1)
            if refusal is None:
                self._refusals.pop(topic, None)
            else:
                self._refusals[topic] = refusal
        if token > 0:
            if refusal is not None:
                self.outbox.refused(token)
            elif receipts:
                self.outbox.published(token)
            else:
                self.outbox.ack([token])
        elif refusal is not None:
            self.fallback.release([token])
        elif receipts:
            self.fallback.published(token, time.monotonic())
        else:
            self.fallback.ack(token)

    def stored(self, receipt: StoredReceipt) -> None:
        """A collector stored these readings: they leave the outbox (or the fallback)."""
        self.outbox.confirm(receipt.seqs)
        if len(self.fallback) or self.fallback.stats().held:
            self.fallback.confirm(receipt.seqs)

    def connection_lost(self) -> None:
        """Everything in flight goes back to waiting; the next connection sends it again."""
        with self._lock:
            self._generation += 1
            self._in_flight = 0
        self.outbox.release_all()  # the sending loop's pending batches too
        self.fallback.release_all()

    # The sending loop.

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._round()
            except Exception:  # a bug must not stop delivery for good
                log.exception("the sending loop failed unexpectedly; going on")
                self._stop.wait(1.0)

    def _round(self) -> None:
        self._storing.retry(time.monotonic())
        if not self.gate.wait_ready(IDLE_WAIT_S):
            return
        ready_count = self.gate.ready_count
        if ready_count != self._ready_seen:  # connected, or a collector came back
            self._ready_seen = ready_count
            stored = self.outbox.stats()
            if stored.readings:
                log.info("sending %d stored reading(s)", stored.readings)
        with self._lock:
            generation = self._generation
            # One slot of the broker's window stays free for a birth or heartbeat.
            room = max(1, self.gate.receive_maximum - 1) - self._in_flight
        if generation != self._pending_generation:  # lost meanwhile: all were released
            self._pending_live.clear()
            self._pending_hist.clear()
            self._pending_generation = generation
        for batch in (
            self.fallback.take(
                FALLBACK_IN_FLIGHT, time.monotonic(), self.settings.outbox.live_window_s
            )
            + self.outbox.take()
        ):
            (self._pending_hist if batch.historical else self._pending_live).append(batch)
        sent = 0
        while room > sent and (self._pending_live or self._pending_hist):
            pending = self._pending_live or self._pending_hist  # live first, order kept
            self._send(pending.popleft(), generation)
            sent += 1
        if not sent:
            self.outbox.wait_for_work(IDLE_WAIT_S)  # an append, or an ack freeing room

    def _send(self, batch: OutboxBatch, generation: int) -> None:
        with self._lock:
            stale = generation != self._generation
            if not stale:  # counted before publishing: the PUBACK may come first
                self._in_flight += 1
        sent = not stale and self.connection.publish(
            self._topic(batch.device),
            batch.payload(self.settings.site, self.settings.gateway, self._rewrite),
            batch.id,
        )
        with self._lock:
            if not sent and not stale and generation == self._generation:
                self._in_flight = max(0, self._in_flight - 1)
            stale = generation != self._generation
        if not sent or stale:
            self._release(batch.id)

    def _release(self, batch_id: int) -> None:
        if batch_id > 0:
            self.outbox.release([batch_id])
        else:
            self.fallback.release([batch_id])

    def _topic(self, device: str) -> str:
        topic = self._topics.get(device)
        if topic is None:
            topic = self._topics[device] = str(
                ReadingTopic(self.settings.site, self.settings.gateway, device)
            )
        return topic
