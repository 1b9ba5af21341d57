"""The figures of ``stats()``, gathered from the writer's books and the ledger. Pure.

:meth:`edge_agent.outbox.store.Outbox.stats` calls :func:`gather` with the shared lock
held, so the books (what the file holds, kept by the writer thread) and the ledger (what
is out, kept by the sending side) are read at one moment.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from edge_agent.outbox._sqlite import QUARANTINED, counter_name
from edge_agent.outbox._values import OutboxStats
from edge_agent.outbox.policy import ReadingClass

if TYPE_CHECKING:
    from pathlib import Path

    from edge_agent.outbox._books import Books
    from edge_agent.outbox.ledger import Ledger
    from edge_agent.outbox.settings import OutboxSettings


def gather(  # noqa: PLR0913 - the parts of one snapshot, named
    path: Path,
    settings: OutboxSettings,
    books: Books,
    ledger: Ledger,
    *,
    available: bool,
    error: str | None,
    oldest_age_s: float | None,
    now: float,
) -> OutboxStats:
    """One :class:`OutboxStats` (``now``: the monotonic clock, for waits)."""
    persistent = books.persistent
    return OutboxStats(
        path=str(path),
        available=available,
        error=error,
        telemetry=books.counts[ReadingClass.TELEMETRY],
        events=books.counts[ReadingClass.EVENT],
        used_bytes=books.used_bytes,
        max_bytes=settings.max_bytes,
        oldest_age_s=oldest_age_s,
        in_flight_messages=ledger.in_flight_messages,
        in_flight_readings=ledger.in_flight_readings,
        awaiting_messages=ledger.awaiting_messages,
        awaiting_readings=ledger.awaiting_readings,
        oldest_awaiting_s=ledger.oldest_wait_s(now),
        confirm_timeout_s=ledger.confirm_timeout_s,
        appended=books.appended,
        refused=books.refused,
        acknowledged=ledger.acknowledged,
        confirmed=ledger.confirmed + books.confirmed,
        resent=ledger.resent,
        refused_by_broker=ledger.refused_by_broker,
        evicted_telemetry_size=persistent[counter_name(ReadingClass.TELEMETRY, "size")],
        evicted_telemetry_age=persistent[counter_name(ReadingClass.TELEMETRY, "age")],
        evicted_event_size=persistent[counter_name(ReadingClass.EVENT, "size")],
        evicted_event_age=persistent[counter_name(ReadingClass.EVENT, "age")],
        rejected=sum(persistent[counter_name(c, "rejected")] for c in ReadingClass),
        quarantined=persistent[QUARANTINED],
    )
