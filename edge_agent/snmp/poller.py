"""Poll many switches concurrently: each on its own schedule, none able to delay another.

Every switch is an asyncio task with its own interval, timeout and retries. SNMP is UDP
and pysnmp is asynchronous, so a switch that never answers only occupies its own task for
``timeout * (retries + 1)``. The tasks share one event loop on one thread
(:class:`SnmpThread`), which the agent starts beside its serial readers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from edge_agent.snmp.client import SnmpError, SwitchClient, V2cAuth, V3Auth
from edge_agent.snmp.tracker import InterfaceReport, PortChange, SwitchTracker

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from edge_agent.snmp.client import SwitchPoll
    from edge_agent.snmp.settings import SwitchSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PollResult:
    """What one scheduled poll of one switch produced.

    ``poll`` is None when the switch did not answer (``error`` says why).
    ``reachability_changed`` is True when it answers again after failing, False when it
    just stopped answering, None when nothing changed.
    """

    switch: str
    poll: SwitchPoll | None
    reports: list[InterfaceReport]
    changes: list[PortChange]
    error: str | None
    reachability_changed: bool | None
    duration_s: float


class PollClient(Protocol):
    """What the poller needs of an SNMP client (a seam for the benchmark, not for tests)."""

    async def poll(self) -> SwitchPoll:
        """Read the switch once."""
        ...

    def close(self) -> None:
        """Release sockets."""
        ...


def client_for(settings: SwitchSettings) -> SwitchClient:
    """Build the SNMP client a switch's settings describe."""
    auth: V2cAuth | V3Auth
    if settings.version == "3" and settings.v3 is not None:
        user = settings.v3
        auth = V3Auth(
            user=user.user,
            auth_key=user.auth_key.get_secret_value(),
            priv_key=user.priv_key.get_secret_value(),
            auth_protocol=user.auth_protocol,
            priv_protocol=user.priv_protocol,
        )
    else:
        community = settings.community.get_secret_value() if settings.community else ""
        auth = V2cAuth(community)
    return SwitchClient(
        settings.host,
        settings.port,
        auth,
        timeout_s=settings.timeout_s,
        retries=settings.retries,
        max_repetitions=settings.max_repetitions,
    )


class SwitchPoller:
    """Polls one switch on a fixed schedule and reports every outcome."""

    def __init__(
        self,
        settings: SwitchSettings,
        on_result: Callable[[PollResult], None],
        *,
        client: PollClient | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Prepare the poller; nothing is sent until :meth:`run`."""
        self.settings = settings
        self._on_result = on_result
        self._client = client if client is not None else client_for(settings)
        self._clock = clock
        self._tracker = SwitchTracker()
        self._reachable: bool | None = None
        self._failures = 0

    async def run(self, stop: asyncio.Event) -> None:
        """Poll every ``interval_s`` until ``stop`` is set; overrunning polls skip slots."""
        interval = self.settings.interval_s
        next_at = self._clock()
        try:
            while not stop.is_set():
                result = await self._poll_unless_stopped(stop)
                if result is None:
                    break
                self._on_result(result)
                next_at += interval
                now = self._clock()
                if next_at <= now:  # a poll overran its slot: start afresh, never burst
                    next_at = now + interval
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=next_at - now)
        finally:
            self.close()

    async def _poll_unless_stopped(self, stop: asyncio.Event) -> PollResult | None:
        """Poll, but give up at once when ``stop`` is set (a dead switch may take seconds)."""
        poll: asyncio.Future[PollResult] = asyncio.ensure_future(self.poll_once())
        stopped: asyncio.Future[bool] = asyncio.ensure_future(stop.wait())
        racers: list[asyncio.Future[Any]] = [poll, stopped]
        await asyncio.wait(racers, return_when=asyncio.FIRST_COMPLETED)
        stopped.cancel()
        if poll.done():
            return poll.result()
        poll.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await poll
        return None

    def close(self) -> None:
        """Release the client's sockets; call from the event loop the poller ran on."""
        self._client.close()

    async def poll_once(self) -> PollResult:
        """Poll now; never raises for an unreachable or misbehaving switch."""
        name = f"switch {self.settings.id} ({self.settings.address})"
        started = self._clock()
        try:
            poll = await self._client.poll()
        except SnmpError as exc:
            return self._failed(name, started, str(exc))
        except Exception as exc:
            log.exception("%s: unexpected failure while polling", name)
            return self._failed(name, started, f"{type(exc).__name__}: {exc}")
        polled_at = self._clock()
        reports, changes = self._tracker.update(poll, polled_at, requested_at=started)
        changed = None if self._reachable is not False else True
        if changed:
            log.info("%s answers again after %d failed polls", name, self._failures)
        elif self._reachable is None:
            log.info("%s answered: %s, %d interfaces", name, poll.sys_name, len(reports))
        for change in changes:
            log.info(
                "%s: port %s went %s -> %s", name, change.name, change.previous, change.current
            )
        self._reachable, self._failures = True, 0
        return PollResult(
            self.settings.id, poll, reports, changes, None, changed, polled_at - started
        )

    def _failed(self, name: str, started: float, error: str) -> PollResult:
        self._failures += 1
        changed = False if self._reachable is True else None
        if self._reachable is not False:
            log.warning(
                "%s: no usable answer (%s); retrying every %.0f s",
                name,
                error,
                self.settings.interval_s,
            )
        self._reachable = False
        return PollResult(self.settings.id, None, [], [], error, changed, self._clock() - started)


class SnmpThread(threading.Thread):
    """Runs every switch poller on one asyncio event loop in a thread of its own."""

    def __init__(self, pollers: Sequence[SwitchPoller]) -> None:
        """Prepare the thread (daemon: it must never keep a stopping agent alive)."""
        super().__init__(name="snmp", daemon=True)
        self._pollers = list(pollers)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        self._ready = threading.Event()

    def run(self) -> None:
        """Thread body: run the pollers until :meth:`stop`."""
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop_event = asyncio.Event()
        self._ready.set()
        await asyncio.gather(*(poller.run(self._stop_event) for poller in self._pollers))

    def stop(self, timeout: float = 5.0) -> None:
        """Ask every poller to finish and wait for the thread."""
        if self._ready.wait(timeout) and self._loop is not None and self._stop_event:
            self._loop.call_soon_threadsafe(self._stop_event.set)
        self.join(timeout)
