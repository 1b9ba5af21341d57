"""The outbox's values: what goes in, what comes out, and what it reports.

:class:`OutboxEntry` (a reading to store), :class:`OutboxBatch` (readings to send as one
message) and :class:`OutboxStats` (a snapshot): immutable, no IO.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from edge_agent.outbox._errors import UnsendableReadingError
from edge_agent.outbox.settings import ENVELOPE_MARGIN_BYTES
from pelangi.errors import TopicError
from pelangi.payloads import MAX_PAYLOAD_BYTES, SCHEMA_VERSION
from pelangi.topics import check_ident

if TYPE_CHECKING:
    from collections.abc import Callable

MAX_READING_BYTES: Final = MAX_PAYLOAD_BYTES - ENVELOPE_MARGIN_BYTES


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """One reading to store: see :meth:`Outbox.append` for the fields."""

    device: str
    reading: bytes
    is_event: bool
    ts: int
    seq: int
    mono_ns: int | None = None


@dataclass(frozen=True, slots=True)
class OutboxBatch:
    """Readings of one device, oldest first, to be sent as one message.

    Attributes:
        id: names the batch in :meth:`Outbox.ack` and :meth:`Outbox.release` (unique for
            the life of the process).
        device: the device the readings belong to.
        historical: True for the backlog lane (stored more than ``live_window_s`` ago):
            the collector stores these but raises no alarms.
        reading_ids: the outbox's row ids, ascending.
        readings: each reading's JSON, as appended.
        event_flags: per reading, whether it was appended as an event.
        seqs: per reading, its ``seq`` (what a receipt names).
        mono_ns: per reading, the monotonic clock (ns) when it was stamped, as appended,
            if it was appended during the current boot; None otherwise (or if none was
            given).
    """

    id: int
    device: str
    historical: bool
    reading_ids: tuple[int, ...]
    readings: tuple[bytes, ...]
    event_flags: tuple[bool, ...]
    seqs: tuple[int, ...]
    mono_ns: tuple[int | None, ...]

    def __len__(self) -> int:
        """How many readings the batch holds."""
        return len(self.readings)

    def payload(
        self, site: str, gateway: str, rewrite: Callable[[bytes, int], bytes] | None = None
    ) -> bytes:
        """The MQTT payload: an :class:`pelangi.payloads.Envelope` holding the readings.

        Built by joining the stored JSON rather than re-validating every reading: replay
        runs at tens of thousands of readings a second. Identifiers are checked, so
        nothing here can break the JSON. ``rewrite(body, mono_ns)``, if given, replaces
        each reading that has a ``mono_ns`` (e.g. to correct its ``ts``); it must return
        the JSON of one reading.
        """
        check_ident(site, "site")
        check_ident(gateway, "gateway")
        head = (
            f'{{"v":{SCHEMA_VERSION},"site":"{site}","gateway":"{gateway}",'
            f'"device":"{self.device}","historical":{"true" if self.historical else "false"},'
            '"readings":['
        )
        readings = self.readings
        if rewrite is not None:
            readings = tuple(
                body if mono is None else rewrite(body, mono)
                for body, mono in zip(self.readings, self.mono_ns, strict=True)
            )
        return head.encode() + b",".join(readings) + b"]}"


@dataclass(frozen=True, slots=True)
class OutboxStats:
    """A snapshot of the outbox, for health readings and the statistics log.

    Eviction and rejection counts are kept in the database: they survive restarts.
    """

    path: str
    available: bool
    """False while the database cannot be opened (see ``error``)."""
    error: str | None
    """The latest problem storing readings; None once storing works again."""
    telemetry: int
    events: int
    used_bytes: int
    """Bytes of database pages in use (the file itself never shrinks)."""
    max_bytes: int
    oldest_age_s: float | None
    """Age of the oldest stored reading by its ``ts`` (None when empty)."""
    in_flight_messages: int
    """Batches taken and not yet answered by the broker."""
    in_flight_readings: int
    awaiting_messages: int
    """Batches the broker accepted that wait for a collector's receipt."""
    awaiting_readings: int
    oldest_awaiting_s: float | None
    """How long the batch waiting longest for its receipt has waited (None: none waits)."""
    confirm_timeout_s: float
    """How long a batch published now may wait for its receipt before it goes out again."""
    appended: int
    """Readings accepted since this outbox was opened."""
    refused: int
    """Readings append() could not store since this outbox was opened."""
    acknowledged: int
    """Readings deleted on the broker's PUBACK (no confirming collector) since opening."""
    confirmed: int
    """Readings deleted because a collector's receipt named them, since opening."""
    resent: int
    """Readings that went back to waiting because no receipt came in time, since opening."""
    refused_by_broker: int
    """Readings in batches the broker refused (kept, sent again later), since opening."""
    evicted_telemetry_size: int
    evicted_telemetry_age: int
    evicted_event_size: int
    evicted_event_age: int
    rejected: int
    """Readings older agents deleted when the broker refused them, all time (no longer grows)."""
    quarantined: int
    """Damaged database files moved aside, all time (since the last one)."""

    @property
    def readings(self) -> int:
        """Readings stored (telemetry and events)."""
        return self.telemetry + self.events

    @property
    def evicted(self) -> int:
        """Readings evicted, all classes and reasons, all time."""
        return (
            self.evicted_telemetry_size
            + self.evicted_telemetry_age
            + self.evicted_event_size
            + self.evicted_event_age
        )

    def summary(self) -> str:
        """One line for the periodic statistics log."""
        if not self.available:
            return f"outbox {self.path} unavailable: {self.error}"
        oldest = "" if self.oldest_age_s is None else f", oldest {_duration(self.oldest_age_s)}"
        text = (
            f"outbox: {self.readings} stored ({self.telemetry} telemetry, {self.events} "
            f"events), {self.used_bytes / 1e6:.1f} of {self.max_bytes / 1e6:.0f} MB{oldest}; "
            f"{self.in_flight_readings} in flight"
        )
        if self.awaiting_readings:
            longest = _duration(self.oldest_awaiting_s or 0.0)
            text += (
                f", {self.awaiting_readings} awaiting a receipt (longest {longest}, "
                f"timeout {self.confirm_timeout_s:g} s)"
            )
        if self.refused_by_broker:
            text += f"; {self.refused_by_broker} refused by the broker (kept)"
        if self.evicted:
            text += (
                f"; evicted {self.evicted} (telemetry {self.evicted_telemetry_size} size, "
                f"{self.evicted_telemetry_age} age; events {self.evicted_event_size} size, "
                f"{self.evicted_event_age} age)"
            )
        if self.error:
            text += f"; problem: {self.error}"
        return text


def check_entry(entry: OutboxEntry) -> None:
    """Refuse an entry that could never be sent (:class:`UnsendableReadingError` says why)."""
    try:
        check_ident(entry.device, "device")
    except TopicError as exc:
        raise UnsendableReadingError(str(exc)) from None
    if not entry.reading:
        raise UnsendableReadingError(f"empty reading for device {entry.device!r}")
    if len(entry.reading) > MAX_READING_BYTES:
        raise UnsendableReadingError(
            f"a reading of {len(entry.reading)} bytes for device {entry.device!r} cannot be "
            f"sent: the limit is {MAX_READING_BYTES}"
        )
    if not 0 < entry.ts < 2**63:
        raise UnsendableReadingError(
            f"ts of a reading for device {entry.device!r} must be ns since the epoch, "
            f"got {entry.ts}"
        )
    if not 0 <= entry.seq < 2**63:
        raise UnsendableReadingError(
            f"seq of a reading for device {entry.device!r} must be from 0 to 2**63 - 1, "
            f"got {entry.seq}"
        )
    if entry.mono_ns is not None and not 0 <= entry.mono_ns < 2**63:
        raise UnsendableReadingError(
            f"mono_ns of a reading for device {entry.device!r} must be a monotonic clock "
            f"in ns (from 0 to 2**63 - 1) or None, got {entry.mono_ns}"
        )


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172_800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86_400:.1f} days"
