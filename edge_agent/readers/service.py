"""Every configured card reader: a serial thread per port feeding its :class:`CardReader`."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Final

from edge_agent.readers.reader import CardReader
from edge_agent.serial.port import SerialPortReader

if TYPE_CHECKING:
    from collections.abc import Sequence

    from edge_agent.emitter import Emitter
    from edge_agent.readers.reader import ReaderStats
    from edge_agent.readers.settings import ReaderSettings

log = logging.getLogger(__name__)

STOP_TIMEOUT_S: Final = 2.0
"""How long to wait for a reader thread at shutdown (a read times out in 0.2 s)."""


class ReaderService:
    """The card readers of one gateway: started, ticked, counted and stopped together."""

    def __init__(self, readers: Sequence[ReaderSettings], emitter: Emitter) -> None:
        """Prepare a decoder chain and a port thread per reader; nothing opens yet."""
        self.readers = [CardReader(reader, emitter) for reader in readers]
        self.ports = [
            SerialPortReader(
                card_reader.reader.id,
                card_reader.reader.port,
                card_reader.on_bytes,
                baudrate=card_reader.reader.baudrate,
                reopen_max_s=card_reader.reader.reopen_max_s,
            )
            for card_reader in self.readers
        ]

    def start(self) -> None:
        """Open every port in its own thread; returns at once."""
        for port in self.ports:
            port.start()

    def tick(self, now: float) -> None:
        """Log bad-frame summaries that are due (call about once a second)."""
        for card_reader in self.readers:
            card_reader.tick(now)

    def stats(self) -> list[ReaderStats]:
        """Every reader's counters, in configuration order."""
        return [card_reader.stats() for card_reader in self.readers]

    @property
    def counters(self) -> dict[str, int]:
        """Counters for the health reading: ``reader.<id>.taps|frames|errors``."""
        counters: dict[str, int] = {}
        for stats in self.stats():
            prefix = f"reader.{stats.reader_id}"
            counters[f"{prefix}.taps"] = stats.taps
            counters[f"{prefix}.frames"] = stats.frames
            counters[f"{prefix}.errors"] = sum(stats.errors.values())
        return counters

    def describe(self) -> list[str]:
        """One phrase per reader for the statistics line: counters and whether its port is open."""
        return [
            f"{stats.describe()}, port {'open' if port.is_open else 'closed'}"
            for stats, port in zip(self.stats(), self.ports, strict=True)
        ]

    def stop(self) -> None:
        """Stop every port thread, waiting a bounded time for each."""
        for port in self.ports:
            port.stop()
        for port in self.ports:
            if not port.join(STOP_TIMEOUT_S):
                log.warning("reader %s: did not stop in time", port.reader_id)
