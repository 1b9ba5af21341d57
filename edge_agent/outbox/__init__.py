"""The durable outbox: every reading is on the gateway's disk before it is published.

Readings enter with :meth:`Outbox.append` (returns once the reading is durable) and
leave with :meth:`Outbox.confirm` when a collector's receipt names their ``seq`` (after
:meth:`Outbox.published` on the broker's PUBACK), or with :meth:`Outbox.ack` on the PUBACK
when no collector sends receipts. In between, :meth:`Outbox.take` hands them out in
per-device batches: live readings first, then the backlog marked historical; what the
broker refused stays, and what no receipt confirms in time goes out again. The outbox
is bounded by size and age; when full it evicts telemetry oldest first and events only
when no telemetry is left, counting every eviction.

Guarantee
    A reading is *accepted* when :meth:`Outbox.append` returns. From then on it survives
    ``kill -9`` of the agent and a power cut, because ``append()`` returns only after the
    SQLite transaction holding it has committed in WAL mode with ``synchronous=FULL``:
    the WAL frames carrying the reading were written and ``fsync()``-ed before COMMIT
    returned, and the folder holding the database and its WAL was ``fsync()``-ed after
    they were created, so their names survive too. On the next start SQLite replays the
    WAL. A reading leaves the outbox only through :meth:`Outbox.confirm` (a collector
    stored it), :meth:`Outbox.ack` (the broker's PUBACK, when no collector sends
    receipts) or an eviction, which is counted in the same transaction that deletes it;
    never because the broker refused it. Deletes (confirmations, acknowledgements and
    evictions) are committed lazily and
    without their own fsync: a crash or power cut before they are on disk brings those
    readings back, to be sent again (a duplicate, which the collector absorbs) or
    evicted and counted again, never lost. SQLite's WAL checksums make a power cut roll
    back only an unsynced tail of the WAL, never a commit that was synced before it.

    Limits of the promise: storage that reports an ``fsync()`` it has not done (SD cards
    and USB sticks with volatile caches) can still lose the last commits on a power cut;
    no software can fix that. With ``sync: normal`` the WAL is not synced per commit and
    the promise covers ``kill -9`` only. A damaged file is moved aside, not repaired
    (see Errors).

Errors
    Both are :class:`edge_agent.errors.AgentError`: :class:`OutboxError` names the file
    and the cause of disk trouble; :class:`UnsendableReadingError` refuses a reading that
    could never be sent. Nothing here raises a raw :mod:`sqlite3` error. A folder that
    cannot be created or written, a full disk or an I/O error make :meth:`Outbox.append`
    raise :class:`OutboxError` naming the file and the cause; the same text is in
    ``stats().error`` and in the log (throttled). The outbox keeps trying (with every
    append, and every ``retry_s``), so storing resumes by itself once space returns.
    A damaged database file is moved aside as ``outbox.db.corrupt-<UTC time>`` (with
    its WAL), logged as an error, counted in ``stats().quarantined``, and a new, empty
    outbox is started: no crash loop.

Layers (the public :class:`Outbox` is a facade owning the three parts below it):

- :mod:`edge_agent.outbox.store`: :class:`Outbox`, and how the agent drives it.
- :mod:`edge_agent.outbox.ledger`: the sending side, pure: batches in flight and awaiting
  a receipt, lanes, cursors, windows, pacing, timeouts, holds after refusals; the order
  rows go out in (``_round``: one round of take()).
- :mod:`edge_agent.outbox.policy`: the decisions (eviction, batching, lanes), pure.
- Private modules, one job each: ``_writer`` (the writer thread: group commit, deletes,
  opening and quarantine), ``_limits`` (size and age limits), ``_database`` (the
  writer's connection and the files around it), ``_queue`` (what other threads hand
  the writer), ``_books`` (what the file holds), ``_reader`` (the sending side's
  connection), ``_reads`` (the store's reads through it: take()'s rows, the oldest
  reading), ``_stats`` (the figures of stats()), ``_sqlite`` (the file layout, its
  upgrades and every SQL statement), ``_files`` (lock file, quarantine, boot id),
  ``_values`` (:class:`OutboxEntry`, :class:`OutboxBatch`, :class:`OutboxStats`) and
  ``_errors`` (:class:`OutboxError` and the words for disk trouble).
- :mod:`edge_agent.outbox.settings`: the ``outbox:`` section of the agent's YAML file.
- :mod:`edge_agent.outbox.snapshot`: the file seen from outside the agent (read-only
  export, purge under the lock), for ``pelangi-agent outbox export | purge``.
- :mod:`sandbox.bench.outbox`: the figures behind ``make bench``.
"""

from edge_agent.outbox._errors import UnsendableReadingError
from edge_agent.outbox.policy import EvictionReason, ReadingClass
from edge_agent.outbox.settings import OutboxSettings
from edge_agent.outbox.store import (
    Outbox,
    OutboxBatch,
    OutboxEntry,
    OutboxError,
    OutboxStats,
)

__all__ = [
    "EvictionReason",
    "Outbox",
    "OutboxBatch",
    "OutboxEntry",
    "OutboxError",
    "OutboxSettings",
    "OutboxStats",
    "ReadingClass",
    "UnsendableReadingError",
]
