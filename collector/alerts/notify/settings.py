"""Where alert notifications go and how: ``alerts.notify:`` in the collector's configuration.

Example (every key but ``smtp.host``, ``smtp.from`` and the recipients has a default)::

    notify:
      language: id                 # id (Bahasa Indonesia) or en
      smtp:
        host: mail.kutaitimurkab.go.id
        security: starttls         # starttls (port 587), tls (465) or none (25)
        username: pelangi
        password: "..."            # a secret: never printed
        from: "Pelangi <pelangi@kutaitimurkab.go.id>"
      recipients:
        security: [posjaga@kutaitimurkab.go.id]
        it: [diskominfo@kutaitimurkab.go.id]
      sites:
        sangatta-utara:            # this site's IT mail goes elsewhere; security as above
          it: [it-sangatta@kutaitimurkab.go.id]
      webhook:
        url: http://chat-gateway.local/hooks/pelangi
        headers: {Authorization: "Bearer ..."}   # secrets: never printed
      grouping: {group_wait_s: 30, group_interval_s: 300, repeat_interval_s: 14400}
      digest: {at: "07:00"}        # WITA
      hints:                       # what to check first, per rule (overrides the built-in text)
        port_down: "Periksa kabel uplink di rak lantai 2."
"""

from __future__ import annotations

import re
from datetime import time
from pathlib import Path
from typing import Annotated, Final, Literal

from pydantic import AfterValidator, ConfigDict, Field, SecretStr, model_validator

from collector.alerts.model import Audience
from pelangi.configfile import StrictModel

Language = Literal["id", "en"]
SmtpSecurity = Literal["starttls", "tls", "none"]

DEFAULT_PORTS: Final[dict[SmtpSecurity, int]] = {"starttls": 587, "tls": 465, "none": 25}
# Deliberately loose (RFC 5322 allows far more): one @, no spaces, a dot in the domain.
# Enough to catch a typo at start-up; the server has the last word, and is reported.
_ADDRESS: Final = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;.]+$")
_NAMED_ADDRESS: Final = re.compile(r"^(?P<name>[^<>]*)<(?P<address>[^<>]+)>$")


def _address(text: str) -> str:
    if not _ADDRESS.match(text):
        raise ValueError(f"expected an email address such as it@kutaitimurkab.go.id, got {text!r}")
    return text


def _sender(text: str) -> str:
    named = _NAMED_ADDRESS.match(text.strip())
    _address(named["address"].strip() if named else text)
    return text.strip()


Address = Annotated[str, AfterValidator(_address)]
"""One email address, checked loosely (see ``_ADDRESS``)."""


class SmtpSettings(StrictModel):
    """The mail server that sends the alert emails."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    host: str = Field(min_length=1)
    port: int | None = Field(default=None, ge=1, le=65535)
    """None: the usual port of ``security`` (587, 465 or 25)."""
    security: SmtpSecurity = "starttls"
    username: str | None = None
    password: SecretStr | None = None
    sender: Annotated[str, AfterValidator(_sender)] = Field(alias="from")
    """The From header: an address, or ``Name <address>``."""
    timeout_s: float = Field(default=10.0, gt=0, le=300)
    ca_file: Path | None = None
    """A CA certificate to trust besides the system's (an office's own mail server)."""

    @model_validator(mode="after")
    def _login_complete(self) -> SmtpSettings:
        if (self.username is None) != (self.password is None):
            raise ValueError("smtp.username and smtp.password go together: give both or neither")
        return self

    @property
    def effective_port(self) -> int:
        """The port to connect to."""
        return self.port if self.port is not None else DEFAULT_PORTS[self.security]

    @property
    def display(self) -> str:
        """``smtp://host:port`` for messages (never a password)."""
        return f"smtp://{self.host}:{self.effective_port}"


class Recipients(StrictModel):
    """Recipients per audience."""

    security: tuple[Address, ...] = ()
    """The guard post, liaison officers: doors and area watch."""
    it: tuple[Address, ...] = ()
    """Diskominfo: network, gateways, cards."""

    def of(self, audience: Audience) -> tuple[str, ...]:
        """The recipients of ``audience``."""
        return self.security if audience is Audience.SECURITY else self.it


class SiteRecipients(StrictModel):
    """A site's own recipients; an audience left out keeps the default list."""

    security: tuple[Address, ...] | None = None
    it: tuple[Address, ...] | None = None


class WebhookSettings(StrictModel):
    """A JSON POST per notification, e.g. to a chat gateway."""

    url: str = Field(pattern=r"^https?://[^\s/]+")
    headers: dict[str, SecretStr] = Field(default_factory=dict)
    """Extra request headers; their values may be tokens, so they are never printed."""
    timeout_s: float = Field(default=5.0, gt=0, le=120)


class GroupingSettings(StrictModel):
    """Alertmanager-like grouping (see :mod:`collector.alerts.notify.grouping`)."""

    by: Literal["site", "building"] = "site"
    """The group key beside the audience; ``building`` uses the alerts' ``building`` label."""
    group_wait_s: float = Field(default=30.0, ge=0, le=3600)
    group_interval_s: float = Field(default=300.0, gt=0, le=86400)
    repeat_interval_s: float = Field(default=14400.0, gt=0, le=7 * 86400)
    critical_skip_wait: bool = True


class DigestSettings(StrictModel):
    """The daily digest."""

    enabled: bool = True
    at: time = time(7, 0)
    """Local time (WITA) it goes out."""
    night_from: time = time(18, 0)
    """When the night whose open doors it lists begins, the evening before (WITA)."""
    audiences: tuple[Audience, ...] = (Audience.IT, Audience.SECURITY)


class NotifySettings(StrictModel):
    """Everything about notifications (see the module docstring)."""

    language: Language = "id"
    smtp: SmtpSettings | None = None
    recipients: Recipients = Recipients()
    sites: dict[str, SiteRecipients] = Field(default_factory=dict)
    webhook: WebhookSettings | None = None
    grouping: GroupingSettings = GroupingSettings()
    digest: DigestSettings = DigestSettings()
    hints: dict[str, str] = Field(default_factory=dict)
    """What to check first, per rule name, replacing the built-in hint."""

    def recipients_for(self, audience: Audience, site: str) -> tuple[str, ...]:
        """Who gets ``audience``'s mail about ``site``: the site's own list, else the default."""
        override = self.sites.get(site)
        own = getattr(override, audience.value) if override is not None else None
        return tuple(own) if own is not None else self.recipients.of(audience)
