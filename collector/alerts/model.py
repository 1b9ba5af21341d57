"""The alert engine's values, shared by its rules, its store and its notifications. Pure.

An alert is identified by its :class:`AlertKey` (which rule, about which thing). The rules
move it through :class:`Phase`: ``pending`` (the condition holds, its "for" period has not
passed), ``firing``, then ``resolved`` (the clear condition held). Each move is a
:class:`Transition`; the transitions people hear of (firing, resolved) become
:class:`Notification` values, grouped per audience, that the store keeps in its outbox
until a channel has delivered them.

Times are aware datetimes (UTC inside, WITA in messages); nothing here reads a clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

    from collector.alerts.notify.digest import Digest


class Severity(StrEnum):
    """How urgent an alert is; critical rules skip the grouping wait by default."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class Audience(StrEnum):
    """Who an alert is routed to by default: doors and area watch to security, the rest to IT."""

    SECURITY = "security"
    IT = "it"


class Phase(StrEnum):
    """Where an alert stands. An alert never seen, or resolved and forgotten, has none."""

    PENDING = "pending"
    FIRING = "firing"
    RESOLVED = "resolved"


@dataclass(frozen=True, slots=True, order=True)
class AlertKey:
    """Which rule, about which thing: one alert at a time per key.

    Attributes:
        rule: the rule's name in the settings (e.g. ``door_held_open``).
        site: the site id.
        gateway: the gateway id ("" for a rule about the whole site).
        device: the device id on the gateway ("" for a rule about the gateway).
        item: a part of the device (a switch port's ifName, a card uid; "" for none).
    """

    rule: str
    site: str
    gateway: str = ""
    device: str = ""
    item: str = ""

    def __str__(self) -> str:
        """``door_held_open bukit-pelangi/gw-1/pintu-utama`` (the parts that are set)."""
        where = "/".join(part for part in (self.site, self.gateway, self.device, self.item) if part)
        return f"{self.rule} {where}"


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert as it stands.

    Attributes:
        key: what it is about.
        severity: from the rule's settings.
        audience: who is told.
        phase: where it stands.
        since: when its condition began to hold (the start of ``pending``).
        fired_at: when it fired (None: not yet).
        resolved_at: when it resolved (None: not yet).
        value: the current value in words, for messages (``terbuka 12 menit``, ``down``).
        labels: what messages show beside the key (building, port alias, employee...).
        suppressed_by: the alert whose cause explains this one (a gateway offline for its
            devices, a switch unreachable for its ports): not notified while it fires.
    """

    key: AlertKey
    severity: Severity
    audience: Audience
    phase: Phase
    since: datetime
    fired_at: datetime | None = None
    resolved_at: datetime | None = None
    value: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    suppressed_by: AlertKey | None = None


@dataclass(frozen=True, slots=True)
class Transition:
    """An alert moved to another phase at ``at`` (``previous`` None: it was not active).

    ``released``: the alert fired while suppressed and its cause has cleared (phase and
    previous both firing): people hear of it now, as if it had just fired.
    """

    alert: Alert
    previous: Phase | None
    at: datetime
    released: bool = False

    @property
    def notifies(self) -> bool:
        """Whether people hear of it: firing (or released), or resolved after having fired."""
        if self.alert.suppressed_by is not None:
            return False
        if self.alert.phase is Phase.FIRING:
            return self.previous is not Phase.FIRING or self.released
        return self.alert.phase is Phase.RESOLVED and self.previous is Phase.FIRING


class NotificationKind(StrEnum):
    """What a notification says about its alerts."""

    FIRING = "firing"
    RESOLVED = "resolved"
    REPEAT = "repeat"
    """Still firing: the repeat interval passed without a change."""
    DIGEST = "digest"
    TEST = "test"


@dataclass(frozen=True, slots=True)
class Notification:
    """One message to one audience: a group of alerts, or the digest, or a test.

    Attributes:
        id: unique and stable (the store's outbox key): sending twice is recognised.
        kind: what it says.
        audience: whose recipients get it.
        group: the grouping key (e.g. ``security bukit-pelangi``), for the subject line.
        alerts: the alerts it reports, as they stood when it was made.
        created_at: when it was made.
        digest: what a digest reports (kind ``digest`` only), as it stood when it was made.
    """

    id: str
    kind: NotificationKind
    audience: Audience
    group: str
    alerts: tuple[Alert, ...]
    created_at: datetime
    digest: Digest | None = None
