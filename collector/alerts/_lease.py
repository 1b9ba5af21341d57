"""The engine lease in SQL: one row, changed only by conditional statements.

Every change is a single ``UPDATE ... WHERE <condition>`` (or an ``INSERT ... ON CONFLICT
DO NOTHING`` for the very first holder), whose row count says whether it happened. That
is atomic on both backends without reading first: SQLite runs one writer at a time
(``BEGIN IMMEDIATE``), and PostgreSQL, under READ COMMITTED, makes a second UPDATE of the
row wait for the first to commit and then re-checks its WHERE against the new row — so
of two standbys trying at once, one wins and the other sees a live lease.

Writes of the engine are *fenced*: :func:`check` locks the row (``SELECT ... FOR UPDATE``
on PostgreSQL; SQLite's write lock is already held) and refuses a holder that is no longer
the one in it. A takeover therefore waits for the write in progress to commit, and every
write after it refuses the old holder: the two engines' writes never interleave.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from sqlalchemy import case, or_, select, update

from collector.alerts._rows import LEASE, affected, dialect_insert
from collector.alerts.store_errors import LeaseLost

if TYPE_CHECKING:
    from datetime import datetime, timedelta

    from sqlalchemy.engine import Connection

NAME: Final = "alerts"
"""The lease's row: one active alert engine per state database."""

_c = LEASE.c


@dataclass(frozen=True, slots=True)
class Lease:
    """The lease as stored.

    Attributes:
        holder: who holds it (None: released).
        acquired_at: when this holder took it.
        expires_at: when a standby may take it unless renewed.
        generation: how many times it changed hands (a fencing token).
    """

    holder: str | None
    acquired_at: datetime
    expires_at: datetime
    generation: int

    def held_by(self, holder: str, now: datetime) -> bool:
        """Whether ``holder`` holds it at ``now`` (not expired)."""
        return self.holder == holder and now < self.expires_at


def acquire(connection: Connection, holder: str, now: datetime, ttl: timedelta) -> bool:
    """Take the lease if it is free, expired or ours already; True if ``holder`` has it now."""
    ours = _c.holder == holder
    taken = affected(
        connection,
        update(LEASE)
        .where(_c.name == NAME, or_(ours, _c.holder.is_(None), _c.expires_at <= now))
        .values(
            holder=holder,
            expires_at=now + ttl,
            # Taking it again while holding it is a renewal, not a change of hands.
            acquired_at=case((ours, _c.acquired_at), else_=now),
            generation=case((ours, _c.generation), else_=_c.generation + 1),
        ),
        _c.name,
    )
    if taken == 1:
        return True
    first = dialect_insert(connection, LEASE).values(
        name=NAME, holder=holder, acquired_at=now, expires_at=now + ttl, generation=1
    )
    return affected(connection, first.on_conflict_do_nothing(), _c.name) == 1


def renew(connection: Connection, holder: str, now: datetime, ttl: timedelta) -> bool:
    """Extend the lease to ``now + ttl`` if ``holder`` still has it; False: it was taken.

    A lease past its expiry that nobody took is still the holder's: no other engine has
    acted (acting needs the lease), so carrying on is safe.
    """
    extended = update(LEASE).where(_c.name == NAME, _c.holder == holder)
    return affected(connection, extended.values(expires_at=now + ttl), _c.name) == 1


def release(connection: Connection, holder: str, now: datetime) -> bool:
    """Give the lease up at ``now`` so a standby takes over at once; False: not ours."""
    released = update(LEASE).where(_c.name == NAME, _c.holder == holder)
    return affected(connection, released.values(holder=None, expires_at=now), _c.name) == 1


def current(connection: Connection) -> Lease | None:
    """The lease as stored (None: nobody ever took it)."""
    row = connection.execute(select(LEASE).where(_c.name == NAME)).mappings().first()
    if row is None:
        return None
    return Lease(row["holder"], row["acquired_at"], row["expires_at"], row["generation"])


def check(connection: Connection, holder: str) -> None:
    """Lock the lease row until the transaction ends, and refuse if ``holder`` lost it.

    Raises:
        LeaseLost: another holder (or nobody) has it.
    """
    query = select(_c.holder).where(_c.name == NAME).with_for_update()
    current_holder = connection.execute(query).scalar_one_or_none()
    if current_holder != holder:
        raise LeaseLost(holder, current_holder)
