"""The collector's broker checks: reachable, TLS, login, readings, receipts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from pelangi.doctor import Check, Finding, failed, passed
from pelangi.doctor.mqtt import LOGIN, ProbeError, connection_checks, session
from pelangi.topics import stored_topic

if TYPE_CHECKING:
    from collector.config import CollectorSettings

DOCTOR_GATEWAY: Final = "pelangi-doctor"
"""Site and gateway of the receipt probe: no real gateway has this id, so nobody reads it."""


def subscribe_readings(settings: CollectorSettings, client_id: str, timeout_s: float) -> Finding:
    """Whether the broker grants the subscription the collector makes (its SUBACK)."""
    topic_filter = settings.subscribe_filter
    try:
        with session(settings.mqtt, client_id, timeout_s) as probe:
            granted = probe.subscribe(topic_filter)
    except ProbeError as exc:
        return failed(str(exc), _acl_fix(settings))
    if granted.is_failure:
        return failed(
            f"the broker refused the subscription to {topic_filter}: {granted}", _acl_fix(settings)
        )
    # Mosquitto grants a subscription its ACL forbids and then delivers nothing; only a
    # gateway's reading proves reading, and doctor must not publish one.
    return passed(f"the broker grants the subscription to {topic_filter}")


def write_receipt(settings: CollectorSettings, client_id: str, timeout_s: float) -> Finding:
    """Whether the broker lets the collector publish receipts (on a gateway nobody runs)."""
    topic = stored_topic(DOCTOR_GATEWAY, DOCTOR_GATEWAY)
    try:
        with session(settings.mqtt, client_id, timeout_s) as probe:
            refused = probe.publish(topic, b"pelangi doctor: not a receipt")
    except ProbeError as exc:
        return failed(str(exc), _acl_fix(settings))
    if refused is not None:
        return failed(f"the broker refused a publish on {topic}: {refused}", _acl_fix(settings))
    return passed(f"may publish receipts (QoS 1 on {topic} acknowledged)")


def _acl_fix(settings: CollectorSettings) -> str:
    user = settings.mqtt.username or "anonymous"
    return (
        f"the broker's ACL must give user {user!r} read on pelangi/+/+/reading/+ and "
        "pelangi/+/+/status and write on pelangi/+/+/stored (see "
        "config/mosquitto/pelangi.acl), then reload the broker"
    )


def broker_checks(settings: CollectorSettings, timeout_s: float) -> list[Check]:
    """The broker checks in dependency order."""
    mqtt = settings.mqtt
    client_id = f"{settings.client_id}-doctor"
    after = timeout_s * 2 + 1
    return [
        *connection_checks(mqtt, client_id, timeout_s),
        Check(
            "subscribe to readings",
            lambda: subscribe_readings(settings, client_id, timeout_s),
            after,
            (LOGIN,),
        ),
        Check(
            "publish receipts",
            lambda: write_receipt(settings, client_id, timeout_s),
            after,
            (LOGIN,),
        ),
    ]
