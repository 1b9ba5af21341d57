"""Doctor tests' broker: logins and ACL made as ``pelangi-collector gateway add`` makes them."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Final

from pydantic import SecretStr

from collector.gateways.acl import GatewayAccess
from collector.gateways.files import editing
from collector.gateways.passwd import hash_password
from collector.presence import presence_payload
from pelangi.doctor.mqtt import session
from pelangi.mqtt import MqttSettings
from pelangi.topics import collector_state_topic
from sandbox.processes import SandboxError
from sandbox.servers import Mosquitto

REFERENCE_ACL: Final = Path(__file__).resolve().parents[1] / "config" / "mosquitto" / "pelangi.acl"
SITE: Final = "bukit-pelangi"
GATEWAY: Final = "gw-1"
NO_ACL: Final = "gw-noacl"
"""A gateway with a login but no ACL lines (added by hand, not by ``gateway add``)."""
PASSWORD: Final = "rahasia"  # noqa: S105 - a throwaway test login
COLLECTOR_USER: Final = "pelangi-collector"
COLLECTOR_PASSWORD: Final = "kolektor-rahasia"  # noqa: S105 - a test login


def broker_with_logins(folder: Path) -> Mosquitto:
    """A broker admitting gw-1 (with its ACL lines), gw-noacl and the collector's user.

    The files are written by the same code as ``pelangi-collector gateway add``.
    """
    folder.mkdir(parents=True, exist_ok=True)
    passwd, acl = folder / "pelangi.passwd", folder / "pelangi.acl"
    acl.write_text(REFERENCE_ACL.read_text())
    with editing(passwd, acl) as both:
        both.passwd = both.passwd.with_user(GATEWAY, hash_password(PASSWORD))
        both.passwd = both.passwd.with_user(NO_ACL, hash_password(PASSWORD))
        both.passwd = both.passwd.with_user(COLLECTOR_USER, hash_password(COLLECTOR_PASSWORD))
        both.acl = both.acl.with_gateway(GatewayAccess(SITE, GATEWAY, GATEWAY))
    return Mosquitto.with_logins(folder / "mosquitto", passwd, acl)


def collector_login(broker: Mosquitto) -> MqttSettings:
    """The collector user's settings for ``broker``."""
    return MqttSettings(
        host=broker.host,
        port=broker.port,
        username=COLLECTOR_USER,
        password=SecretStr(COLLECTOR_PASSWORD),
    )


def announce_collector(broker: Mosquitto, collector: str, *, ts_ns: int | None = None) -> None:
    """Publish a retained online presence of ``collector`` stamped ``ts_ns`` (default: now)."""
    settings = collector_login(broker)
    payload = presence_payload(collector, online=True, ts=ts_ns or time.time_ns())
    with session(settings, f"test-presence-{collector}", 5.0) as probe:
        refused = probe.publish(collector_state_topic(collector), payload, retain=True)
    if refused is not None:
        raise SandboxError(f"cannot announce collector {collector}: {refused}")


def fake_timedatectl(folder: Path, answer: str) -> str:
    """A ``timedatectl`` in ``folder`` answering ``answer`` to anything; the PATH to find it.

    This sandbox has no NTP (nor systemd), so an all-green doctor run needs one saying yes.
    """
    folder.mkdir(parents=True, exist_ok=True)
    tool = folder / "timedatectl"
    tool.write_text(f"#!/bin/sh\necho {answer}\n")
    tool.chmod(0o755)
    return f"{folder}{os.pathsep}{os.environ['PATH']}"
