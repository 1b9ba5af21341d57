"""MQTT connection settings and the one place a paho client is built.

Both deployables speak MQTT v5 through paho-mqtt 2.x with the same options for
authentication, TLS and reconnect pacing; this module keeps that in one place.
"""

from __future__ import annotations

import ssl
import time
from pathlib import Path
from typing import Annotated, TypeVar, overload

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from pydantic import Field, SecretStr

from pelangi.configfile import StrictModel

Port = Annotated[int, Field(ge=1, le=65535)]


class TlsSettings(StrictModel):
    """TLS towards the broker; omit the section for plain TCP on a trusted network."""

    ca_file: Path | None = Field(
        default=None, description="CA bundle that signed the broker's certificate"
    )
    cert_file: Path | None = Field(default=None, description="client certificate (mutual TLS)")
    key_file: Path | None = Field(default=None, description="client private key (mutual TLS)")


class MqttSettings(StrictModel):
    """Where the broker is and how to log in."""

    host: str = Field(default="127.0.0.1", min_length=1)
    port: Port = 1883
    username: str | None = None
    password: SecretStr | None = None
    tls: TlsSettings | None = None
    keepalive_s: Annotated[int, Field(ge=5, le=3600)] = 30
    reconnect_min_s: Annotated[float, Field(gt=0, le=60)] = 0.5
    reconnect_max_s: Annotated[float, Field(gt=0, le=3600)] = 30.0

    @property
    def address(self) -> str:
        """``host:port``, for log lines."""
        return f"{self.host}:{self.port}"


C = TypeVar("C", bound=paho.Client)


@overload
def make_client(
    settings: MqttSettings,
    client_id: str,
    *,
    manual_ack: bool = False,
    reconnect_on_failure: bool = True,
) -> paho.Client: ...


@overload
def make_client(
    settings: MqttSettings,
    client_id: str,
    *,
    manual_ack: bool = False,
    reconnect_on_failure: bool = True,
    client_class: type[C],
) -> C: ...


def make_client(
    settings: MqttSettings,
    client_id: str,
    *,
    manual_ack: bool = False,
    reconnect_on_failure: bool = True,
    client_class: type[paho.Client] = paho.Client,
) -> paho.Client:
    """Build (not connect) a paho MQTT v5 client configured from ``settings``.

    With ``reconnect_on_failure=False`` paho's network thread ends when the connection
    does (the caller reconnects with a new client, as the edge agent does).
    ``client_class`` lets a subclass of paho's client (the collector's) share the set-up.
    """
    client = client_class(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=paho.MQTTv5,
        manual_ack=manual_ack,
        reconnect_on_failure=reconnect_on_failure,
    )
    if settings.username is not None:
        password = settings.password.get_secret_value() if settings.password else None
        client.username_pw_set(settings.username, password)
    if settings.tls is not None:
        client.tls_set(
            ca_certs=str(settings.tls.ca_file) if settings.tls.ca_file else None,
            certfile=str(settings.tls.cert_file) if settings.tls.cert_file else None,
            keyfile=str(settings.tls.key_file) if settings.tls.key_file else None,
            tls_version=ssl.PROTOCOL_TLS_CLIENT,
        )
    # paho's own reconnect loop paces retries between these bounds (doubling each time).
    client.reconnect_delay_set(
        min_delay=max(1, round(settings.reconnect_min_s)),
        max_delay=max(1, round(settings.reconnect_max_s)),
    )
    return client


def disconnect_and_stop(client: paho.Client, timeout: float = 5.0) -> None:
    """Send DISCONNECT after everything already queued (acks!), then stop paho's thread.

    ``loop_stop()`` right after ``disconnect()`` can end the network thread before it has
    written the queued packets: the broker then never sees those PUBACKs (it re-delivers
    the messages) nor the DISCONNECT (it fires the Will). paho closes the socket once
    DISCONNECT is written, so wait for that, within ``timeout``.
    """
    client.disconnect()
    deadline = time.monotonic() + timeout
    while client.socket() is not None and time.monotonic() < deadline:
        time.sleep(0.005)
    client.loop_stop()
