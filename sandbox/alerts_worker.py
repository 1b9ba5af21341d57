"""A stand-in alert engine for the store's fault tests, and the doors it watches.

``python -m sandbox.alerts_worker --url URL --holder NAME --sink FILE --doors FILE`` (the
PostgreSQL password, if any, in ``PELANGI_STATE_PASSWORD``) runs the loop an engine runs
over :class:`~collector.alerts.store.AlertStore`, with the rules reduced to one: a door
listed open in the JSON file ``--doors`` (``{"pintu-1": true}``) fires
``door_held_open``, and resolves once it is listed closed. Each tick it

1. takes the lease (a standby tries every tick) or renews it; losing it ends the process;
2. on taking over, loads the alert state the previous engine left;
3. applies the doors' transitions with their notifications (one fenced transaction);
4. unless the ``--hold`` file exists (the mail server is "down"), delivers what is due to
   the sink: one JSON line per delivery appended to ``--sink``, then ``delivered``.

With ``--flap N`` it ignores ``--doors`` and toggles one of N doors every tick: a steady
stream of transactions to SIGKILL it in the middle of.

What it says goes to stdout: ``standby <holder>``, ``active <holder> <n> alerts``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Final

from pydantic import SecretStr

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
from collector.alerts.store import AlertStore, Delivery
from collector.state import StateSettings, open_state

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

RULE: Final = "door_held_open"
SITE: Final = "bukit-pelangi"
GATEWAY: Final = "gw-1"
GROUP: Final = f"security {SITE}"
CHANNEL: Final = "file"
PASSWORD_ENV: Final = "PELANGI_STATE_PASSWORD"  # noqa: S105 - the variable's name
EXIT_LEASE_LOST: Final = 3


def door(device: str) -> AlertKey:
    """The alert key of a door held open."""
    return AlertKey(RULE, SITE, GATEWAY, device)


def notification_id(alert: Alert) -> str:
    """A stable id: the same alert moving the same way at the same instant, the same id."""
    at = alert.resolved_at if alert.phase is Phase.RESOLVED else alert.fired_at
    return f"{alert.key}|{alert.phase}|{at.isoformat() if at else ''}"


def notification(alert: Alert, at: datetime) -> Notification:
    """The message telling security of ``alert``'s move."""
    kind = NotificationKind.RESOLVED if alert.phase is Phase.RESOLVED else NotificationKind.FIRING
    return Notification(notification_id(alert), kind, Audience.SECURITY, GROUP, (alert,), at)


def step(
    state: Mapping[AlertKey, Alert], doors: Mapping[str, bool], now: datetime
) -> tuple[list[Transition], list[Notification]]:
    """The rule: the transitions ``doors`` cause from ``state``, and their notifications."""
    transitions: list[Transition] = []
    for device, is_open in sorted(doors.items()):
        current = state.get(door(device))
        firing = current is not None and current.phase is Phase.FIRING
        if is_open and not firing:
            alert = Alert(
                door(device),
                Severity.CRITICAL,
                Audience.SECURITY,
                Phase.FIRING,
                since=now,
                fired_at=now,
                value="terbuka",
            )
        elif firing and not is_open and current is not None:
            alert = replace(current, phase=Phase.RESOLVED, resolved_at=now, value="tertutup")
        else:
            continue
        transitions.append(Transition(alert, None if current is None else current.phase, now))
    return transitions, [notification(t.alert, t.at) for t in transitions if t.notifies]


def read_doors(path: Path) -> dict[str, bool]:
    """The doors file (written by the test with a rename, so never half-written)."""
    try:
        return {str(k): bool(v) for k, v in json.loads(path.read_text()).items()}
    except FileNotFoundError:
        return {}


def write_doors(path: Path, doors: Mapping[str, bool]) -> None:
    """Replace the doors file at once (what the tests call)."""
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(dict(doors)))
    partial.replace(path)


def flap(state: Mapping[AlertKey, Alert], doors: int, tick: int) -> dict[str, bool]:
    """Toggle door ``tick mod doors``: every tick one alert fires or resolves."""
    device = f"flap-{tick % doors}"
    current = state.get(door(device))
    return {device: current is None or current.phase is not Phase.FIRING}


class Worker:
    """The loop of the module docstring."""

    def __init__(self, store: AlertStore, args: argparse.Namespace) -> None:
        """Run with ``store`` as told by the command line."""
        self.store = store
        self.holder: str = args.holder
        self.ttl = timedelta(seconds=args.ttl)
        self.args = args
        self.state: dict[AlertKey, Alert] = {}
        self.active = False
        self._sink = os.open(args.sink, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    def tick(self, count: int) -> bool:
        """One round; False when the lease was lost (the process must stop)."""
        now = datetime.now(UTC)
        if not self.active:
            if not self.store.acquire_lease(self.holder, now, self.ttl):
                if count == 0:
                    say(f"standby {self.holder}")
                return True
            self.active = True
            self.state = self.store.load_state()
            say(f"active {self.holder} {len(self.state)} alerts")
        elif not self.store.renew_lease(self.holder, now, self.ttl):
            say(f"lease lost {self.holder}")
            return False
        doors = flap(self.state, self.args.flap, count) if self.args.flap else None
        transitions, notifications = step(self.state, doors or read_doors(self.args.doors), now)
        if transitions:
            self.store.apply(transitions, notifications, holder=self.holder)
            self.state.update((t.alert.key, t.alert) for t in transitions)
        if self.args.hold is None or not self.args.hold.exists():
            self.deliver(now)
        return True

    def deliver(self, now: datetime) -> None:
        """Send what is due to the sink, and log each delivery."""
        for entry in self.store.due(now, limit=50):
            sent = entry.notification
            device = sent.alerts[0].key.device
            line = {"id": sent.id, "holder": self.holder, "kind": sent.kind.value, "device": device}
            os.write(self._sink, (json.dumps(line) + "\n").encode())
            delivery = Delivery(sent.id, CHANNEL, self.args.sink.name, now, "appended")
            self.store.delivered(delivery, holder=self.holder)

    def stop(self) -> None:
        """A clean stop: give the lease up so a standby takes over at once."""
        if self.active:
            self.store.release_lease(self.holder, datetime.now(UTC))
        os.close(self._sink)


def say(text: str) -> None:
    """One line on stdout, at once (the tests read it while we run)."""
    print(text, flush=True)  # noqa: T201 - the worker's output is its log


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line of the module docstring."""
    parser = argparse.ArgumentParser(prog="sandbox.alerts_worker")
    parser.add_argument("--url", required=True)
    parser.add_argument("--holder", required=True)
    parser.add_argument("--sink", type=Path, required=True)
    parser.add_argument("--doors", type=Path)
    parser.add_argument("--hold", type=Path)
    parser.add_argument("--flap", type=int, default=0)
    parser.add_argument("--ttl", type=float, default=1.0, help="lease time to live, seconds")
    parser.add_argument("--tick", type=float, default=0.05, help="seconds between rounds")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run until SIGTERM (lease released: exit 0) or the lease is lost (exit 3)."""
    args = parse_args(argv)
    password = os.environ.get(PASSWORD_ENV)
    settings = StateSettings(url=args.url, password=SecretStr(password) if password else None)
    # SIGTERM ends the loop between ticks, never between a send and its `delivered`.
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    with open_state(settings) as database:
        worker = Worker(AlertStore(database), args)
        try:
            count = 0
            while not stopping.wait(args.tick if count else 0):  # the engine's poll interval
                if not worker.tick(count):
                    return EXIT_LEASE_LOST
                count += 1
            return 0
        finally:
            worker.stop()


if __name__ == "__main__":
    sys.exit(main())
