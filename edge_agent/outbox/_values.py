"""The outbox's values: what goes in, what comes out, and what it reports.

:class:`OutboxEntry` (a reading to store), :class:`OutboxBatch` (readings to send as one
message) and :class:`OutboxStats` (a snapshot): immutable, no IO.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from edge_agent.outbox._errors import UnsendableReadingError
from edge_agent.outbox.settings import ENVELOPE_MARGIN_BYTES
from pelangi.errors import TopicError
from pelangi.payloads import MAX_PAYLOAD_BYTES, SCHEMA_VERSION
from pelangi.topics import check_ident

MAX_READING_BYTES: Final = MAX_PAYLOAD_BYTES - ENVELOPE_MARGIN_BYTES


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """One reading to store: see :meth:`Outbox.append` for the fields."""

    device: str
    reading: bytes
    is_event: bool
    ts: int


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
    """

    id: int
    device: str
    historical: bool
    reading_ids: tuple[int, ...]
    readings: tuple[bytes, ...]
    event_flags: tuple[bool, ...]

    def __len__(self) -> int:
        """How many readings the batch holds."""
        return len(self.readings)

    def payload(self, site: str, gateway: str) -> bytes:
        """The MQTT payload: an :class:`pelangi.payloads.Envelope` holding the readings.

        Built by joining the stored JSON rather than re-validating every reading: replay
        runs at tens of thousands of readings a second. Identifiers are checked, so
        nothing here can break the JSON.
        """
        check_ident(site, "site")
        check_ident(gateway, "gateway")
        head = (
            f'{{"v":{SCHEMA_VERSION},"site":"{site}","gateway":"{gateway}",'
            f'"device":"{self.device}","historical":{"true" if self.historical else "false"},'
            '"readings":['
        )
        return head.encode() + b",".join(self.readings) + b"]}"


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
    in_flight_readings: int
    appended: int
    """Readings accepted since this outbox was opened."""
    refused: int
    """Readings append() could not store since this outbox was opened."""
    acknowledged: int
    """Readings acknowledged since this outbox was opened."""
    evicted_telemetry_size: int
    evicted_telemetry_age: int
    evicted_event_size: int
    evicted_event_age: int
    rejected: int
    """Readings the broker refused (acked with ``rejected=True``), all time."""
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
