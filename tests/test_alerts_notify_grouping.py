"""Grouping: bursts become one message, critical and resolved never wait, nothing twice or lost."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from collector.alerts.model import (
    Alert,
    AlertKey,
    Audience,
    Notification,
    NotificationKind,
    Phase,
    Severity,
    Transition,
)
from collector.alerts.notify.grouping import Grouper
from collector.alerts.notify.settings import GroupingSettings

T0 = datetime(2026, 12, 2, 19, 0, tzinfo=UTC)
DEFAULTS = GroupingSettings()


def seconds(n: float) -> datetime:
    return T0 + timedelta(seconds=n)


def port(n: int, severity: Severity = Severity.WARNING, site: str = "bukit-pelangi") -> AlertKey:
    del severity
    return AlertKey("port_down", site, "gw-diskominfo", "sw-core", f"ge-0/0/{n}")


def fire(
    key: AlertKey, at: datetime, severity: Severity = Severity.WARNING, **labels: str
) -> Transition:
    audience = Audience.SECURITY if key.rule.startswith("door") else Audience.IT
    alert = Alert(key, severity, audience, Phase.FIRING, at, fired_at=at, labels=labels)
    return Transition(alert, Phase.PENDING, at)


def resolve(firing: Transition, at: datetime) -> Transition:
    alert = Alert(
        firing.alert.key,
        firing.alert.severity,
        firing.alert.audience,
        Phase.RESOLVED,
        firing.alert.since,
        fired_at=firing.alert.fired_at,
        resolved_at=at,
        labels=firing.alert.labels,
    )
    return Transition(alert, Phase.FIRING, at)


def test_a_burst_of_50_ports_down_is_one_message_after_the_group_wait() -> None:
    grouper = Grouper(DEFAULTS)
    for n in range(50):
        grouper.add(fire(port(n), seconds(n * 0.5)))
        assert grouper.due(seconds(n * 0.5)) == []
    assert grouper.next_due() == seconds(30)
    assert grouper.due(seconds(29.9)) == []
    [message] = grouper.due(seconds(30))
    assert message.kind is NotificationKind.FIRING
    assert message.group == "it bukit-pelangi"
    assert [a.key.item for a in message.alerts] == [f"ge-0/0/{n}" for n in range(50)]
    assert grouper.due(seconds(3600)) == []


def test_a_critical_alert_skips_the_wait_and_takes_its_group_along() -> None:
    grouper = Grouper(DEFAULTS)
    grouper.add(fire(port(1), seconds(0)))
    door = AlertKey("door_forced_open", "bukit-pelangi", "gw-1", "pintu-utama")
    grouper.add(fire(door, seconds(1), Severity.CRITICAL))
    grouper.add(fire(AlertKey("door_held_open", "bukit-pelangi", "gw-1", "pintu-2"), seconds(1)))
    [message] = grouper.due(seconds(1))
    assert message.audience is Audience.SECURITY
    assert {a.key.device for a in message.alerts} == {"pintu-utama", "pintu-2"}
    [ports] = grouper.due(seconds(30))  # the IT group kept its own wait
    assert ports.audience is Audience.IT


def test_critical_skip_wait_can_be_turned_off() -> None:
    grouper = Grouper(GroupingSettings(critical_skip_wait=False))
    grouper.add(fire(port(1), seconds(0), Severity.CRITICAL))
    assert grouper.due(seconds(0)) == []
    assert len(grouper.due(seconds(30))) == 1


def test_later_firings_wait_for_the_group_interval() -> None:
    grouper = Grouper(DEFAULTS)
    grouper.add(fire(port(1), seconds(0)))
    assert len(grouper.due(seconds(30))) == 1
    grouper.add(fire(port(2), seconds(60)))
    assert grouper.due(seconds(90)) == []
    assert grouper.next_due() == seconds(330)
    [second] = grouper.due(seconds(330))
    assert [a.key.item for a in second.alerts] == ["ge-0/0/2"]


def test_a_resolution_goes_out_at_once_even_inside_the_interval() -> None:
    grouper = Grouper(DEFAULTS)
    first = fire(port(1), seconds(0))
    grouper.add_all([first, fire(port(2), seconds(0))])
    grouper.due(seconds(30))
    grouper.add(resolve(first, seconds(31)))
    [resolved] = grouper.due(seconds(31))
    assert resolved.kind is NotificationKind.RESOLVED
    assert [a.key.item for a in resolved.alerts] == ["ge-0/0/1"]


def test_an_alert_resolved_before_its_firing_was_sent_is_reported_once_resolved() -> None:
    grouper = Grouper(DEFAULTS)
    flap = fire(port(1), seconds(0))
    grouper.add_all([flap, fire(port(2), seconds(0)), resolve(flap, seconds(10))])
    [resolved] = grouper.due(seconds(10))
    assert resolved.kind is NotificationKind.RESOLVED
    assert resolved.alerts[0].fired_at == seconds(0)
    [firing] = grouper.due(seconds(30))
    assert [a.key.item for a in firing.alerts] == ["ge-0/0/2"]


def test_still_firing_alerts_are_repeated_after_the_repeat_interval() -> None:
    grouper = Grouper(DEFAULTS)
    grouper.add(fire(port(1), seconds(0)))
    [firing] = grouper.due(seconds(30))
    assert grouper.due(seconds(30 + 14399)) == []
    [repeat] = grouper.due(seconds(30 + 14400))
    assert repeat.kind is NotificationKind.REPEAT
    assert repeat.alerts == firing.alerts
    assert repeat.id != firing.id
    [again] = grouper.due(seconds(30 + 2 * 14400))
    assert again.id not in {firing.id, repeat.id}


def test_transitions_that_do_not_notify_are_ignored() -> None:
    grouper = Grouper(DEFAULTS)
    firing = fire(port(1), seconds(0))
    pending = Transition(
        Alert(port(2), Severity.WARNING, Audience.IT, Phase.PENDING, seconds(0)), None, seconds(0)
    )
    suppressed = Transition(
        Alert(
            port(3),
            Severity.WARNING,
            Audience.IT,
            Phase.FIRING,
            seconds(0),
            fired_at=seconds(0),
            suppressed_by=AlertKey("switch_unreachable", "bukit-pelangi", "gw-diskominfo", "sw"),
        ),
        Phase.PENDING,
        seconds(0),
    )
    grouper.add_all([firing, pending, suppressed])
    [message] = grouper.due(seconds(30))
    assert [a.key.item for a in message.alerts] == ["ge-0/0/1"]


def test_grouping_by_building_splits_a_site() -> None:
    grouper = Grouper(GroupingSettings(by="building"))
    grouper.add(fire(port(1), seconds(0), building="Diskominfo"))
    grouper.add(fire(port(2), seconds(0), building="Bappeda"))
    groups = sorted(n.group for n in grouper.due(seconds(30)))
    assert groups == ["it bukit-pelangi/Bappeda", "it bukit-pelangi/Diskominfo"]


def test_the_same_history_gives_the_same_ids() -> None:
    def run() -> list[str]:
        grouper = Grouper(DEFAULTS)
        first = fire(port(1), seconds(0))
        grouper.add(first)
        ids = [n.id for n in grouper.due(seconds(30))]
        grouper.add(resolve(first, seconds(40)))
        return ids + [n.id for n in grouper.due(seconds(45))]

    assert run() == run()
    assert len(set(run())) == 2


# -- properties -------------------------------------------------------------------------


@dataclass
class History:
    """What was fed in, and every notification that came out (with when it was made)."""

    episodes: list[tuple[AlertKey, datetime, datetime | None]] = field(default_factory=list)
    calls: list[datetime] = field(default_factory=list)
    made: list[Notification] = field(default_factory=list)


steps = st.lists(
    st.tuples(
        # Seconds since the previous step: at least one, as the engine's transitions of one
        # alert are (an alert cannot fire and resolve twice within one instant).
        st.integers(min_value=1, max_value=400),
        st.integers(min_value=0, max_value=5),  # which port
        st.booleans(),  # critical
        st.booleans(),  # call due() after this step
        st.booleans(),  # export and restore the state after this step
    ),
    max_size=40,
)


def play(script: list[tuple[int, int, bool, bool, bool]]) -> History:
    grouper = Grouper(DEFAULTS)
    history = History()
    now = T0
    open_: dict[int, Transition] = {}
    for gap, n, critical, call, reload in script:
        now += timedelta(seconds=gap)
        if n in open_:
            firing = open_.pop(n)
            grouper.add(resolve(firing, now))
            history.episodes.remove((firing.alert.key, firing.at, None))
            history.episodes.append((firing.alert.key, firing.at, now))
        else:
            severity = Severity.CRITICAL if critical else Severity.WARNING
            open_[n] = fire(port(n), now, severity)
            grouper.add(open_[n])
            history.episodes.append((open_[n].alert.key, now, None))
        if call:
            history.calls.append(now)
            history.made += grouper.due(now)
        if reload:
            # Through JSON, as a store would keep it: nothing may change.
            state = json.loads(json.dumps(grouper.export()))
            grouper = Grouper.restore(DEFAULTS, state)
    # Long enough for every wait and interval, short of a repeat.
    history.calls.append(now + timedelta(hours=1))
    history.made += grouper.due(now + timedelta(hours=1))
    return history


@settings(max_examples=150, deadline=None)
@given(steps)
def test_every_firing_and_every_resolution_is_notified_exactly_once(
    script: list[tuple[int, int, bool, bool, bool]],
) -> None:
    history = play(script)
    fired = Counter(
        (a.key, a.fired_at)
        for n in history.made
        if n.kind is NotificationKind.FIRING
        for a in n.alerts
    )
    resolved = Counter(
        (a.key, a.resolved_at)
        for n in history.made
        if n.kind is NotificationKind.RESOLVED
        for a in n.alerts
    )
    assert all(count == 1 for count in fired.values())
    assert all(count == 1 for count in resolved.values())
    for key, fired_at, resolved_at in history.episodes:
        if resolved_at is None:
            assert fired[key, fired_at] == 1, (key, fired_at)
        else:
            assert resolved[key, resolved_at] == 1, (key, resolved_at)
    assert sum(fired.values()) <= len(history.episodes)
    ids = [n.id for n in history.made]
    assert len(ids) == len(set(ids))


@settings(max_examples=150, deadline=None)
@given(steps)
def test_a_resolution_is_never_held_back(
    script: list[tuple[int, int, bool, bool, bool]],
) -> None:
    history = play(script)
    for notification in history.made:
        if notification.kind is not NotificationKind.RESOLVED:
            continue
        for alert in notification.alerts:
            assert alert.resolved_at is not None
            first_call = min(t for t in history.calls if t >= alert.resolved_at)
            assert notification.created_at == first_call


@settings(max_examples=100, deadline=None)
@given(steps)
def test_a_critical_firing_goes_out_at_the_first_call(
    script: list[tuple[int, int, bool, bool, bool]],
) -> None:
    history = play(script)
    sent_at = {
        (a.key, a.fired_at): n.created_at
        for n in history.made
        if n.kind is NotificationKind.FIRING
        for a in n.alerts
        if a.severity is Severity.CRITICAL
    }
    for (_, fired_at), created_at in sent_at.items():
        assert fired_at is not None
        assert created_at == min(t for t in history.calls if t >= fired_at)


def test_a_firing_already_reported_is_not_reported_again() -> None:
    # An engine restarted from an older snapshot may hand the same firing in again.
    grouper = Grouper(DEFAULTS)
    first = fire(port(1), seconds(0))
    grouper.add(first)
    assert len(grouper.due(seconds(30))) == 1
    grouper.add(Transition(first.alert, None, seconds(40)))
    assert grouper.due(seconds(400)) == []
