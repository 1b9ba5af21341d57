"""From successive polls of one switch to rates and port events: pure, time passed in.

The tracker keeps the previous poll's samples per interface. Each new poll yields, per
interface, bits/s in and out and errors/discards per second (or ``None`` with the reason
when the pair of samples cannot give an honest rate), and a :class:`PortChange` for every
interface whose operational status changed since the last poll.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal

from edge_agent.snmp.rates import Discard, Rate, Sample, rate

if TYPE_CHECKING:
    from edge_agent.snmp.client import SwitchPoll
    from edge_agent.snmp.table import InterfaceRow

MIN_FRAME_ON_WIRE_BYTES: Final = 84
"""64-byte frame + 8 preamble + 12 inter-frame gap: the most packets a link can carry."""

_COUNTERS: Final[tuple[tuple[str, Literal[32, 64]], ...]] = (
    ("hc_in_octets", 64),
    ("hc_out_octets", 64),
    ("in_errors", 32),
    ("out_errors", 32),
    ("in_discards", 32),
    ("out_discards", 32),
)


@dataclass(frozen=True, slots=True)
class InterfaceReport:
    """One interface after one poll: state plus whatever rates could honestly be computed."""

    index: int
    name: str
    alias: str | None
    admin: str | None
    oper: str | None
    speed_mbps: int | None
    in_bps: float | None
    out_bps: float | None
    in_errors_ps: float | None
    out_errors_ps: float | None
    in_discards_ps: float | None
    out_discards_ps: float | None
    discarded: tuple[str, ...] = ()
    """Why rates are missing (e.g. ``counter_reset``); empty on the first poll too."""


@dataclass(frozen=True, slots=True)
class PortChange:
    """An interface's operational status changed between two polls."""

    index: int
    name: str
    previous: str | None
    current: str | None


class SwitchTracker:
    """Remembers one switch's last samples and turns new polls into reports."""

    def __init__(self) -> None:
        """Start with no baseline: the first poll yields states but no rates."""
        self._samples: dict[tuple[int, str], Sample] = {}
        self._oper: dict[int, str | None] = {}

    def update(
        self, poll: SwitchPoll, polled_at: float, *, requested_at: float | None = None
    ) -> tuple[list[InterfaceReport], list[PortChange]]:
        """Fold in a poll sent at ``requested_at`` and answered by ``polled_at``.

        Both are the poller's monotonic seconds; the agent's sysUpTime must agree with
        them (see :func:`edge_agent.snmp.rates.uptime_agrees`). Without ``requested_at``
        the poll counts as instantaneous, the strictest check.
        """
        reports = []
        changes = []
        for row in poll.interfaces.values():
            reports.append(self._report(row, poll.uptime_ticks, polled_at, requested_at))
            if row.index in self._oper and self._oper[row.index] != row.oper:
                changes.append(PortChange(row.index, row.label, self._oper[row.index], row.oper))
            self._oper[row.index] = row.oper
        gone = set(self._oper) - set(poll.interfaces)
        for index in gone:  # a port that vanished (module pulled) is forgotten, not reported
            del self._oper[index]
        self._samples = {key: s for key, s in self._samples.items() if key[0] not in gone}
        return reports, changes

    def _report(
        self, row: InterfaceRow, uptime: int, polled_at: float, requested_at: float | None
    ) -> InterfaceReport:
        octets_ceiling = row.high_speed * 1e6 / 8 if row.high_speed else None
        packets_ceiling = octets_ceiling / MIN_FRAME_ON_WIRE_BYTES if octets_ceiling else None
        values: dict[str, float | None] = {}
        discarded: list[str] = []
        for column, bits in _COUNTERS:
            value = getattr(row, column)
            if value is None:
                values[column] = None
                continue
            sample = Sample(uptime, value, bits, polled_at, row.discontinuity, requested_at)
            previous = self._samples.get((row.index, column))
            self._samples[(row.index, column)] = sample
            ceiling = octets_ceiling if column.endswith("octets") else packets_ceiling
            outcome: Rate | Discard | None = (
                None if previous is None else rate(previous, sample, max_per_second=ceiling)
            )
            if isinstance(outcome, Rate):
                values[column] = outcome.per_second
            else:
                values[column] = None
                if outcome is not None and outcome.value not in discarded:
                    discarded.append(outcome.value)
        return InterfaceReport(
            index=row.index,
            name=row.label,
            alias=row.alias or None,
            admin=row.admin,
            oper=row.oper,
            speed_mbps=row.high_speed,
            in_bps=_times8(values["hc_in_octets"]),
            out_bps=_times8(values["hc_out_octets"]),
            in_errors_ps=values["in_errors"],
            out_errors_ps=values["out_errors"],
            in_discards_ps=values["in_discards"],
            out_discards_ps=values["out_discards"],
            discarded=tuple(discarded),
        )


def _times8(octets_per_second: float | None) -> float | None:
    return None if octets_per_second is None else octets_per_second * 8
