"""Capped, jittered exponential backoff: no reconnect storm when 50 gateways return at once."""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class Backoff:
    """Delays for successive retries: full jitter over ``base * 2**attempt``, capped.

    Full jitter (a uniform draw between 0 and the exponential bound) spreads clients that
    failed together across the whole window, which is what stops them retrying together.
    """

    base: float = 0.5
    cap: float = 30.0
    rng: random.Random = field(default_factory=random.Random)
    attempt: int = 0

    def next_delay(self) -> float:
        """Return the delay before the next retry and count the attempt."""
        bound = min(self.cap, self.base * 2 ** min(self.attempt, 30))
        self.attempt += 1
        return self.rng.uniform(0, bound)

    def reset(self) -> None:
        """Start again from the shortest delay (call after a success)."""
        self.attempt = 0
