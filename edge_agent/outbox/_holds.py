"""Devices held back after the broker refused their batch, and what to read again after.

Pure (``now`` is passed in): part of :class:`~edge_agent.outbox.ledger.Ledger`. While a
device is held, a round skips its rows (:func:`~edge_agent.outbox.policy.plan_batches`
names the first skipped); when the hold ends, the ledger reads again from there. Each
device backs off on its own (:class:`~edge_agent.outbox.policy.Backoff`): the broker's
ACL denies topics, and a topic is a device's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from edge_agent.outbox.policy import Backoff

if TYPE_CHECKING:
    from collections.abc import Mapping


class Holds:
    """Per device: its backoff, and the first of its rows skipped while held."""

    def __init__(self) -> None:
        """No device is held."""
        self._backoffs: dict[str, Backoff] = {}
        self._skipped_from: dict[str, int] = {}

    def refused(self, device: str, now: float) -> None:
        """The broker refused a batch of ``device`` at ``now``."""
        self._backoffs.setdefault(device, Backoff()).refused(now)

    def accepted(self, device: str) -> None:
        """The broker accepted a batch of ``device``: its next refusal starts small."""
        backoff = self._backoffs.get(device)
        if backoff is not None:
            backoff.accepted()

    def held(self, now: float) -> frozenset[str]:
        """The devices held back at ``now``."""
        return frozenset(d for d, b in self._backoffs.items() if b.holds(now))

    def skipped(self, skipped: Mapping[str, int], now: float) -> int | None:
        """A round skipped rows (device -> first row id); return the first to read now.

        That is the lowest first row of the devices whose hold ended while the round
        read (None if there is none); the others are kept until their hold ends.
        """
        again: int | None = None
        for device, first in skipped.items():
            backoff = self._backoffs.get(device)
            if backoff is not None and backoff.holds(now):
                self._skipped_from[device] = min(first, self._skipped_from.get(device, first))
            else:
                again = first if again is None else min(again, first)
        return again

    def ended(self, now: float) -> int | None:
        """End the holds that are over at ``now``; return the first row to read again."""
        again: int | None = None
        for device, backoff in list(self._backoffs.items()):
            if backoff.holds(now):
                continue
            first = self._skipped_from.pop(device, None)
            if first is not None:
                again = first if again is None else min(again, first)
            if backoff.delay_s == 0:  # accepted since: nothing to remember
                del self._backoffs[device]
        return again

    def wake_at(self) -> float | None:
        """When the first hold with rows skipped ends."""
        return min((self._backoffs[d].until for d in self._skipped_from), default=None)

    def clear(self) -> None:
        """Forget the rows skipped (the file was replaced); the backoffs stay."""
        self._skipped_from.clear()
