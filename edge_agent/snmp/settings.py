"""Configuration of the switches an agent polls (part of the agent's YAML file)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, SecretStr, model_validator

from pelangi.configfile import StrictModel
from pelangi.payloads import Ident


class SnmpV3User(StrictModel):
    """An SNMPv3 USM user with authPriv (authentication and encryption)."""

    user: str = Field(min_length=1, max_length=32)
    auth_key: SecretStr = Field(min_length=8, description="authentication pass phrase")
    priv_key: SecretStr = Field(min_length=8, description="privacy (encryption) pass phrase")
    auth_protocol: Literal["sha", "sha256"] = "sha"
    priv_protocol: Literal["aes128", "aes256"] = "aes128"


class SwitchSettings(StrictModel):
    """One network switch polled over SNMP."""

    id: Ident = Field(description="device id, unique on this gateway (topics and tags)")
    host: str = Field(min_length=1, description="the switch's management address")
    port: Annotated[int, Field(ge=1, le=65535)] = 161
    version: Literal["2c", "3"] = "2c"
    community: SecretStr | None = Field(default=None, description="SNMP v2c community")
    v3: SnmpV3User | None = Field(default=None, description="SNMP v3 user (authPriv)")
    interval_s: Annotated[float, Field(ge=1, le=3600)] = 60.0
    timeout_s: Annotated[float, Field(gt=0, le=30)] = 2.0
    retries: Annotated[int, Field(ge=0, le=5)] = 1
    max_repetitions: Annotated[int, Field(ge=1, le=100)] = Field(
        default=25, description="rows asked for per GETBULK request"
    )

    @model_validator(mode="after")
    def _credentials_match_version(self) -> SwitchSettings:
        if self.version == "2c" and self.community is None:
            msg = "SNMP version 2c needs 'community'"
            raise ValueError(msg)
        if self.version == "3" and self.v3 is None:
            msg = "SNMP version 3 needs a 'v3' section (user, auth_key, priv_key)"
            raise ValueError(msg)
        return self

    @property
    def address(self) -> str:
        """``host:port``, for log lines."""
        return f"{self.host}:{self.port}"
