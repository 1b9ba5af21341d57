"""Alert settings: defaults, partial rules, overrides, readable errors,
the shipped example; and the observations made from the wire contract."""

from __future__ import annotations

from pathlib import Path

import pytest

from collector.alerts.observations import (
    CardSeen,
    DoorSeen,
    GatewaySeen,
    HealthSeen,
    PortSeen,
    from_envelope,
    from_status,
    time_of,
)
from collector.alerts.rule_settings import DEFAULTS, NoData, RuleName, ThresholdSettings
from collector.alerts.settings import AlertSettings
from collector.config import CollectorSettings
from pelangi.configfile import load, parse
from pelangi.errors import ConfigError
from pelangi.liveness import GatewayStatus
from pelangi.payloads import Envelope

EXAMPLE = Path(__file__).resolve().parent.parent / "config" / "alerts.example.yaml"


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse(text, AlertSettings)
    return caught.value.problems


def test_the_example_is_valid() -> None:
    # The example is the whole `alerts:` section of a collector configuration file.
    whole = load(EXAMPLE, CollectorSettings)
    settings = whole.alerts
    assert settings.notify.smtp is not None
    assert settings.notify.recipients.security
    assert settings.engine.engine_id == "alerts-1"
    assert settings.rules.door_held_open_prealarm.enabled
    assert settings.rule(RuleName.DOOR_HELD_OPEN, "bukit-pelangi", "diskominfo").for_s == 120
    assert settings.building_of("bukit-pelangi", "gw-diskominfo") == "diskominfo"
    assert settings.guards_of("bukit-pelangi", "gw-kantor-bupati", "pintu-utama") == (
        ("gw-kantor-bupati", "rfid-lobby"),
    )


def test_defaults_route_doors_and_cards_to_security() -> None:
    rules = AlertSettings().rules
    security = {name for name in RuleName if rules.get(name).audience == "security"}
    assert security == {n for n in RuleName if n.value.startswith(("door_", "card_"))}
    assert rules.get(RuleName.DOOR_FORCED_OPEN).severity == "critical"
    assert set(DEFAULTS) == set(RuleName)


def test_a_rule_written_in_part_keeps_its_own_defaults() -> None:
    settings = parse("rules: {door_held_open_prealarm: {enabled: true}}", AlertSettings)
    prealarm = settings.rules.door_held_open_prealarm
    assert (prealarm.for_s, prealarm.severity) == (120, "info")  # not the class defaults


def test_overrides_building_beats_site_beats_base() -> None:
    settings = parse(
        """
        buildings: {gedung-a: {gateways: [gw-1]}}
        rules: {port_errors: {raise_above: 2, clear_below: 1}}
        overrides:
          - building: gedung-a
            rules: {port_errors: {raise_above: 8}}
          - site: s1
            rules: {port_errors: {raise_above: 4, for_s: 10}}
        """,
        AlertSettings,
    )
    in_a = settings.rule(RuleName.PORT_ERRORS, "s1", "gedung-a")
    assert isinstance(in_a, ThresholdSettings)
    assert (in_a.raise_above, in_a.for_s, in_a.clear_below) == (8, 10, 1)
    assert settings.rule(RuleName.PORT_ERRORS, "s2", None).raise_above == 2  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("rules: {door_held_open: {for_s: -1}}", "rules.door_held_open.for_s: got -1"),
        ("rules: {door_held_open: {hold: 3}}", "rules.door_held_open.hold: unknown key"),
        ("rules: {port_errors: {clear_below: 5}}", "rules.port_errors: clear_below (5)"),
        ("rules: {port_down: {no_data: fire}}", "rules.port_down: no_data: 'fire' needs no_data_s"),
        ("overrides: [{rules: {}}]", "overrides[0]: an override needs `site`, `building`"),
        ("overrides: [{building: x, rules: {}}]", "overrides[0].building: unknown building 'x'"),
        (
            "overrides: [{site: s, rules: {card_unknown: {count: 0}}}]",
            "overrides[0].rules.card_unknown.count: got 0",
        ),
        (
            "overrides: [{site: s, rules: {port_errors: {clear_below: 9}}}]",
            "overrides (s).rules.port_errors: clear_below (9)",
        ),
        ("doors: [{door: pintu, readers: [gw/r]}]", "doors[0].door: got 'pintu'"),
        (
            "buildings: {a: {gateways: [gw-1]}, b: {gateways: [gw-1]}}",
            "buildings.b.gateways[0]: 'gw-1' is already in building 'a'",
        ),
    ],
)
def test_errors_name_the_key(text: str, expected: str) -> None:
    assert any(expected in line for line in problems(text)), problems(text)


def test_no_data_is_explicit() -> None:
    rule = parse("rules: {port_down: {no_data: resolve, no_data_s: 60}}", AlertSettings)
    assert rule.rules.port_down.no_data is NoData.RESOLVE


def test_observations_from_an_envelope() -> None:
    envelope = Envelope.model_validate(
        {
            "v": 1,
            "site": "s",
            "gateway": "g",
            "device": "d",
            "historical": True,
            "readings": [
                {
                    "kind": "door",
                    "seq": 1,
                    "ts": 1_775_440_800_000_000_000,
                    "state": "open",
                    "change": True,
                },
                {
                    "kind": "card_read",
                    "seq": 2,
                    "ts": 1_775_440_800_000_001_000,
                    "card": {"raw": "01001293D8", "uid": "001293D8", "bits": 32},
                },
                {
                    "kind": "interface",
                    "seq": 3,
                    "ts": 1_775_440_800_000_002_000,
                    "if_index": 1,
                    "port": "Gi0/1",
                    "oper": "up",
                    "in_errors_ps": 1.5,
                    "out_errors_ps": 0.5,
                },
                {
                    "kind": "agent_health",
                    "seq": 4,
                    "ts": 1_775_440_800_000_003_000,
                    "uptime_s": 5,
                    "counters": {
                        "outbox.evicted.telemetry.size": 3,
                        "fallback.dropped.event": 2,
                        "outbox.oldest_age_s": 90,
                        "mqtt.bdseq": 7,
                    },
                    "problems": ["disk full"],
                },
            ],
        }
    )
    door, card, port, health = from_envelope(envelope)
    assert isinstance(door, DoorSeen)
    assert (door.state, door.change, door.source.historical) == ("open", True, True)
    assert door.source.at == time_of(1_775_440_800_000_000_000)
    assert isinstance(card, CardSeen)
    assert (card.uid, card.printed) == ("001293D8", "0001217496")
    assert isinstance(port, PortSeen)
    assert (port.errors_ps, port.discards_ps) == (2.0, None)
    assert isinstance(health, HealthSeen)
    assert (health.lost, health.oldest_age_s, health.problems) == (5, 90.0, ("disk full",))


def test_observation_of_a_birth() -> None:
    status = GatewayStatus(site="s", gateway="g", online=True, bdseq=3, ts=10**18, heartbeat_s=30)
    seen = from_status(status)
    assert isinstance(seen, GatewaySeen)
    assert (seen.online, seen.bdseq, seen.heartbeat_s, seen.source.device) == (True, 3, 30, "")
