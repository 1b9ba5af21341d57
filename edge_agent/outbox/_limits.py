"""The outbox's size and age limits, applied by the writer thread on its connection.

The decisions (what to evict, in which order) are :mod:`edge_agent.outbox.policy`'s; this
module measures, asks the policy, deletes and reports. Rows in use (handed out, or
answered and not yet deleted) are never evicted.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Final, Protocol

from edge_agent.outbox.policy import (
    EvictionReason,
    ReadingClass,
    Victims,
    age_cutoff_ns,
    choose_size_victims,
    expired,
    rows_to_evict,
)
from pelangi.throttle import ThrottledLog

if TYPE_CHECKING:
    from collections.abc import Callable

    from edge_agent.outbox._database import Database
    from edge_agent.outbox.settings import OutboxSettings

# The outbox's IO logs under one name, as it did when it was one module.
log = logging.getLogger("edge_agent.outbox.store")

AGE_SCAN_ROWS: Final = 1000
MAX_EVICTION_ROUNDS: Final = 50
"""Size eviction measures again after each round; this bounds a bad estimate."""


class Accounts(Protocol):
    """The writer's books, which the limits read and update (each call takes its lock)."""

    def measured(self, used_bytes: int) -> int:
        """Note the file's size; return how many rows it holds."""

    def in_use(self) -> frozenset[int]:
        """Rows that must not be evicted."""

    def evicted(self, deleted: dict[ReadingClass, int], reason: EvictionReason) -> None:
        """Rows were evicted (the persistent counters are already bumped in the file)."""


class Limits:
    """Applies ``max_bytes``, ``max_age_s`` and ``event_max_age_s`` (see the module docstring).

    Every method raises OutboxError or DamagedError, like the database.
    """

    def __init__(
        self,
        database: Database,
        settings: OutboxSettings,
        accounts: Accounts,
        *,
        clock: Callable[[], float],
    ) -> None:
        """Limits for ``database``; ``clock`` (monotonic) throttles the eviction log."""
        self._database = database
        self._settings = settings
        self._accounts = accounts
        self._log = ThrottledLog(log, burst=3, interval_s=300.0, clock=clock)

    def enforce_size(self) -> None:
        """Evict down to the low-water mark if the file is over ``max_bytes``."""
        database, max_bytes = self._database, self._settings.max_bytes
        for _ in range(MAX_EVICTION_ROUNDS):
            used = database.used_bytes()
            rows = self._accounts.measured(used)
            exclude = self._accounts.in_use()
            wanted = rows_to_evict(used_bytes=used, max_bytes=max_bytes, rows=rows)
            if wanted == 0:
                return
            limit = wanted + len(exclude)
            telemetry = database.oldest_ids(is_event=False, limit=limit)
            events = database.oldest_ids(is_event=True, limit=limit)
            victims = choose_size_victims(telemetry, events, wanted, exclude)
            if not victims:
                log.warning(
                    "outbox %s is over its limit (%d of %d bytes) but every reading in it "
                    "is in flight; evicting again after the broker answers",
                    database.path,
                    used,
                    max_bytes,
                )
                return
            self._evict(victims, EvictionReason.SIZE)

    def enforce_age(self, now_ns: int) -> None:
        """Evict readings older than their class's age limit at ``now_ns``."""
        limits = (
            (ReadingClass.TELEMETRY, self._settings.max_age_s),
            (ReadingClass.EVENT, self._settings.event_max_age_s),
        )
        for cls, max_age_s in limits:
            is_event = cls is ReadingClass.EVENT
            cutoff = age_cutoff_ns(now_ns, max_age_s)
            after = 0
            while True:
                rows = self._database.ages(is_event=is_event, after=after, limit=AGE_SCAN_ROWS)
                if not rows:
                    break
                victims = expired(rows, cutoff, self._accounts.in_use())
                if victims:
                    self._evict(
                        Victims(
                            telemetry=() if is_event else tuple(victims),
                            events=tuple(victims) if is_event else (),
                        ),
                        EvictionReason.AGE,
                    )
                # ts grows with id: a page without expired rows means the rest is younger.
                if not victims or len(rows) < AGE_SCAN_ROWS:
                    break
                after = rows[-1][0]

    def _evict(self, victims: Victims, reason: EvictionReason) -> None:
        deleted = self._database.evict(victims, reason)
        self._accounts.evicted(deleted, reason)
        telemetry, events = deleted[ReadingClass.TELEMETRY], deleted[ReadingClass.EVENT]
        why = (
            f"it is over its size limit of {self._settings.max_bytes} bytes"
            if reason is EvictionReason.SIZE
            else "they are older than the age limit"
        )
        self._log.log(
            logging.ERROR if events else logging.WARNING,
            "outbox %s evicted %d telemetry and %d event readings, oldest first, because %s",
            self._database.path,
            telemetry,
            events,
            why,
            key=str(reason),
        )
