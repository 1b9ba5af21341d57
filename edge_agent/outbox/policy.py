"""The outbox's decisions, without SQLite: what to evict, what to send next, and how.

Everything here is pure: rows, sizes, counts and ``now`` are passed in, so the rules can
be tested exhaustively (see ``tests/test_outbox_policy.py``) and the store only does IO.

Eviction (when the outbox is over its size limit): telemetry goes first, oldest first;
events (card reads, door and port changes) are touched only once no telemetry is left
to evict. Readings in flight are never chosen: they are about to leave anyway.

Sending: rows are handed out in append order and grouped into per-device batches, so a
device's readings keep their order within a lane. Two lanes share each window (messages
in flight, and messages not yet confirmed by a receipt): *live* (readings stored within
the last ``live_window_s``) is served first and may use the whole window; *historical*
(the backlog) may not use the last eighth of it, so a card tap during a long replay
still finds a free slot. The backlog is also paced (a token bucket): a replay running
flat out would take every CPU cycle the gateway has.

Answers: a batch that waits too long for its receipt goes out again, and the wait grows
(:class:`ConfirmTimer`); a device whose batch the broker refused is held back for a while
that grows with each refusal (:class:`Backoff`).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable, Mapping, Sequence

PAGE_BYTES: Final = 4096
"""SQLite's default page size: the unit in which the database file grows and shrinks."""
LOW_WATER_MIN_BYTES: Final = 16 * PAGE_BYTES
LIVE_RESERVE_FRACTION: Final = 8
"""1/8 of each window is kept for live readings (at least one message)."""
REFUSED_BACKOFF_S: Final = 1.0
"""A device whose batch the broker refused waits this long before it is tried again..."""
REFUSED_BACKOFF_MAX_S: Final = 60.0
"""... doubling with each refusal after a wait, up to this."""


class ReadingClass(StrEnum):
    """How much a reading is worth when space runs out."""

    TELEMETRY = "telemetry"
    """Periodic samples (interface counters, health): the next poll says much the same."""
    EVENT = "event"
    """Things that happened once (card read, door change, port up/down): irreplaceable."""

    @classmethod
    def of(cls, *, is_event: bool) -> ReadingClass:
        """The class of a reading flagged ``is_event``."""
        return cls.EVENT if is_event else cls.TELEMETRY


class EvictionReason(StrEnum):
    """Why readings were evicted (a counter label)."""

    SIZE = "size"
    AGE = "age"


@dataclass(frozen=True, slots=True)
class Row:
    """A stored reading as the sending side sees it."""

    id: int
    device: str
    body: bytes
    is_event: bool
    seq: int = 0
    """The reading's ``seq``, which receipts name."""
    mono_ns: int | None = None
    """The monotonic clock when the reading was stamped, if of this boot (else None)."""


@dataclass(frozen=True, slots=True)
class Victims:
    """Row ids chosen for eviction, per class, oldest first."""

    telemetry: tuple[int, ...] = ()
    events: tuple[int, ...] = ()

    def __len__(self) -> int:
        """How many rows in all."""
        return len(self.telemetry) + len(self.events)


@dataclass(frozen=True, slots=True)
class BatchPlan:
    """The outcome of grouping rows into per-device batches.

    Attributes:
        batches: rows per batch, in the order they are to be sent.
        cursor: id of the last row consumed (batched or skipped), None if none was.
        complete: every row offered was consumed (False: the batch limit stopped it).
        held: per held device, the first of its rows skipped (to be scanned again).
    """

    batches: tuple[tuple[Row, ...], ...]
    cursor: int | None
    complete: bool
    held: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Slots:
    """Messages each lane may still put in flight."""

    live: int
    historical: int


def low_water(max_bytes: int) -> int:
    """Size to evict down to once over ``max_bytes``: 0.5 % below it, at least 16 pages.

    The gap keeps the outbox from evicting a handful of rows on every commit once full.
    """
    return max(0, max_bytes - max(max_bytes // 200, LOW_WATER_MIN_BYTES))


def rows_to_evict(*, used_bytes: int, max_bytes: int, rows: int) -> int:
    """How many rows to evict to get from ``used_bytes`` down to the low-water mark.

    Estimated from the average cost of a row on disk (data, index, page slack); the
    store measures again after evicting and repeats if the estimate fell short.
    """
    if used_bytes <= max_bytes or rows <= 0:
        return 0
    excess = used_bytes - low_water(max_bytes)
    return min(rows, math.ceil(excess * rows / used_bytes))


def choose_size_victims(
    telemetry: Sequence[int], events: Sequence[int], count: int, exclude: Collection[int]
) -> Victims:
    """Choose ``count`` rows to evict: telemetry oldest first, then events oldest first.

    ``telemetry`` and ``events`` are candidate ids of each class, oldest first; ids in
    ``exclude`` (in flight) are skipped. Events are chosen only when the telemetry
    candidates are exhausted, so the store must offer every evictable telemetry row it
    has up to ``count`` before events can be touched.
    """
    chosen_t = _oldest(telemetry, exclude, count)
    chosen_e = _oldest(events, exclude, count - len(chosen_t))
    return Victims(telemetry=chosen_t, events=chosen_e)


def _oldest(candidates: Sequence[int], exclude: Collection[int], count: int) -> tuple[int, ...]:
    chosen: list[int] = []
    for row_id in candidates:
        if len(chosen) >= count:
            break
        if row_id not in exclude:
            chosen.append(row_id)
    return tuple(chosen)


def age_cutoff_ns(now_ns: int, max_age_s: float) -> int:
    """Timestamps below this are older than ``max_age_s`` at ``now_ns``."""
    return now_ns - round(max_age_s * 1e9)


def expired(rows: Iterable[tuple[int, int]], cutoff_ns: int, exclude: Collection[int]) -> list[int]:
    """Ids of ``(id, ts)`` rows stamped before ``cutoff_ns``, except those in ``exclude``."""
    return [row_id for row_id, ts in rows if ts < cutoff_ns and row_id not in exclude]


def slots(*, live_in_flight: int, historical_in_flight: int, max_in_flight: int) -> Slots:
    """Split what is left of the in-flight window between the lanes.

    Live may fill the whole window; historical may fill it only up to the reserve, so a
    replay never leaves a fresh card tap waiting for a slot.
    """
    reserve = max(1, max_in_flight // LIVE_RESERVE_FRACTION)
    free = max(0, max_in_flight - live_in_flight - historical_in_flight)
    historical_cap = max(0, max_in_flight - reserve - historical_in_flight)
    return Slots(live=free, historical=min(free, historical_cap))


def narrower(first: Slots, second: Slots) -> Slots:
    """What both windows allow: ``take()`` hands out nothing beyond either."""
    return Slots(
        live=min(first.live, second.live), historical=min(first.historical, second.historical)
    )


def plan_batches(  # noqa: PLR0913 - a message's shape and what to skip, each named
    rows: Iterable[Row],
    *,
    exclude: Collection[int],
    max_batches: int,
    max_per_message: int,
    max_message_bytes: int,
    hold: Collection[str] = (),
) -> BatchPlan:
    """Group ``rows`` (ascending ids) into per-device batches, keeping each device's order.

    A device's rows go into its current batch until that holds ``max_per_message`` rows
    or ``max_message_bytes`` bytes of readings (a single larger reading travels alone).
    Batches are listed in the order they were opened, so a device's batches are in
    order too. Rows in ``exclude`` (in flight, or answered and being deleted) are
    skipped, and so are rows of the devices in ``hold`` (``held`` names the first of
    each, so they can be scanned again once the hold ends). Stops at the first row that
    would need a batch beyond ``max_batches``; ``cursor`` then names the last row
    consumed, so the next call resumes there.
    """
    batches: list[list[Row]] = []
    open_batch: dict[str, tuple[list[Row], list[int]]] = {}  # device -> (rows, [bytes])
    cursor: int | None = None
    held: dict[str, int] = {}
    for row in rows:
        if row.id in exclude:
            cursor = row.id
            continue
        if row.device in hold:
            held.setdefault(row.device, row.id)
            cursor = row.id
            continue
        current = open_batch.get(row.device)
        size = len(row.body) + 1  # the comma or bracket around it in the message
        if current is not None:
            batch, used = current
            if len(batch) < max_per_message and used[0] + size <= max_message_bytes:
                batch.append(row)
                used[0] += size
                cursor = row.id
                continue
        if len(batches) >= max_batches:
            return BatchPlan(_freeze(batches), cursor, complete=False, held=held)
        batch = [row]
        batches.append(batch)
        open_batch[row.device] = (batch, [size])
        cursor = row.id
    return BatchPlan(_freeze(batches), cursor, complete=True, held=held)


def _freeze(batches: list[list[Row]]) -> tuple[tuple[Row, ...], ...]:
    return tuple(tuple(batch) for batch in batches)


@dataclass
class LiveBoundary:
    """Where the live lane begins: the first row stored within the last ``window_s``.

    The store records each commit's first row id and the monotonic time of the commit;
    ids grow with time, so every row from the boundary on is live and every row below it
    is backlog. After a restart nothing is recorded: everything stored is backlog.
    """

    window_s: float
    _commits: deque[tuple[int, float]] = field(default_factory=deque)

    def record(self, first_id: int, at: float) -> None:
        """Note that rows from ``first_id`` on were committed at ``at`` (monotonic)."""
        self._commits.append((first_id, at))
        self.boundary(at)  # forget expired commits now: nobody may ask for hours (offline)

    def boundary(self, now: float) -> int | None:
        """The first live row id at ``now``, or None when no row is live."""
        while self._commits and now - self._commits[0][1] > self.window_s:
            self._commits.popleft()
        return self._commits[0][0] if self._commits else None

    def clear(self) -> None:
        """Forget every commit (the database was replaced)."""
        self._commits.clear()


@dataclass
class ReplayPacer:
    """A token bucket for the historical lane: at most ``rate`` readings a second.

    A replay running flat out takes every cycle the gateway has, and a card tap then
    waits its turn for the CPU; paced, the backlog still drains many times faster than
    it filled while live readings find the process idle. ``rate`` None: no pacing.
    Time is monotonic seconds, passed in.
    """

    rate: float | None
    burst: int
    _tokens: float = field(init=False)
    _at: float | None = None

    def __post_init__(self) -> None:
        """Start with a full bucket: the first round of a replay goes out at once."""
        self._tokens = float(self.burst)

    def available(self, now: float) -> int:
        """How many historical readings may be handed out at ``now``."""
        if self.rate is None:
            return self.burst
        if self._at is not None:
            self._tokens = min(float(self.burst), self._tokens + (now - self._at) * self.rate)
        self._at = now
        return int(self._tokens)

    def spend(self, readings: int) -> None:
        """Count ``readings`` handed out (call after :meth:`available`)."""
        if self.rate is not None:
            self._tokens -= readings

    def ready_at(self, now: float, readings: int) -> float:
        """When ``readings`` (at most ``burst``) will be available again."""
        if self.rate is None:
            return now
        missing = min(readings, self.burst) - self._tokens
        return now + max(0.0, missing / self.rate)


@dataclass
class ConfirmTimer:
    """How long a published batch waits for its receipt before it goes out again.

    Starts at ``base_s``. A batch that timed out doubles the wait for batches published
    after it (up to ``max_s``); a receipt resets it. The batches of one burst time out
    together but double it once: each doubles the wait *it was given*, not the current
    one. So a slow or absent collector gets fewer duplicates, not a storm.
    """

    base_s: float
    max_s: float
    current_s: float = field(init=False)

    def __post_init__(self) -> None:
        """Start at the base wait."""
        self.current_s = self.base_s

    def timed_out(self, given_s: float) -> None:
        """A batch given ``given_s`` to be confirmed was not."""
        self.current_s = min(self.max_s, max(self.current_s, 2 * given_s))

    def confirmed(self) -> None:
        """A receipt arrived: the collector keeps up again."""
        self.current_s = self.base_s


@dataclass
class Backoff:
    """How long to hold a device back after the broker refused its batch.

    The first refusal holds it ``first_s``; a refusal of a batch sent once the hold was
    over doubles the hold (up to ``max_s``), while further refusals of batches sent
    before it was held change nothing. An accepted publish resets the growth. Time is
    monotonic seconds, passed in.
    """

    first_s: float = REFUSED_BACKOFF_S
    max_s: float = REFUSED_BACKOFF_MAX_S
    delay_s: float = 0.0
    until: float = -math.inf

    def refused(self, now: float) -> None:
        """The broker refused a batch at ``now``."""
        if now < self.until:
            return  # sent before the hold: the same refusal again
        self.delay_s = self.first_s if self.delay_s == 0 else min(self.max_s, 2 * self.delay_s)
        self.until = now + self.delay_s

    def accepted(self) -> None:
        """The broker accepted a publish: the next refusal starts small again."""
        self.delay_s = 0.0

    def holds(self, now: float) -> bool:
        """Whether the device is held back at ``now``."""
        return now < self.until
