"""The batches that are out: their rows (not the bodies), by id and by seq, counted per lane.

Pure: part of :class:`~edge_agent.outbox.ledger.Ledger`, which decides when a batch
goes out, awaits a receipt or comes back; this registry keeps the books of it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

_LANES = (False, True)  # historical?


@dataclass(frozen=True, slots=True)
class Lease:
    """What the ledger keeps of a batch that is out: its rows, not their bodies."""

    id: int
    device: str
    historical: bool
    reading_ids: tuple[int, ...]
    event_flags: tuple[bool, ...]
    seqs: tuple[int, ...]

    def __len__(self) -> int:
        """How many readings the batch holds."""
        return len(self.reading_ids)

    def rows(self) -> list[tuple[int, bool]]:
        """``(id, is_event)`` of each reading: what a delete needs."""
        return list(zip(self.reading_ids, self.event_flags, strict=True))


class Leases:
    """Batches out, each in flight or awaiting a receipt (see the module docstring)."""

    def __init__(self) -> None:
        """Nothing is out."""
        self._leases: dict[int, Lease] = {}
        self._by_seq: dict[int, int] = {}  # seq -> lease id
        self._awaiting_ids: set[int] = set()
        self.in_flight = dict.fromkeys(_LANES, 0)
        """Messages in flight, per lane (historical?)."""
        self.awaiting = dict.fromkeys(_LANES, 0)
        """Messages awaiting a receipt, per lane."""

    def __iter__(self) -> Iterator[int]:
        """The ids of the batches out."""
        return iter(list(self._leases))

    def get(self, lease_id: int) -> Lease | None:
        """The batch ``lease_id``, if it is out."""
        return self._leases.get(lease_id)

    def is_awaiting(self, lease_id: int) -> bool:
        """Whether the batch awaits a receipt (rather than being in flight)."""
        return lease_id in self._awaiting_ids

    def add(self, lease: Lease) -> None:
        """The batch was handed out: it is in flight."""
        self._leases[lease.id] = lease
        self._by_seq.update(dict.fromkeys(lease.seqs, lease.id))
        self.in_flight[lease.historical] += 1

    def published(self, lease_id: int) -> bool:
        """The broker accepted the batch: it awaits a receipt, unless nothing is left of it.

        Returns whether it awaits one (an empty batch is forgotten instead).
        """
        lease = self._leases[lease_id]
        self.in_flight[lease.historical] -= 1
        if not lease:
            del self._leases[lease_id]
            return False
        self._awaiting_ids.add(lease_id)
        self.awaiting[lease.historical] += 1
        return True

    def drop(self, lease_id: int) -> Lease | None:
        """Forget the batch (answered, given up or put back); None if unknown."""
        lease = self._leases.pop(lease_id, None)
        if lease is None:
            return None
        if lease_id in self._awaiting_ids:
            self._awaiting_ids.discard(lease_id)
            self.awaiting[lease.historical] -= 1
        else:
            self.in_flight[lease.historical] -= 1
        for seq in lease.seqs:
            if self._by_seq.get(seq) == lease_id:
                del self._by_seq[seq]
        return lease

    def holding(self, ranges: Sequence[tuple[int, int]]) -> dict[int, set[int]]:
        """Which batches hold seqs in ``ranges`` (inclusive): lease id -> those seqs."""
        found: dict[int, set[int]] = {}
        held = len(self._by_seq)
        for first, last in ranges:
            # Walk the range or the seqs out, whichever is shorter.
            if last - first + 1 <= held:
                pairs = ((s, self._by_seq.get(s)) for s in range(first, last + 1))
            else:
                pairs = ((s, i) for s, i in self._by_seq.items() if first <= s <= last)
            for seq, lease_id in pairs:
                if lease_id is not None:
                    found.setdefault(lease_id, set()).add(seq)
        return found

    def take_rows(self, lease_id: int, seqs: set[int]) -> list[tuple[int, bool]]:
        """Remove the rows of ``seqs`` from the batch; return them ``(id, is_event)``.

        A batch awaiting a receipt with nothing left is forgotten; one in flight stays
        (empty) until the broker answers: it holds a slot of the window.
        """
        lease = self._leases[lease_id]
        keep = [i for i, seq in enumerate(lease.seqs) if seq not in seqs]
        rows = lease.rows()
        gone = [rows[i] for i, seq in enumerate(lease.seqs) if seq in seqs]
        for seq in seqs:
            del self._by_seq[seq]
        if not keep and self.is_awaiting(lease_id):
            self.drop(lease_id)
        else:
            self._leases[lease_id] = replace(
                lease,
                reading_ids=tuple(lease.reading_ids[i] for i in keep),
                event_flags=tuple(lease.event_flags[i] for i in keep),
                seqs=tuple(lease.seqs[i] for i in keep),
            )
        return gone

    def readings(self, *, awaiting: bool) -> int:
        """Readings in the batches in flight (or awaiting a receipt)."""
        return sum(
            len(lease)
            for lease_id, lease in self._leases.items()
            if (lease_id in self._awaiting_ids) is awaiting
        )

    def clear(self) -> None:
        """Forget every batch (the file was replaced)."""
        self._leases.clear()
        self._by_seq.clear()
        self._awaiting_ids.clear()
        self.in_flight = dict.fromkeys(_LANES, 0)
        self.awaiting = dict.fromkeys(_LANES, 0)
