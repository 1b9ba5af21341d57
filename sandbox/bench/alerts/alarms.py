"""The measured alerts: published on a schedule, then matched with the emails they caused.

Each kind has its own phase. (b)'s alarms go out at random gaps of 1-2 s: every message
the engine takes also advances its timers, so at a fixed pace the next alarm would fire
the previous one's expired hold at a fixed delay, and (b) would measure the schedule.

(a) threshold: ``alarm-NNN``'s critical port goes down; due when the reading is published.
(b) held open: ``held-NNN``'s door opens; due when its hold time has passed since then.
Both start from :func:`time.time_ns` read just before the publish, which is also the
reading's own ``ts``; the end is the SMTP server's receive stamp (:mod:`.mail`).
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final, Literal

from sandbox.alerts_scenario import Publisher
from sandbox.bench.alerts.config import ALARM_PORT, alarm_place, held_place
from sandbox.bench.alerts.mail import received
from sandbox.waiting import wait_until

if TYPE_CHECKING:
    from sandbox.bench.alerts.mail import Mail
    from sandbox.servers.smtp import Smtp

Kind = Literal["threshold", "held"]
KINDS: Final[tuple[Kind, ...]] = ("threshold", "held")


@dataclass(frozen=True, slots=True)
class Alarm:
    """One alert the benchmark caused, and when it was due to be mailed (ns, wall clock)."""

    kind: Kind
    site: str
    published_ns: int
    due_ns: int


def offsets(count: int, *, gap_s: tuple[float, float], seed: int = 1) -> list[float]:
    """When each of ``count`` alarms goes out (s from the first), gaps uniform in ``gap_s``."""
    rng = random.Random(seed)  # noqa: S311 - a schedule, not secrets
    at = [0.0]
    while len(at) < count:
        at.append(at[-1] + rng.uniform(*gap_s))
    return at[:count]


def publish_alarms(
    mqtt_port: int, kind: Kind, schedule_s: list[float], *, held_for_s: float
) -> list[Alarm]:
    """Publish one alarm of ``kind`` at each offset of ``schedule_s``; what was published."""
    publisher = Publisher(mqtt_port)
    pause = threading.Event()
    alarms = []
    started = time.monotonic()
    try:
        for number, offset in enumerate(schedule_s):
            pause.wait(max(0.0, started + offset - time.monotonic()))  # a timed schedule
            at = time.time_ns()
            if kind == "threshold":
                place = alarm_place(number)
                publisher.port_down(ALARM_PORT, ts=at, where=place)
                alarms.append(Alarm(kind, place.site, at, at))
            else:
                place = held_place(number)
                publisher.door("open", ts=at, where=place)
                alarms.append(Alarm(kind, place.site, at, at + int(held_for_s * 1e9)))
    finally:
        publisher.close()
    return alarms


@dataclass
class Outcome:
    """The alarms against the emails: latencies per kind, and what went wrong."""

    latencies_s: dict[Kind, list[float]] = field(default_factory=lambda: {k: [] for k in KINDS})
    missing: list[Alarm] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    """Sites mailed more than one firing."""
    others: int = 0
    """Emails about none of the alarms (e.g. the pilot's own alerts: there should be none)."""


def match(alarms: list[Alarm], mails: list[Mail]) -> Outcome:
    """Each alarm's first firing email (``received - due``); those missing; the rest."""
    firing: dict[str, list[Mail]] = {}
    outcome = Outcome()
    for mail in mails:
        if not mail.sites:
            outcome.others += 1
        if mail.kind == "firing":
            for site in mail.sites:
                firing.setdefault(site, []).append(mail)
    for alarm in alarms:
        found = firing.get(alarm.site, [])
        if not found:
            outcome.missing.append(alarm)
            continue
        if len(found) > 1:
            outcome.duplicates.append(alarm.site)
        first = min(mail.received_ns for mail in found)
        outcome.latencies_s[alarm.kind].append((first - alarm.due_ns) / 1e9)
    return outcome


def wait_for_mail(smtp: Smtp, alarms: list[Alarm], timeout_s: float) -> Outcome:
    """Wait until every alarm has its email, or ``timeout_s`` after the last one was due.

    What has not arrived by then is lost (the engine's sender retries a failing server
    within seconds, and nothing here fails).
    """
    last_due_s = max(alarm.due_ns for alarm in alarms) / 1e9

    def all_mailed() -> Outcome | None:
        outcome = match(alarms, received(smtp))
        return None if outcome.missing else outcome

    try:
        return wait_until(
            all_mailed,
            timeout=max(0.0, last_due_s - time.time()) + timeout_s,
            what=f"an email for each of {len(alarms)} alarms",
            interval=0.25,
        )
    except TimeoutError:
        return match(alarms, received(smtp))
