"""The gateway's birth and death certificates (after Sparkplug B), and their sequence number.

On every connection the agent sets a *death* (:class:`pelangi.liveness.GatewayStatus`
with ``online: false``) as its MQTT Will, then publishes a *birth* (``online: true``),
both retained at QoS 1 on ``pelangi/<site>/<gateway>/status`` and both carrying the same
``bdseq``. ``bdseq`` goes up by one for every connection attempt and survives restarts
(a file in ``state_dir``), so a Will the broker fires late, for a connection the agent
has already replaced, carries an older ``bdseq`` than the latest birth and is recognised
as stale (:func:`pelangi.liveness.is_stale_death`).

The certificates are built here (pure); :mod:`edge_agent.uplink.connection` sends them.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from dataclasses import dataclass
from importlib import metadata
from typing import TYPE_CHECKING, Final

from edge_agent.statefile import replace_atomically, time_floor
from pelangi.liveness import GatewayStatus

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from edge_agent.timebase import ClockStatus

log = logging.getLogger(__name__)

FILE_NAME: Final = "bdseq"
MAX_DEVICES_LISTED: Final = 1024
"""The contract's limit on ``devices`` in a birth."""


def agent_version() -> str:
    """The installed package's version (``unknown`` when run from a bare source tree)."""
    try:
        return metadata.version("pelangi")
    except metadata.PackageNotFoundError:
        return "unknown"


@dataclass(frozen=True, slots=True)
class BirthInfo:
    """What every birth says about the gateway besides ``bdseq`` and ``ts``."""

    site: str
    gateway: str
    agent_version: str
    devices: tuple[str, ...]
    heartbeat_s: float
    clock_status: Callable[[], ClockStatus] | None = None
    """The gateway's clock as the birth reports it (:meth:`edge_agent.timebase.TimeBase.status`)."""

    def birth(self, bdseq: int, ts: int) -> GatewayStatus:
        """The birth certificate of connection ``bdseq`` (also the heartbeat, fresh ``ts``)."""
        clock = self.clock_status() if self.clock_status is not None else None
        return GatewayStatus(
            site=self.site,
            gateway=self.gateway,
            online=True,
            bdseq=bdseq,
            ts=ts,
            agent_version=self.agent_version[:64],
            devices=self.devices[:MAX_DEVICES_LISTED],
            heartbeat_s=self.heartbeat_s,
            clock_offset_ms=clock.offset_ms if clock is not None else None,
            ntp_synchronized=clock.synchronized if clock is not None else None,
        )

    def death(self, bdseq: int, ts: int) -> GatewayStatus:
        """The death certificate of connection ``bdseq`` (the Will, or sent at shutdown)."""
        return GatewayStatus(site=self.site, gateway=self.gateway, online=False, bdseq=bdseq, ts=ts)


class BirthDeathCounter:
    """``bdseq``: one more for every connection attempt, kept in ``state_dir/bdseq``.

    Never raises: if the file cannot be read, counting starts from the microsecond clock
    (above any count reached before); if it cannot be written, counting goes on in memory
    and :attr:`problem` says so (the health reading carries it).
    """

    def __init__(self, state_dir: Path) -> None:
        """Load the last ``bdseq`` used from ``state_dir`` (0 if there is none yet)."""
        self.path = state_dir / FILE_NAME
        with contextlib.suppress(OSError):  # saving will fail and say why
            state_dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._problem: str | None = None
        self._last = self._load()

    @property
    def problem(self) -> str | None:
        """Why the latest value could not be saved, or None."""
        with self._lock:
            return self._problem

    def next(self) -> int:
        """The ``bdseq`` of the next connection attempt, saved before it is returned."""
        with self._lock:
            self._last += 1
            try:
                replace_atomically(self.path, f"{self._last}\n")
            except OSError as exc:
                if self._problem is None:
                    log.error(  # noqa: TRY400 - the cause is in the line; no traceback
                        "cannot save the birth/death sequence in %s: %s; counting on in memory",
                        self.path,
                        exc.strerror or exc,
                    )
                self._problem = f"cannot save bdseq in {self.path}: {exc.strerror or exc}"
            else:
                self._problem = None
            return self._last

    def _load(self) -> int:
        try:
            text = self.path.read_text(encoding="ascii")
        except FileNotFoundError:
            return 0
        except (OSError, UnicodeDecodeError) as exc:
            return self._unreadable(str(exc))
        try:
            value = int(text.strip())
        except ValueError:
            return self._unreadable(f"expected a whole number, got {text[:40]!r}")
        return max(0, value)

    def _unreadable(self, why: str) -> int:
        start = time_floor()
        log.warning(
            "cannot read the birth/death sequence in %s (%s); continuing from %d",
            self.path,
            why,
            start,
        )
        return start


def now_ns() -> int:
    """Wall-clock time for certificates: ns since the epoch, UTC."""
    return time.time_ns()
