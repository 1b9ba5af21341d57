"""Switches at run time: poll results become readings, one envelope per switch and poll.

A 48-port switch yields 48 interface readings in one message, plus a port-change event
for every port whose status changed and a reachability event when it stops or resumes
answering. Status names and discard reasons come from :mod:`edge_agent.snmp.mib` and
:mod:`edge_agent.snmp.rates`, which use the contract's vocabulary.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import TYPE_CHECKING

from edge_agent.snmp.poller import PollResult, SnmpThread, SwitchPoller
from pelangi.payloads import InterfaceReading, PortChange, Reachability

if TYPE_CHECKING:
    from collections.abc import Sequence

    from edge_agent.emitter import Emitter, ReadingFactory
    from edge_agent.snmp.settings import SwitchSettings
    from edge_agent.snmp.tracker import InterfaceReport
    from edge_agent.snmp.tracker import PortChange as TrackedChange


def _interface(report: InterfaceReport) -> ReadingFactory:
    def make(seq: int, ts: int) -> InterfaceReading:
        return InterfaceReading(
            seq=seq,
            ts=ts,
            if_index=report.index,
            port=report.name,
            alias=report.alias,
            admin=report.admin,
            oper=report.oper,
            speed_mbps=report.speed_mbps,
            in_bps=report.in_bps,
            out_bps=report.out_bps,
            in_errors_ps=report.in_errors_ps,
            out_errors_ps=report.out_errors_ps,
            in_discards_ps=report.in_discards_ps,
            out_discards_ps=report.out_discards_ps,
            discarded=report.discarded,
        )

    return make


def _port_change(change: TrackedChange) -> ReadingFactory:
    def make(seq: int, ts: int) -> PortChange:
        return PortChange(
            seq=seq,
            ts=ts,
            if_index=change.index,
            port=change.name,
            previous=change.previous,
            current=change.current,
        )

    return make


class SwitchService:
    """Every configured switch, polled on one asyncio thread, published through the emitter."""

    def __init__(self, switches: Sequence[SwitchSettings], emitter: Emitter) -> None:
        """Prepare pollers (nothing is sent until :meth:`start`)."""
        self._emitter = emitter
        self._lock = threading.Lock()
        self.counters: Counter[str] = Counter()
        self._thread = SnmpThread([SwitchPoller(s, self.on_result) for s in switches])
        self._enabled = bool(switches)

    def on_result(self, result: PollResult) -> None:
        """Publish what one poll produced (called on the SNMP thread)."""
        with self._lock:
            self.counters[f"snmp_{result.switch}_{'ok' if result.poll else 'failed'}"] += 1
        if result.reachability_changed is not None:
            reachable, detail = result.reachability_changed, result.error
            self._emitter.emit(
                result.switch,
                [
                    lambda seq, ts: Reachability(
                        seq=seq, ts=ts, reachable=reachable, detail=(detail or "")[:255] or None
                    )
                ],
            )
        factories = [_port_change(change) for change in result.changes]
        factories += [_interface(report) for report in result.reports]
        self._emitter.emit(result.switch, factories)

    def start(self) -> None:
        """Start polling."""
        if self._enabled:
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop polling (an outstanding poll is abandoned)."""
        if self._enabled:
            self._thread.stop(timeout)
