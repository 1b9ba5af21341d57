"""``pelangi-agent test-read READER``: live cards from one configured reader.

The port is read by the agent's own :class:`edge_agent.serial.port.SerialPortReader`,
decoded by the reader's own decoder (:func:`edge_agent.readers.decoders.decoder_for`) and
de-duplicated by its :class:`edge_agent.readers.hold.HoldFilter`, so a card that shows
here is a card the agent would publish, once per tap.
"""

from __future__ import annotations

import queue
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from edge_agent.errors import FrameError
from edge_agent.readers.decoders import decoder_for
from edge_agent.readers.hold import HoldFilter
from edge_agent.serial.port import SerialPortReader
from edge_agent.toolkit.portopen import open_serial

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from edge_agent.readers.settings import ReaderSettings
    from pelangi.card import CardId


def describe(card: CardId, at: datetime) -> dict[str, Any]:
    """One card read, as printed and as ``--json`` gives it."""
    facility, number = card.wiegand26
    return {
        "time": at.isoformat(timespec="milliseconds"),
        "uid": card.uid,
        "printed": card.printed,
        "wiegand26": f"{facility:03d},{number:05d}",
        "raw": card.raw,
        "bits": card.bits,
    }


def read_cards(
    reader: ReaderSettings,
    *,
    count: int,
    timeout_s: float,
    on_bad: Callable[[FrameError], None] = lambda _error: None,
) -> Iterator[dict[str, Any]]:
    """Yield each tap on ``reader`` (see :func:`describe`) until ``count`` or the timeout.

    Raises:
        edge_agent.toolkit.portopen.PortProblem: the port cannot be opened (checked once
            before listening, since the agent's reader would retry silently for ever).
    """
    open_serial(reader.port, reader.baudrate, timeout_s=0).close()
    chunks: queue.Queue[bytes] = queue.Queue()
    port = SerialPortReader(
        reader.id,
        reader.port,
        chunks.put,
        baudrate=reader.baudrate,
        reopen_max_s=reader.reopen_max_s,
    )
    decoder = decoder_for(reader)
    hold = HoldFilter(reader.hold_gap_ms / 1000)
    deadline = time.monotonic() + timeout_s
    seen = 0
    port.start()
    try:
        while seen < count and (remaining := deadline - time.monotonic()) > 0:
            try:
                data = chunks.get(timeout=remaining)
            except queue.Empty:
                return
            for item in decoder.feed(data):
                if isinstance(item, FrameError):
                    on_bad(item)
                elif hold.is_new_tap(item, time.monotonic()) and seen < count:
                    seen += 1
                    yield describe(item, datetime.now(UTC).astimezone())
    finally:
        port.stop()
        port.join(timeout=2.0)
