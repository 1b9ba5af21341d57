"""One MQTT message in, what to store and what to confirm out. No network, no storage.

:meth:`Intake.take` turns a message's topic and payload into a
:class:`~collector.batching.Delivery`'s content: the lines to store (its readings, or
the dead letters of what was refused, see :mod:`collector.deadletter`) and the
:class:`~collector.confirmations.Confirm` of the readings it carried (None when nothing
can be confirmed). Steps: the contract (:mod:`collector.validation`), the time window
(:mod:`collector.plausibility`, against the collector's clock), line protocol
(:mod:`collector.encoding`). Every refusal is counted, logged (throttled) and
dead-lettered; none raises.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Final

from collector.confirmations import envelope_confirm, refused_message_confirm
from collector.encoding import LineEncoder
from collector.plausibility import TimeWindow
from collector.validation import validate
from pelangi.errors import PayloadError, RejectReason
from pelangi.throttle import ThrottledLog

if TYPE_CHECKING:
    from collections.abc import Callable

    from collector.config import ValiditySettings
    from collector.confirmations import Confirm
    from collector.deadletter import DeadLetters
    from collector.metrics import Metrics

log = logging.getLogger(__name__)

_MAX_LOGGED_TOPIC: Final = 200


class Intake:
    """Validates, checks and encodes messages; dead-letters what it refuses."""

    def __init__(
        self,
        validity: ValiditySettings,
        metrics: Metrics,
        dead_letters: DeadLetters,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        """Check readings against ``validity`` by ``wall_clock_ns``; count into ``metrics``.

        ``clock`` (monotonic seconds) paces the rejection log lines.
        """
        self._window = TimeWindow(validity)
        self._encoder = LineEncoder()
        self._metrics = metrics
        self._dead = dead_letters
        self._wall_clock_ns = wall_clock_ns
        self._reject_log = ThrottledLog(log, burst=5, interval_s=60.0, clock=clock)

    def take(self, topic_bytes: bytes, payload: bytes) -> tuple[list[str], Confirm | None]:
        """The lines to store for one message, and what to confirm once they are stored."""
        try:
            topic = topic_bytes.decode()
        except UnicodeDecodeError:
            # MQTT requires UTF-8 topics; a broker may still pass one on.
            shown = topic_bytes.decode(errors="replace")
            error = PayloadError(RejectReason.BAD_TOPIC, "the topic is not valid UTF-8")
            return [self._reject(shown, payload, error)], None
        try:
            envelope = validate(topic, payload)
        except PayloadError as exc:
            return [self._reject(topic, payload, exc)], refused_message_confirm(topic, payload)
        plausible, refused = self._window.split(envelope.readings, self._wall_clock_ns())
        lines, unstorable = self._encoder.encode(envelope, plausible)
        for refusal in (*refused, *unstorable):
            self._metrics.reading_refused(refusal.reason)
            lines.append(self._dead.reading(topic, refusal, historical=envelope.historical))
            self._log_reject(topic, refusal.reason, f"reading seq {refusal.seq}: {refusal.detail}")
        return lines, envelope_confirm(envelope)

    def log_suppressed(self) -> None:
        """Log a summary of rejections not logged one by one in the last minute."""
        self._reject_log.flush()

    def _reject(self, topic: str, payload: bytes, error: PayloadError) -> str:
        self._metrics.message_rejected(error.reason)
        self._log_reject(topic, error.reason, error.detail)
        return self._dead.message(topic, payload, error.reason, error.detail)

    def _log_reject(self, topic: str, reason: str, detail: str) -> None:
        shown = topic if len(topic) <= _MAX_LOGGED_TOPIC else topic[:_MAX_LOGGED_TOPIC] + "..."
        self._reject_log.log(
            logging.WARNING,
            "rejected message on %s because %s: %s",
            shown,
            reason,
            detail,
            key=reason,
        )


__all__ = ["Intake"]
