"""The engine lease on both backends: one holder at a time, a standby only after expiry.

The race test runs three would-be engines on separate connection pools (as separate
processes would be), each stalling now and then past its lease, and checks that no two
of them ever held it at the same instant.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from collector.alerts.store import AlertStore
from collector.state import StateSettings, open_state
from sandbox.waiting import wait_until

if TYPE_CHECKING:
    from collector.state import StateDatabase

T0 = datetime(2026, 12, 3, 1, 0, tzinfo=UTC)
TTL = timedelta(seconds=10)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_a_standby_takes_over_only_once_the_lease_has_expired(state_db: StateDatabase) -> None:
    store = AlertStore(state_db)
    assert store.lease() is None
    assert store.acquire_lease("engine-a", at(0), TTL)
    assert not store.acquire_lease("engine-b", at(5), TTL)
    assert store.renew_lease("engine-a", at(5), TTL)  # now until 15
    assert not store.acquire_lease("engine-b", at(14.999), TTL)
    assert store.acquire_lease("engine-b", at(15), TTL)
    lease = store.lease()
    assert lease is not None
    assert (lease.holder, lease.acquired_at, lease.expires_at, lease.generation) == (
        "engine-b",
        at(15),
        at(25),
        2,
    )
    assert lease.held_by("engine-b", at(24))
    assert not lease.held_by("engine-b", at(25))
    assert not store.renew_lease("engine-a", at(16), TTL)  # a must stop
    assert not store.acquire_lease("engine-a", at(16), TTL)


def test_taking_it_again_while_holding_it_is_a_renewal(state_db: StateDatabase) -> None:
    store = AlertStore(state_db)
    assert store.acquire_lease("engine-a", at(0), TTL)
    assert store.acquire_lease("engine-a", at(5), TTL)
    lease = store.lease()
    assert lease is not None
    assert (lease.acquired_at, lease.expires_at, lease.generation) == (at(0), at(15), 1)


def test_an_expired_lease_nobody_took_is_still_the_holders(state_db: StateDatabase) -> None:
    store = AlertStore(state_db)
    assert store.acquire_lease("engine-a", at(0), TTL)
    assert store.renew_lease("engine-a", at(60), TTL)  # no other engine acted meanwhile
    assert not store.acquire_lease("engine-b", at(65), TTL)


def test_a_released_lease_is_taken_at_once(state_db: StateDatabase) -> None:
    store = AlertStore(state_db)
    assert not store.release_lease("engine-a", at(0))  # never held
    assert store.acquire_lease("engine-a", at(0), TTL)
    assert store.release_lease("engine-a", at(1))
    assert not store.release_lease("engine-a", at(1))
    lease = store.lease()
    assert lease is not None
    assert lease.holder is None
    assert not store.renew_lease("engine-a", at(1), TTL)
    assert store.acquire_lease("engine-b", at(1), TTL)


# -- a race of real connections ----------------------------------------------------------

RACE_TTL = timedelta(milliseconds=60)
TAKEOVERS = 12


@dataclass(frozen=True)
class Held:
    holder: str
    start: datetime
    end: datetime


def contend(store: AlertStore, holder: str, held: list[Held], stop: threading.Event) -> None:
    """Take the lease whenever possible, renew it a few times, then stall past it."""
    chance = random.Random(holder)  # noqa: S311 - a test's dice
    holding = False
    renewals = 0
    while not stop.is_set():
        now = datetime.now(UTC)
        if holding and renewals > 0:
            holding = store.renew_lease(holder, now, RACE_TTL)
            renewals -= 1
        elif holding:
            holding = False
            stop.wait(RACE_TTL.total_seconds() * chance.uniform(1.1, 2))  # a stall
            continue
        else:
            holding = store.acquire_lease(holder, now, RACE_TTL)
            renewals = chance.randint(0, 4)
        if holding:
            held.append(Held(holder, now, now + RACE_TTL))


def test_racing_engines_never_hold_the_lease_at_once(state_settings: StateSettings) -> None:
    open_state(state_settings).close()  # the schema, once
    databases = [open_state(state_settings) for _ in range(3)]
    held: list[Held] = []
    stop = threading.Event()
    threads = [
        threading.Thread(target=contend, args=(AlertStore(db), f"engine-{i}", held, stop))
        for i, db in enumerate(databases)
    ]
    try:
        for thread in threads:
            thread.start()
        observer = AlertStore(databases[0])

        def changed_hands_enough() -> bool:
            lease = observer.lease()
            return lease is not None and lease.generation >= TAKEOVERS

        wait_until(changed_hands_enough, timeout=30, what=f"the lease changed hands {TAKEOVERS}x")
    finally:
        stop.set()
        for thread in threads:
            thread.join(10)
        for db in databases:
            db.close()
    assert len({h.holder for h in held}) == 3
    overlaps = [
        (a, b)
        for a in held
        for b in held
        if a.holder < b.holder and a.start < b.end and b.start < a.end
    ]
    assert overlaps == []
