"""The ``alerts:`` section of the collector's configuration: rules, notifications, the engine.

One section, three parts: the rules and what they watch (:class:`AlertSettings`: ``rules``,
``buildings``, ``overrides``, ``doors``, ``switches``, ``dependencies``), ``notify`` (SMTP,
recipients, webhook, grouping, digest: :class:`NotifySettings`) and ``engine`` (how
``pelangi-collector alerts run`` runs). ``config/alerts.example.yaml`` is the commented
example.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from collector.alerts.notify.settings import NotifySettings
from collector.alerts.settings import AlertSettings
from pelangi.configfile import StrictModel
from pelangi.payloads import Ident


class EngineSettings(StrictModel):
    """How the alert engine process runs."""

    engine_id: Ident = Field(
        default="alerts-1",
        description="unique per engine process: names its MQTT session and its lease holder",
    )
    mqtt_session: Ident | None = Field(
        default=None,
        description="the MQTT session (client id pelangi-alerts-<mqtt_session>) shared by "
        "the active engine and its standbys, so a standby taking over gets what its "
        "predecessor left unacked; default: engine_id",
    )
    tick_s: Annotated[float, Field(gt=0, le=60)] = Field(
        default=1.0, description="how often timers (held-open doors, heartbeats) are checked"
    )
    lease_ttl_s: Annotated[float, Field(ge=5, le=3600)] = Field(
        default=30.0,
        description="a standby takes over this long after the active engine last renewed",
    )
    session_expiry_s: Annotated[int, Field(ge=0, le=2**32 - 1)] = Field(
        default=7 * 24 * 3600,
        description="how long the broker queues readings for the engine while it is away",
    )
    write_to_influxdb: bool = Field(
        default=True, description="firing/resolved alerts as the `alert` measurement (Grafana)"
    )
    keep_days: Annotated[int, Field(ge=1, le=3650)] = Field(
        default=90,
        description="resolved alerts and the log of sent notifications are kept this long",
    )


class AlertsSection(AlertSettings):
    """The whole ``alerts:`` section."""

    notify: NotifySettings = Field(default_factory=NotifySettings)
    engine: EngineSettings = Field(default_factory=EngineSettings)


__all__ = ["AlertsSection", "EngineSettings"]
