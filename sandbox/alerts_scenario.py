"""The alert engine's scenario for its service tests: a configuration, and messages to publish.

:func:`engine_config` writes a collector configuration whose alert engine watches gateway
``gw-1`` of ``bukit-pelangi`` (door ``pintu-utama``, switch ``sw-core``) with short
timings, mails through a given SMTP server and runs on a given state database;
:class:`Publisher` sends readings and gateway status over MQTT at QoS 1 the way an agent
does, returning once the broker has each message (from that gateway unless a
:class:`Place` says otherwise: the benchmark's other sites and devices).
:class:`EngineServers` holds the servers an engine runs against, and writes its
configuration for them.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import yaml

from pelangi.liveness import GatewayStatus
from pelangi.mqtt import MqttSettings, disconnect_and_stop, make_client
from pelangi.payloads import DoorReading, Envelope, PortChange, encode
from pelangi.topics import ReadingTopic, reading_filter, status_topic
from sandbox.waiting import wait_until

if TYPE_CHECKING:
    from pathlib import Path

    from collector.state import StateSettings
    from sandbox.servers import InfluxDB, Mosquitto
    from sandbox.servers.smtp import Smtp

SITE: Final = "bukit-pelangi"
GATEWAY: Final = "gw-1"
DOOR: Final = "pintu-utama"
SWITCH: Final = "sw-core"
SECURITY: Final = "pos-satpam@kutaitimurkab.go.id"
IT: Final = "diskominfo@kutaitimurkab.go.id"
DAY_NS: Final = 86_400 * 1_000_000_000
SESSION: Final = "pelangi-alerts-shared"
"""The MQTT client id of the scenario's engines (``engine.mqtt_session`` ``shared``)."""


def plain_smtp(port: int) -> dict[str, Any]:
    """The ``alerts.notify.smtp`` section for the test SMTP server on ``port`` (plain, no login)."""
    return {
        "host": "127.0.0.1",
        "port": port,
        "security": "none",
        "from": "Pelangi <pelangi@kutaitimurkab.go.id>",
        "timeout_s": 5,
    }


@dataclass(frozen=True, slots=True)
class Place:
    """Where a reading comes from: a device of the scenario's gateway unless told otherwise."""

    device: str
    site: str = SITE
    gateway: str = GATEWAY


AT_DOOR: Final = Place(DOOR)
AT_SWITCH: Final = Place(SWITCH)


def engine_config(  # noqa: PLR0913 - one configuration's parts
    path: Path,
    *,
    mqtt_port: int,
    smtp_port: int,
    state: StateSettings,
    influx_url: str,
    influx_db: str,
    engine_id: str = "alerts-1",
    group_wait_s: float = 0.5,
    security: tuple[str, ...] = (SECURITY,),
    webhook_url: str | None = None,
    digest: dict[str, Any] | None = None,
    alerts: dict[str, Any] | None = None,
) -> Path:
    """Write the scenario's configuration to ``path`` and return it.

    ``security``: the security recipients; ``webhook_url``: post there too (None: no webhook);
    ``digest``: the ``notify.digest`` keys (None: no digest, so a test counting alert
    emails is not handed the morning digest whenever it runs after 07:00 WITA);
    ``alerts``: more keys of the ``alerts`` section (``doors``, ``switches``...).
    """
    values: dict[str, Any] = {
        "collector_id": "collector-1",
        "mqtt": {"host": "127.0.0.1", "port": mqtt_port, "reconnect_max_s": 1.0},
        "influxdb": {"backend": "influxdb1", "url": influx_url, "database": influx_db},
        "state": {"url": state.url}
        | ({"password": state.password.get_secret_value()} if state.password else {}),
        "alerts": {
            "rules": {
                "door_held_open": {"for_s": 1},
                "port_down": {"ports": "all", "for_s": 0},
                "gateway_offline": {"for_s": 0},
                "door_after_hours": {"enabled": False},
                "door_forced_open": {"enabled": False},
            },
            "dependencies": {"settle_s": 5},
            "notify": {
                "smtp": plain_smtp(smtp_port),
                "recipients": {"security": list(security), "it": [IT]},
                "grouping": {
                    "group_wait_s": group_wait_s,
                    "group_interval_s": 2,
                    "critical_skip_wait": False,
                },
                "digest": {"enabled": False} if digest is None else digest,
            },
            "engine": {
                "engine_id": engine_id,
                "mqtt_session": "shared",
                "tick_s": 0.1,
                "lease_ttl_s": 5,
            },
        },
    }
    if webhook_url is not None:
        values["alerts"]["notify"]["webhook"] = {"url": webhook_url, "timeout_s": 5}
    values["alerts"] |= alerts or {}
    path.write_text(yaml.safe_dump(values, sort_keys=False))
    return path


@dataclass(frozen=True, slots=True)
class EngineServers:
    """The servers an alert engine of the scenario runs against."""

    mosquitto: Mosquitto
    smtp: Smtp
    state: StateSettings
    influx: InfluxDB
    influx_db: str

    def config(self, path: Path, **options: Any) -> Path:  # noqa: ANN401 - engine_config's
        """The scenario's configuration on these servers (``options``: :func:`engine_config`)."""
        return engine_config(
            path,
            mqtt_port=self.mosquitto.port,
            smtp_port=self.smtp.port,
            state=self.state,
            influx_url=self.influx.url,
            influx_db=self.influx_db,
            **options,
        )

    def wait_subscribed(self, timeout: float = 15.0) -> None:
        """Return once an engine has subscribed to the readings (else raise)."""
        wait_until(
            lambda: self.mosquitto.has_subscribed(SESSION, reading_filter()),
            timeout=timeout,
            what="the engine has subscribed",
        )


class Publisher:
    """Publishes the scenario's messages at QoS 1 (a gateway's agent, reduced)."""

    def __init__(self, mqtt_port: int) -> None:
        """Connect to the broker on ``mqtt_port``."""
        self._client = make_client(MqttSettings(port=mqtt_port), f"scenario-{time.time_ns()}")
        self._client.connect("127.0.0.1", mqtt_port)
        self._client.loop_start()
        self._seq = itertools.count(1)

    def close(self) -> None:
        """Disconnect after what was published."""
        disconnect_and_stop(self._client)

    def _send(self, topic: str, payload: bytes) -> None:
        self._client.publish(topic, payload, qos=1).wait_for_publish(10.0)

    def reading(
        self,
        device: str,
        readings: list[Any],
        *,
        historical: bool = False,
        site: str = SITE,
        gateway: str = GATEWAY,
    ) -> None:
        """One envelope of ``readings`` (dicts without ``seq``) from ``device``."""
        envelope = Envelope.model_validate(
            {
                "v": 1,
                "site": site,
                "gateway": gateway,
                "device": device,
                "historical": historical,
                "readings": [{"seq": next(self._seq)} | r for r in readings],
            }
        )
        self._send(str(ReadingTopic(site, gateway, device)), encode(envelope))

    def door(
        self,
        state: str,
        *,
        change: bool = True,
        ts: int | None = None,
        historical: bool = False,
        where: Place = AT_DOOR,
    ) -> None:
        """The door is ``state`` (at ``ts`` ns, default now): a change, or a re-statement."""
        reading = DoorReading(seq=1, ts=ts or time.time_ns(), state=state, change=change)
        self._one(where, reading, historical=historical)

    def port_down(
        self,
        port: str,
        *,
        ts: int | None = None,
        historical: bool = False,
        where: Place = AT_SWITCH,
    ) -> None:
        """Port ``port`` of the switch went down."""
        change = PortChange(
            seq=1, ts=ts or time.time_ns(), if_index=1, port=port, previous="up", current="down"
        )
        self._one(where, change, historical=historical)

    def _one(self, place: Place, reading: DoorReading | PortChange, *, historical: bool) -> None:
        self.reading(
            place.device,
            [reading.model_dump(exclude={"seq"})],
            historical=historical,
            site=place.site,
            gateway=place.gateway,
        )

    def status(
        self,
        *,
        online: bool,
        bdseq: int = 1,
        devices: tuple[str, ...] = (),
        site: str = SITE,
        gateway: str = GATEWAY,
    ) -> None:
        """The gateway's birth (``online``) or its Will, retained as an agent sends them."""
        status = GatewayStatus(
            site=site,
            gateway=gateway,
            online=online,
            bdseq=bdseq,
            ts=time.time_ns(),
            devices=devices,
            heartbeat_s=30 if online else None,
        )
        payload = status.model_dump_json(exclude_none=True).encode()
        self._client.publish(
            status_topic(site, gateway), payload, qos=1, retain=True
        ).wait_for_publish(10.0)


__all__ = [
    "AT_DOOR",
    "AT_SWITCH",
    "DAY_NS",
    "DOOR",
    "GATEWAY",
    "IT",
    "SECURITY",
    "SESSION",
    "SITE",
    "SWITCH",
    "EngineServers",
    "Place",
    "Publisher",
    "engine_config",
    "plain_smtp",
]
