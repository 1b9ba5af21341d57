"""Store and forward, the storing half: each envelope's readings into the durable outbox.

:meth:`edge_agent.uplink.publisher.MqttPublisher.submit` hands every envelope here, and
the publisher's sending loop takes the readings out again. They are committed to the
outbox (:mod:`edge_agent.outbox`) before :meth:`Storing.submit` returns. If the outbox
cannot store them (disk full, folder not writable), they are held in the bounded
in-memory fallback (:mod:`edge_agent.uplink.fallback`) instead, which the loop sends from
too, and moved into the outbox once it stores again: tried every :data:`FALLBACK_RETRY_S`
and at shutdown. A reading that could never be sent is counted and logged, not stored.
Nothing here raises for disk trouble.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Final

from edge_agent.outbox import OutboxEntry, OutboxError, UnsendableReadingError
from pelangi.payloads import is_event
from pelangi.throttle import ThrottledLog

if TYPE_CHECKING:
    from edge_agent.outbox import Outbox
    from edge_agent.uplink.fallback import Fallback
    from pelangi.payloads import Envelope

# Logged under the publisher's name, as it was when this was part of the publisher.
log = logging.getLogger("edge_agent.uplink.publisher")

FALLBACK_RETRY_S: Final = 5.0
"""How often to try moving readings from the in-memory fallback back into the outbox."""


class Storing:
    """Puts readings into the outbox, or into memory while the outbox cannot store."""

    def __init__(self, outbox: Outbox, fallback: Fallback) -> None:
        """Store into ``outbox``; hold in ``fallback`` what it cannot take."""
        self._outbox = outbox
        self._fallback = fallback
        self._lock = threading.Lock()
        self._unsendable = 0
        self._store_trouble = False
        self._refused_log = ThrottledLog(log, burst=1, interval_s=300.0)
        self._next_move = 0.0  # the sending loop's thread only

    @property
    def unsendable(self) -> int:
        """Readings refused as never sendable (not stored) since the agent started."""
        with self._lock:
            return self._unsendable

    def submit(self, envelope: Envelope, mono_ns: tuple[int | None, ...] | None) -> None:
        """Store ``envelope``'s readings (see :meth:`MqttPublisher.submit`)."""
        monos = mono_ns or (None,) * len(envelope.readings)
        entries = [
            OutboxEntry(
                envelope.device, r.model_dump_json().encode(), is_event(r), r.ts, r.seq, mono
            )
            for r, mono in zip(envelope.readings, monos, strict=True)
        ]
        try:
            self._outbox.append_many(entries)
        except OutboxError as exc:
            dropped = self._fallback.put(envelope.device, entries, time.monotonic())
            self._cannot_store(exc, len(entries), dropped)
        except UnsendableReadingError as exc:  # storing it again cannot help
            with self._lock:
                self._unsendable += len(entries)
            log.error(  # noqa: TRY400 - the cause is in the line; no traceback
                "cannot send %d reading(s) of %s: %s", len(entries), envelope.device, exc
            )
        else:
            with self._lock:
                if self._store_trouble:
                    self._store_trouble = False
                    self._refused_log.reset()

    def retry(self, now: float) -> None:
        """Move readings held in memory into the outbox, if it is time to try (sending loop)."""
        if now >= self._next_move and len(self._fallback):
            self._next_move = now + FALLBACK_RETRY_S
            self.move_into_outbox()

    def move_into_outbox(self) -> None:
        """Store readings held in memory durably, now that the outbox may work again."""
        moved = self._fallback.move_into(self._outbox)
        if moved:
            log.info("moved %d reading(s) held in memory into the outbox", moved)

    def close(self) -> None:
        """At shutdown, before the outbox closes: a last move; what stays in memory is lost."""
        self.move_into_outbox()
        held = self._fallback.stats().held
        if held:
            log.warning(
                "stopping with %d reading(s) held in memory only (the outbox cannot store "
                "them): they are lost",
                held,
            )

    def _cannot_store(self, exc: OutboxError, readings: int, dropped: int) -> None:
        with self._lock:
            self._store_trouble = True
        self._refused_log.log(
            logging.ERROR,
            "%s; keeping %d reading(s) in memory meanwhile (sent, but lost if the agent "
            "stops before the outbox stores again; %d held now)",
            exc,
            readings,
            self._fallback.stats().held,
        )
        if dropped:
            log.error(
                "dropped %d older reading(s) held in memory: more than %d are waiting",
                dropped,
                self._fallback.max_readings,
            )
