"""The durable outbox: every reading is on the gateway's disk before it is published.

Readings enter with :meth:`Outbox.append` (returns once the reading is durable) and
leave with :meth:`Outbox.ack` after the broker's PUBACK. In between, :meth:`Outbox.take`
hands them out in per-device batches: live readings first, then the backlog marked
historical. The outbox is bounded by size and age; when full it evicts telemetry oldest
first and events only when no telemetry is left, counting every eviction.

Layers:

- :mod:`edge_agent.outbox.policy`: the decisions (eviction, batching, lanes), pure.
- :mod:`edge_agent.outbox.store`: the public :class:`Outbox` (its docstring states the
  durability and order guarantees and how the agent drives it), and its sending side.
- Private modules behind it, one job each: ``_writer`` (the writer thread: group commit,
  deletes, limits, opening and quarantine), ``_checkpoint`` (the WAL checkpoint thread),
  ``_sqlite`` (the file layout and its statements), ``_files`` (lock file, quarantine),
  ``_values`` (:class:`OutboxEntry`, :class:`OutboxBatch`, :class:`OutboxStats`) and
  ``_errors`` (:class:`OutboxError` and the words for disk trouble).
- :mod:`edge_agent.outbox.settings`: the ``outbox:`` section of the agent's YAML file.
- :mod:`sandbox.bench.outbox`: the figures behind ``make bench``.

Errors (both :class:`edge_agent.errors.AgentError`): :class:`OutboxError` names the file
and the cause of disk trouble; :class:`UnsendableReadingError` refuses a reading that could
never be sent. Nothing here lets a raw ``sqlite3`` error escape.
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
