"""Configuration of the durable outbox (the ``outbox:`` section of the agent's YAML file)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Final, Literal

from pydantic import Field, model_validator

from pelangi.configfile import StrictModel
from pelangi.payloads import MAX_PAYLOAD_BYTES, MAX_READINGS_PER_MESSAGE

FILE_NAME: Final = "outbox.db"
ENVELOPE_MARGIN_BYTES: Final = 1024
"""Room left in a message for the envelope around the readings (site, gateway, device)."""

DAY_S: Final = 86_400.0


class OutboxSettings(StrictModel):
    """Where the outbox lives, how large it may grow, and how it hands readings out."""

    path: Path | None = Field(
        default=None,
        description="the SQLite file; default: outbox.db in the agent's state_dir",
    )
    max_bytes: Annotated[int, Field(ge=1_000_000)] = Field(
        default=1_000_000_000,
        description="largest size of the outbox's data on disk, in bytes (the WAL file comes "
        "on top: a few MB, up to ~64 MB during a fast replay); when full, telemetry is "
        "evicted oldest first",
    )
    max_age_s: Annotated[float, Field(ge=60)] = Field(
        default=7 * DAY_S, description="telemetry older than this is evicted (reason 'age')"
    )
    event_max_age_s: Annotated[float, Field(ge=60)] = Field(
        default=31 * DAY_S,
        description="events (card reads, door and port changes) older than this are evicted; "
        "longer than max_age_s because attendance still needs a month-old card read",
    )
    sync: Literal["full", "normal"] = Field(
        default="full",
        description="full: an accepted reading survives a power cut (one fsync per group "
        "commit); normal: it survives a crash of the agent but not of the machine",
    )
    live_window_s: Annotated[float, Field(gt=0, le=300)] = Field(
        default=5.0,
        description="a reading sent within this many seconds of being stored is live; "
        "older ones go out as historical (stored by the collector, no alarms)",
    )
    max_per_message: Annotated[int, Field(ge=1, le=MAX_READINGS_PER_MESSAGE)] = Field(
        default=100, description="most readings batched into one MQTT message"
    )
    max_message_bytes: Annotated[
        int, Field(ge=1024, le=MAX_PAYLOAD_BYTES - ENVELOPE_MARGIN_BYTES)
    ] = Field(default=64 * 1024, description="most bytes of readings batched into one message")
    max_in_flight_messages: Annotated[int, Field(ge=2, le=65_535)] = Field(
        default=64,
        description="most messages handed out and not yet acknowledged (paho allows 65,535; "
        "the broker's window is smaller and not a reliable brake)",
    )
    max_unconfirmed_messages: Annotated[int, Field(ge=2, le=65_535)] = Field(
        default=256,
        description="most messages sent and not yet confirmed by a collector's receipt (in "
        "flight or accepted by the broker): end-to-end flow control, a slow collector slows "
        "its gateways; at least max_in_flight_messages",
    )
    confirm_timeout_s: Annotated[float, Field(gt=0, le=3600)] = Field(
        default=30.0,
        description="a message the broker accepted goes out again if no receipt names its "
        "readings within this many seconds; the wait doubles after each timeout (up to "
        "confirm_timeout_max_s) until a receipt arrives",
    )
    confirm_timeout_max_s: Annotated[float, Field(gt=0, le=86_400)] = Field(
        default=300.0, description="longest wait for a receipt (see confirm_timeout_s)"
    )
    take_max_readings: Annotated[int, Field(ge=1, le=1_000_000)] = Field(
        default=1_000,
        description="most readings one call of take() looks at (keeps each round of the "
        "sending loop short, so a live reading waits little behind a replay)",
    )
    replay_max_readings_per_s: Annotated[int, Field(ge=100)] | None = Field(
        default=30_000,
        description="pace the backlog to at most this many readings a second (null: as "
        "fast as possible); live readings are never paced",
    )
    retry_s: Annotated[float, Field(gt=0, le=300)] = Field(
        default=5.0,
        description="while the outbox cannot be opened, how often to try again",
    )

    @model_validator(mode="after")
    def _events_outlive_telemetry(self) -> OutboxSettings:
        if self.event_max_age_s < self.max_age_s:
            msg = (
                f"event_max_age_s ({self.event_max_age_s:g}) must be at least max_age_s "
                f"({self.max_age_s:g}): events are the last readings to give up"
            )
            raise ValueError(msg)
        return self

    @model_validator(mode="after")
    def _windows_nest(self) -> OutboxSettings:
        if self.max_unconfirmed_messages < self.max_in_flight_messages:
            msg = (
                f"max_unconfirmed_messages ({self.max_unconfirmed_messages}) must be at least "
                f"max_in_flight_messages ({self.max_in_flight_messages}): every message in "
                "flight is also unconfirmed"
            )
            raise ValueError(msg)
        if self.confirm_timeout_max_s < self.confirm_timeout_s:
            msg = (
                f"confirm_timeout_max_s ({self.confirm_timeout_max_s:g}) must be at least "
                f"confirm_timeout_s ({self.confirm_timeout_s:g})"
            )
            raise ValueError(msg)
        return self

    def resolve_path(self, state_dir: Path) -> Path:
        """The database file: ``path`` if set, else ``outbox.db`` in ``state_dir``."""
        return self.path if self.path is not None else state_dir / FILE_NAME
