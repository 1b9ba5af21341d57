"""Split a byte stream into lines, bounded: the shared front of every line-oriented decoder."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Overlong:
    """A line exceeded the limit; ``head`` is its start. The rest up to its end is skipped."""

    head: bytes


class LineSplitter:
    """Reassemble lines from chunks of any size; lines end at LF (and at CR if asked).

    Empty (or blank) lines are dropped. A line longer than ``max_line`` is reported once as
    :class:`Overlong` and skipped up to its end, so noise without line ends cannot grow
    the buffer.
    """

    def __init__(self, max_line: int, *, cr_ends_line: bool = True) -> None:
        """Split at LF (and CR when ``cr_ends_line``), lines at most ``max_line`` long."""
        self._max = max_line
        self._ends = b"\r\n" if cr_ends_line else b"\n"
        self._line = bytearray()
        self._skipping = False

    def feed(self, data: bytes) -> list[bytes | Overlong]:
        """Consume bytes; return the complete lines (without their ends), in order."""
        out: list[bytes | Overlong] = []
        for byte in data:
            if byte in self._ends:
                if not self._skipping and self._line.strip():
                    out.append(bytes(self._line))
                self._line.clear()
                self._skipping = False
            elif self._skipping:
                continue
            elif len(self._line) >= self._max:
                out.append(Overlong(bytes(self._line[:32])))
                self._line.clear()
                self._skipping = True
            else:
                self._line.append(byte)
        return out
