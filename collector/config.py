"""The collector's configuration file (YAML), validated by pydantic.

See ``config/collector.example.yaml`` for a commented example and the README for the
full reference.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, SecretStr

from pelangi.configfile import StrictModel
from pelangi.logs import LogLevel
from pelangi.mqtt import MqttSettings
from pelangi.payloads import Ident
from pelangi.topics import reading_filter


class InfluxV1Settings(StrictModel):
    """InfluxDB 1.x HTTP API (``/write``, ``/query``): what Debian and Ubuntu package."""

    backend: Literal["influxdb1"] = "influxdb1"
    url: str = Field(default="http://127.0.0.1:8086", pattern=r"^https?://[^\s/]+(/[^\s]*)?$")
    database: str = Field(default="pelangi", min_length=1, max_length=255)
    retention_policy: str | None = Field(
        default=None, description="write into this retention policy instead of the default"
    )
    username: str | None = None
    password: SecretStr | None = None
    timeout_s: Annotated[float, Field(gt=0, le=300)] = Field(
        default=10.0, description="longest wait for InfluxDB to answer one request"
    )
    gzip: bool = Field(
        default=False, description="compress write requests (worth it over slow links only)"
    )


class BatchSettings(StrictModel):
    """How readings are grouped into InfluxDB writes."""

    max_points: Annotated[int, Field(ge=1, le=100_000)] = 5000
    max_delay_ms: Annotated[int, Field(ge=1, le=10_000)] = Field(
        default=200, description="longest a reading waits for its batch to fill"
    )
    max_unacked: Annotated[int, Field(ge=1, le=65_535)] = Field(
        default=20_000,
        description="most MQTT messages held in memory before they are stored and acknowledged; "
        "when reached, the collector stops reading from the broker until storage catches up "
        "(also sent to the broker as Receive Maximum)",
    )


class CollectorSettings(StrictModel):
    """The whole collector configuration file."""

    collector_id: Ident = Field(
        default="collector-1",
        description="unique per instance; also the MQTT client id of its persistent session",
    )
    mqtt: MqttSettings = Field(default_factory=MqttSettings)
    subscription: str = Field(
        default=reading_filter(), min_length=1, description="MQTT topic filter for readings"
    )
    session_expiry_s: Annotated[int, Field(ge=0, le=2**32 - 1)] = Field(
        default=7 * 24 * 3600,
        description="how long the broker keeps our session (and queues for us) while we are away",
    )
    influxdb: InfluxV1Settings = Field(default_factory=InfluxV1Settings)
    batch: BatchSettings = Field(default_factory=BatchSettings)
    log_level: LogLevel = "info"

    @property
    def client_id(self) -> str:
        """The MQTT client id of this instance's persistent session."""
        return f"pelangi-collector-{self.collector_id}"
