"""The engine's configuration for the benchmark: the pilot's sites, and the alarms' own.

Three kinds of places, each named so an email tells which alert it reports:

- the pilot (:data:`PILOT_SITE`): the load whose CPU and RSS are measured; nothing there
  should alert (its doors close well within the hold time, its switches have no critical
  port);
- ``alarm-NNN`` sites (:func:`alarm_place`): one switch each whose critical port goes down,
  for the threshold latency (a). ``port_down`` is critical by default; its ``for_s`` (30 s
  by default, a confirmation delay) is set to 0 so the alert fires on the reading itself;
- ``held-NNN`` sites (:func:`held_place`): one door each, held open past the hold time, for
  the timer latency (b); the ``held`` building's override makes ``door_held_open`` short
  and critical (by default it is a warning, which waits ``group_wait_s``).

One site per alert: grouping is per audience and site, so no two measured alerts can be
merged into one email however close together they fire.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

import yaml

from sandbox.alerts_scenario import IT, SECURITY, SITE, Place, plain_smtp

if TYPE_CHECKING:
    from pathlib import Path

ENGINE_ID: Final = "alerts-bench"
CLIENT_ID: Final = f"pelangi-alerts-{ENGINE_ID}"
"""The engine's MQTT client id (``pelangi-alerts-<mqtt_session>``, the session its id)."""
PILOT_SITE: Final = SITE


def alarm_place(number: int) -> Place:
    """The switch of threshold alarm ``number``, on site ``alarm-NNN`` (zero-padded)."""
    return Place("sw-alarm", f"alarm-{number:03d}", "gw-alarm")


def held_place(number: int) -> Place:
    """The door of held-open alarm ``number`` (site ``held-NNN``)."""
    return Place("pintu-held", f"held-{number:03d}", "gw-held")


ALARM_PORT: Final = "uplink"
"""The critical port of every alarm switch."""
HELD_BUILDING: Final = "held"
"""The building of every held-open door: its override shortens the hold time."""


def write_config(
    path: Path, *, mqtt_port: int, smtp_port: int, state_url: str, held_for_s: float
) -> Path:
    """Write the collector configuration the engine runs with to ``path``; return it.

    Everything not named keeps its default: ``tick_s`` 1 s, grouping (``group_wait_s`` 30,
    ``critical_skip_wait`` on), the lease. InfluxDB annotations are off (the engine's
    only InfluxDB work; not part of what is timed).
    """
    alarm, held = alarm_place(0), held_place(0)  # every number: the same gateway and device
    values: dict[str, Any] = {
        "collector_id": "collector-bench",
        "mqtt": {"host": "127.0.0.1", "port": mqtt_port},
        "state": {"url": state_url},
        "alerts": {
            "rules": {
                "port_down": {"for_s": 0},
                # Every tap of the pilot is a card the empty registry does not know, and
                # the benchmark may run at night (WITA): neither should mail.
                "card_unknown": {"enabled": False},
                "card_inactive": {"enabled": False},
                "door_after_hours": {"enabled": False},
            },
            "buildings": {HELD_BUILDING: {"gateways": [held.gateway]}},
            "overrides": [
                {
                    "building": HELD_BUILDING,
                    "rules": {"door_held_open": {"for_s": held_for_s, "severity": "critical"}},
                }
            ],
            "switches": [
                {"switch": f"{alarm.gateway}/{alarm.device}", "critical_ports": [ALARM_PORT]}
            ],
            "notify": {
                "smtp": plain_smtp(smtp_port),
                "recipients": {"security": [SECURITY], "it": [IT]},
                # Its InfluxDB reads and its message are not what is measured here.
                "digest": {"enabled": False},
            },
            "engine": {"engine_id": ENGINE_ID, "write_to_influxdb": False},
        },
    }
    path.write_text(yaml.safe_dump(values, sort_keys=False), encoding="utf-8")
    return path
