"""The collector's configuration file (YAML), validated by pydantic.

See ``config/collector.example.yaml`` for a commented example and the README for the
full reference.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Discriminator, Field, SecretStr, Tag, model_validator

from collector.alerts.config import AlertsSection
from collector.attendance.settings import AttendanceSettings
from collector.state.settings import StateSettings
from pelangi.configfile import StrictModel
from pelangi.logs import LogLevel
from pelangi.mqtt import MqttSettings
from pelangi.payloads import MAX_PAYLOAD_BYTES, Ident
from pelangi.topics import reading_filter

_URL_PATTERN = r"^https?://[^\s/]+(/[^\s]*)?$"
COLLECTOR_RECONNECT_MAX_S = 5.0
"""A collector's default longest wait between reconnects (the agent's is 30 s).

Both use the same jittered, capped backoff (:class:`pelangi.backoff.Backoff`); the cap
protects the broker from many clients returning at once. There are hundreds of gateways
but only a few collectors, and every gateway waits for one after a broker outage."""
Seconds = Annotated[float, Field(gt=0, le=300)]


class InfluxV1Settings(StrictModel):
    """InfluxDB 1.x HTTP API (``/write``, ``/query``): what Debian and Ubuntu package."""

    backend: Literal["influxdb1"] = "influxdb1"
    url: str = Field(default="http://127.0.0.1:8086", pattern=_URL_PATTERN)
    database: str = Field(default="pelangi", min_length=1, max_length=255)
    retention_policy: str | None = Field(
        default=None, description="write into this retention policy instead of the default"
    )
    username: str | None = None
    password: SecretStr | None = None
    timeout_s: Seconds = Field(
        default=10.0, description="longest wait for InfluxDB to answer one request"
    )
    gzip: bool = Field(
        default=False, description="compress write requests (worth it over slow links only)"
    )


class InfluxV2Settings(StrictModel):
    """The v2 write API (``/api/v2/write``) through influxdb-client: InfluxDB 2.x and 3.x."""

    backend: Literal["influxdb2"]
    url: str = Field(default="http://127.0.0.1:8086", pattern=_URL_PATTERN)
    org: str = Field(default="pelangi", min_length=1)
    bucket: str = Field(default="pelangi", min_length=1)
    token: SecretStr | None = None
    timeout_s: Seconds = 10.0
    gzip: bool = False


def _backend_of(value: object) -> str:
    """The union tag for ``backend`` (``influxdb1`` when left out: files from before v2)."""
    backend = value.get("backend", "influxdb1") if isinstance(value, dict) else value
    backend = getattr(backend, "backend", backend)
    # pydantic puts the tag into error locations; the "[...]" form marks it as a union step,
    # which error messages leave out (they name the key path a technician edits).
    return f"backend[{backend}]"


InfluxSettings = Annotated[
    Annotated[InfluxV1Settings, Tag("backend[influxdb1]")]
    | Annotated[InfluxV2Settings, Tag("backend[influxdb2]")],
    Discriminator(_backend_of),
]


class RetentionSettings(StrictModel):
    """What ``setup-db`` creates on InfluxDB 1.x: raw data, and 5-minute rollups (downsampling)."""

    raw_days: Annotated[int, Field(ge=1, le=36_500)] = Field(
        default=90, description="days raw readings are kept (the default retention policy)"
    )
    rollup_days: Annotated[int, Field(ge=1, le=36_500)] = Field(
        default=5 * 365, description="days the 5-minute rollups are kept"
    )
    rollup_interval: Literal["1m", "5m", "15m", "1h"] = "5m"


class BatchSettings(StrictModel):
    """How readings are grouped into writes, and how much may wait unacknowledged."""

    max_points: Annotated[int, Field(ge=1, le=100_000)] = 5000
    max_delay_ms: Annotated[int, Field(ge=1, le=10_000)] = Field(
        default=200, description="longest a reading waits for its batch to fill"
    )
    max_unacked: Annotated[int, Field(ge=1, le=65_535)] = Field(
        default=20_000,
        description="most MQTT messages held before they are stored and acknowledged; when "
        "reached, the collector stops reading from the broker until storage catches up",
    )
    max_unacked_points: Annotated[int, Field(ge=1, le=10_000_000)] = Field(
        default=30_000,
        description="most points (readings, dead letters) held in memory before they are "
        "stored: the memory bound, whatever the message sizes",
    )
    writers: Annotated[int, Field(ge=1, le=8)] = Field(
        default=2, description="parallel write connections to InfluxDB"
    )

    @model_validator(mode="after")
    def _room_for_a_batch(self) -> BatchSettings:
        if self.max_unacked_points < self.max_points:
            raise ValueError(
                f"batch.max_unacked_points ({self.max_unacked_points}) must be at least "
                f"batch.max_points ({self.max_points}), or no batch could ever fill"
            )
        return self


class ValiditySettings(StrictModel):
    """Readings whose timestamps are implausible are dead-lettered, not stored."""

    max_future_s: Annotated[float, Field(gt=0)] = Field(
        default=600.0, description="a reading this far ahead of the collector's clock is refused"
    )
    max_age_days: Annotated[float, Field(gt=0)] = Field(
        default=60.0,
        description="a reading older than this is refused (keep it below the raw retention)",
    )


class DeadLetterSettings(StrictModel):
    """Where refused messages and readings go, besides the ``dead_letter`` measurement."""

    log_file: Path | None = Field(
        default=None, description="rotating JSON-lines file of every dead letter (none: off)"
    )
    max_bytes: Annotated[int, Field(ge=4096)] = 10 * 1024 * 1024
    backups: Annotated[int, Field(ge=1, le=100)] = 5
    max_payload_chars: Annotated[int, Field(ge=0, le=16 * 1024 * 1024)] = Field(
        default=MAX_PAYLOAD_BYTES,
        description="how much of a refused payload (or point) the dead_letter measurement "
        "keeps, in pieces of at most 60,000 bytes; the default keeps every message the "
        "contract accepts whole (for a replay); the log file always keeps everything",
    )


class CollectorSettings(StrictModel):
    """The whole collector configuration file."""

    collector_id: Ident = Field(
        default="collector-1",
        description="unique per instance; also names its MQTT session and presence topic",
    )
    mqtt: MqttSettings = Field(
        default_factory=lambda: MqttSettings(reconnect_max_s=COLLECTOR_RECONNECT_MAX_S),
        description="the broker; reconnects wait at most reconnect_max_s (5 s for a collector)",
    )
    subscription: str = Field(
        default=reading_filter(), min_length=1, description="MQTT topic filter for readings"
    )
    share_group: Ident | None = Field(
        default=None,
        description="share the subscription with other collectors ($share/<group>/...)",
    )
    session_expiry_s: Annotated[int, Field(ge=0, le=2**32 - 1)] = Field(
        default=7 * 24 * 3600,
        description="how long the broker keeps our session (and queues for us) while we are away",
    )
    presence_interval_s: Annotated[float, Field(ge=1, le=3600)] = Field(
        default=10.0,
        description="how often the retained online presence is published afresh (fresh ts)",
    )
    influxdb: InfluxSettings = Field(default_factory=InfluxV1Settings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    batch: BatchSettings = Field(default_factory=BatchSettings)
    validity: ValiditySettings = Field(default_factory=ValiditySettings)
    dead_letter: DeadLetterSettings = Field(default_factory=DeadLetterSettings)
    state: StateSettings = StateSettings()
    attendance: AttendanceSettings = Field(
        default_factory=AttendanceSettings,
        description="units, schedules, leave kinds, readers, holidays (``attendance`` commands)",
    )
    alerts: AlertsSection = Field(
        default_factory=AlertsSection,
        description="rules, notifications and the engine (``alerts`` commands)",
    )
    stats_interval_s: Annotated[float, Field(gt=0, le=3600)] = Field(
        default=10.0, description="how often the collector writes its own metrics"
    )
    stall_timeout_s: Annotated[float, Field(gt=0, le=3600)] = Field(
        default=60.0,
        description="exit (for the supervisor to restart us) when the storage side makes no "
        "progress for this long",
    )
    log_level: LogLevel = "info"

    @model_validator(mode="before")
    @classmethod
    def _collector_reconnect_default(cls, data: object) -> object:
        # The same MqttSettings as the agent's, with a collector's own default cap.
        mqtt = data.get("mqtt") if isinstance(data, dict) else None
        if isinstance(mqtt, dict) and "reconnect_max_s" not in mqtt:
            return {**data, "mqtt": {**mqtt, "reconnect_max_s": COLLECTOR_RECONNECT_MAX_S}}  # type: ignore[dict-item]
        return data

    @model_validator(mode="after")
    def _stall_outlasts_a_write(self) -> CollectorSettings:
        # A write may take influxdb.timeout_s to connect and as long again to answer; the
        # watchdog must not take a slow but live write for a stall.
        if self.stall_timeout_s < 3 * self.influxdb.timeout_s:
            raise ValueError(
                f"stall_timeout_s ({self.stall_timeout_s:g}) must be at least 3 x "
                f"influxdb.timeout_s ({self.influxdb.timeout_s:g})"
            )
        return self

    @property
    def client_id(self) -> str:
        """The MQTT client id of this instance's persistent session."""
        return f"pelangi-collector-{self.collector_id}"

    @property
    def subscribe_filter(self) -> str:
        """What is sent to the broker: the filter, inside ``$share/<group>/`` if shared."""
        if self.share_group is None:
            return self.subscription
        return f"$share/{self.share_group}/{self.subscription}"
