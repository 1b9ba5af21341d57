"""The agent's broker checks: reachable, TLS, login, ACL round trip, collectors, clock."""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Final

from edge_agent.toolkit.doctor.clock import judge_clock
from pelangi.doctor import Check, Finding, failed, passed, warned
from pelangi.doctor.mqtt import LOGIN, ProbeError, connection_checks, retained, round_trip
from pelangi.errors import PayloadError
from pelangi.liveness import CollectorState, decode_liveness
from pelangi.receipts import PRESENCE_INTERVAL_PROPERTY
from pelangi.topics import ROOT, collector_state_filter, parse_collector_state_topic

if TYPE_CHECKING:
    from edge_agent.config import AgentSettings
    from pelangi.doctor.mqtt import Arrival

DEFAULT_PRESENCE_INTERVAL_S: Final = 10.0
"""A presence without its interval property: the collector's default interval."""

ACL: Final = "publish allowed (ACL)"
COLLECTOR: Final = "collector online"
CLOCK: Final = "gateway clock"


def doctor_topic(settings: AgentSettings) -> str:
    """The round-trip topic: in the gateway's own subtree, where no collector listens."""
    return f"{ROOT}/{settings.site}/{settings.gateway}/doctor"


@dataclass(frozen=True, slots=True)
class Seen:
    """One collector's presence as doctor received it."""

    state: CollectorState
    interval_s: float
    received_ns: int


def broker_checks(settings: AgentSettings, timeout_s: float) -> list[Check]:
    """The checks of the broker and of the collectors behind it, in dependency order."""
    mqtt = settings.mqtt
    client_id = f"{settings.client_id}-doctor"
    topic = doctor_topic(settings)
    # Both the collector check and the clock check read the same presences: fetch once.
    presences = functools.cache(lambda: _presences(settings, client_id, topic, timeout_s))
    after = timeout_s * 2 + 1  # a check's own timeouts inside, then the runner's
    return [
        *connection_checks(mqtt, client_id, timeout_s),
        Check(ACL, lambda: round_trip(mqtt, client_id, topic, timeout_s), after * 2, (LOGIN,)),
        Check(COLLECTOR, lambda: collectors(settings, presences()), after * 2, (ACL,)),
        Check(CLOCK, lambda: clock(settings, presences(), time.time_ns()), after * 2, (ACL,)),
    ]


def _presences(
    settings: AgentSettings, client_id: str, marker: str, timeout_s: float
) -> list[Seen] | ProbeError:
    try:
        arrivals = retained(settings.mqtt, client_id, collector_state_filter(), marker, timeout_s)
    except ProbeError as exc:
        return exc
    return [seen for seen in map(_seen, arrivals) if seen is not None]


def _seen(arrival: Arrival) -> Seen | None:
    message = arrival.message
    if parse_collector_state_topic(message.topic) is None:
        return None
    try:
        state = decode_liveness(bytes(message.payload), CollectorState)
    except PayloadError:
        return None
    interval = DEFAULT_PRESENCE_INTERVAL_S
    for key, value in getattr(message.properties, "UserProperty", None) or []:
        if key == PRESENCE_INTERVAL_PROPERTY:
            try:
                interval = float(value)
            except ValueError:
                continue
    return Seen(state, interval, arrival.at_ns)


def collectors(settings: AgentSettings, seen: list[Seen] | ProbeError) -> Finding:
    """Whether the collectors the agent waits for are online."""
    if isinstance(seen, ProbeError):
        return failed(f"cannot read the collectors' presence: {seen}", _READ_FIX)
    online = sorted(s.state.collector for s in seen if s.state.online)
    offline = sorted(s.state.collector for s in seen if not s.state.online)
    start_fix = (
        "start the collector on its host (sudo systemctl start pelangi-collector) and check "
        "its log; until then readings wait in this gateway's outbox"
    )
    if isinstance(settings.primary_collectors, list):
        missing = [c for c in settings.primary_collectors if c not in online]
        if missing:
            return failed(f"primary collector(s) not online: {', '.join(missing)}", start_fix)
    if online:
        also = f"; offline: {', '.join(offline)}" if offline else ""
        return passed(f"online: {', '.join(online)}{also}")
    if offline:
        return failed(f"no collector online (offline: {', '.join(offline)})", start_fix)
    return warned(
        "no collector has ever announced itself on this broker",
        "check that the collector points at this broker (mqtt.host in its config) and runs",
    )


def clock(settings: AgentSettings, seen: list[Seen] | ProbeError, now_ns: int) -> Finding:
    """The gateway's clock against the freshest online collector's presence ``ts``."""
    if isinstance(seen, ProbeError):
        return failed(f"cannot read the collectors' presence: {seen}", _READ_FIX)
    online = [s for s in seen if s.state.online]
    if not online:
        return warned(
            "no online collector to compare the clock with",
            "start a collector (see above), then run doctor again",
        )
    freshest = max(online, key=lambda s: s.state.ts)
    # The presence may be up to one interval old, and it took (now - received) to get here.
    waited_s = max(0, now_ns - freshest.received_ns) / 1e9
    source = f"collector {freshest.state.collector}"
    finding = judge_clock(
        freshest.state.ts,
        now_ns,
        max_age_s=freshest.interval_s + waited_s,
        source=source,
        warn_beyond_s=settings.clock_tolerance_s,
    )
    if finding.status != "ok" and freshest.state.ts < now_ns:
        # An old ts also means a presence left behind by a collector that died without its
        # Will (a broker restart can lose it): then the clock is fine and the collector is not.
        stale = f"; or {source} stopped and its presence is stale: check that it runs"
        return replace(finding, fix=finding.fix + stale)
    return finding


_READ_FIX = "see the broker checks above; the ACL must let this gateway read pelangi-host/+/state"
