"""The MQTT topic scheme, defined once for the agent and the collector.

Every gateway owns one subtree, ``pelangi/<site>/<gateway>/#``, so a broker ACL can
confine it there (Mosquitto: ``pattern readwrite pelangi/+/%u/#`` with the gateway id as
user name). Inside it:

========================================  ==============================================
``pelangi/<site>/<gateway>/reading/<dev>``  readings of one device (payload: an envelope)
``pelangi/<site>/<gateway>/status``         the gateway's own liveness (birth, death)
``pelangi/<site>/<gateway>/cmd/<command>``  commands to the gateway (e.g. rebirth)
``pelangi/<site>/<gateway>/stored``         receipts: which readings a collector stored
========================================  ==============================================

Collectors announce themselves outside any gateway's subtree, under
``pelangi-host/<collector>/state``, so no gateway can forge a collector's presence.

Identifiers (site, gateway, device, collector) are 1 to 64 characters of ASCII letters,
digits, ``_``, ``-`` and ``.``, starting with a letter or digit: no MQTT wildcards, no
separators, safe as InfluxDB tags and file names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from pelangi.errors import TopicError

ROOT: Final = "pelangi"
HOST_ROOT: Final = "pelangi-host"
IDENT_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
_IDENT = re.compile(IDENT_PATTERN)


def check_ident(value: str, what: str) -> str:
    """Return ``value`` if it is a valid identifier, else raise :class:`TopicError`."""
    if not _IDENT.fullmatch(value):
        raise TopicError(
            f"{what} {value!r} is not a valid identifier: expected 1-64 characters of "
            "letters, digits, '_', '-' or '.', starting with a letter or digit"
        )
    return value


@dataclass(frozen=True, slots=True)
class ReadingTopic:
    """Where a device's readings are published: site, gateway and device."""

    site: str
    gateway: str
    device: str

    def __post_init__(self) -> None:
        """Reject identifiers that would break the scheme."""
        check_ident(self.site, "site")
        check_ident(self.gateway, "gateway")
        check_ident(self.device, "device")

    def __str__(self) -> str:
        """Render the topic string."""
        return f"{ROOT}/{self.site}/{self.gateway}/reading/{self.device}"


def parse_reading_topic(topic: str) -> ReadingTopic:
    """Split a reading topic into site, gateway and device.

    Raises:
        TopicError: the topic is not ``pelangi/<site>/<gateway>/reading/<device>``.
    """
    parts = topic.split("/")
    if len(parts) != 5 or parts[0] != ROOT or parts[3] != "reading":
        raise TopicError(
            f"topic {topic!r} is not a reading topic: expected "
            f"'{ROOT}/<site>/<gateway>/reading/<device>'"
        )
    return ReadingTopic(site=parts[1], gateway=parts[2], device=parts[4])


def reading_filter(site: str = "+", gateway: str = "+") -> str:
    """Return the subscription filter for readings (all sites and gateways by default)."""
    return f"{ROOT}/{site}/{gateway}/reading/+"


def gateway_subtree(site: str, gateway: str) -> str:
    """Return the filter of everything one gateway owns (what its ACL should allow)."""
    return f"{ROOT}/{check_ident(site, 'site')}/{check_ident(gateway, 'gateway')}/#"


def status_topic(site: str, gateway: str) -> str:
    """Return the gateway's liveness topic (birth, death, heartbeat)."""
    return f"{ROOT}/{check_ident(site, 'site')}/{check_ident(gateway, 'gateway')}/status"


def status_filter() -> str:
    """Return the subscription filter for every gateway's liveness topic."""
    return f"{ROOT}/+/+/status"


def command_topic(site: str, gateway: str, command: str) -> str:
    """Return the topic on which a gateway receives ``command``."""
    return (
        f"{ROOT}/{check_ident(site, 'site')}/{check_ident(gateway, 'gateway')}"
        f"/cmd/{check_ident(command, 'command')}"
    )


def stored_topic(site: str, gateway: str) -> str:
    """Return the topic on which collectors tell a gateway which of its readings are stored."""
    return f"{ROOT}/{check_ident(site, 'site')}/{check_ident(gateway, 'gateway')}/stored"


def collector_state_topic(collector_id: str) -> str:
    """Return the retained online/offline topic of one collector."""
    return f"{HOST_ROOT}/{check_ident(collector_id, 'collector id')}/state"


def collector_state_filter() -> str:
    """Return the subscription filter for every collector's presence."""
    return f"{HOST_ROOT}/+/state"


def parse_collector_state_topic(topic: str) -> str | None:
    """Return the collector id of a presence topic, or None if ``topic`` is not one.

    None rather than an error: an agent subscribed to ``pelangi-host/+/state`` may see
    anything a collector's user can publish there, and simply ignores what is not a
    presence topic.
    """
    parts = topic.split("/")
    if len(parts) != 3 or parts[0] != HOST_ROOT or parts[2] != "state":
        return None
    return parts[1] if _IDENT.fullmatch(parts[1]) else None
