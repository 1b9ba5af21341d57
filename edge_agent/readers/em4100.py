"""RDM6300 / RDM630 (EM4100, 125 kHz) frames: a pure parser and a streaming decoder.

The module sends, for every sighting of a card (UART 9600 8N1, TX only)::

    STX  D0 D1 ... D9  C0 C1  ETX
    0x02 10 hex chars  2 hex   0x03

ID-12LA / ID-20LA readers send the same frame with CR LF between the checksum and ETX;
the decoder accepts both layouts.

The 10 data characters are 5 bytes in ASCII hex (a version byte, then the 32-bit tag
number); the 2 checksum characters are the XOR of those 5 bytes. Upper- and lower-case
hex are both accepted: clones differ, and ESPHome's upper-case-only decode is a known bug.

Nothing here touches a port or a clock; :mod:`edge_agent.serial.port` feeds the
bytes in.
"""

from __future__ import annotations

from functools import reduce
from operator import xor
from typing import Final, TypeAlias

from edge_agent.errors import FrameError, FrameErrorKind
from pelangi.card import CardId, em4100

STX: Final = 0x02
ETX: Final = 0x03
DATA_CHARS: Final = 10
"""5 data bytes (version + 32-bit tag) in ASCII hex."""
CHECKSUM_CHARS: Final = 2
"""1 checksum byte (XOR of the data bytes) in ASCII hex."""
BODY_CHARS: Final = DATA_CHARS + CHECKSUM_CHARS
CRLF: Final = b"\r\n"
"""ID-12LA style readers put CR LF before ETX."""
MAX_BODY_CHARS: Final = BODY_CHARS + len(CRLF)
FRAME_BYTES: Final = 1 + BODY_CHARS + 1
MAX_GARBAGE: Final = 64
"""Report a run of bytes outside frames at least every this many bytes, so noise that
never contains a start byte is still counted, and the buffer stays small."""

_HEX_DIGITS: Final = frozenset(b"0123456789abcdefABCDEF")
_SHOW_BYTES: Final = 32

Decoded: TypeAlias = CardId | FrameError
"""One item a decoder produces: a card read from a good frame, or why a frame was bad."""


def parse_frame(frame: bytes) -> CardId:
    """Parse one complete frame, ``STX`` to ``ETX`` inclusive, into the card's identity.

    Raises:
        FrameError: the frame is malformed; the message says what was expected and what
            arrived, ``kind`` says which check failed.
    """
    if len(frame) < 2 or frame[0] != STX or frame[-1] != ETX:
        raise FrameError(
            FrameErrorKind.BAD_FRAMING,
            frame,
            f"frame {_show(frame)} is not framed: expected STX (0x02) first and ETX (0x03) last",
        )
    body = frame[1:-1].removesuffix(CRLF)
    if len(body) != BODY_CHARS:
        raise FrameError(
            FrameErrorKind.BAD_LENGTH,
            frame,
            f"frame {_show(frame)} has {len(body)} characters between STX and ETX: "
            f"expected {BODY_CHARS} ({DATA_CHARS} data + {CHECKSUM_CHARS} checksum)",
        )
    for position, char in enumerate(body):
        if char not in _HEX_DIGITS:
            raise FrameError(
                FrameErrorKind.NOT_HEX,
                frame,
                f"frame {_show(frame)} is not hex: expected 0-9, A-F or a-f, "
                f"got {bytes([char])!r} at character {position + 1}",
            )
    # Only hex digits are left, so fromhex cannot fail (and its whitespace leniency is moot).
    data = bytes.fromhex(body[:DATA_CHARS].decode("ascii"))
    sent = body[DATA_CHARS:].decode("ascii").upper()
    computed = reduce(xor, data, 0)
    if int(sent, 16) != computed:
        raise FrameError(
            FrameErrorKind.BAD_CHECKSUM,
            frame,
            f"bad checksum in frame {_show(frame)}: expected {computed:02X}, got {sent}",
        )
    return em4100(data)


class Rdm6300Decoder:
    """Turn a byte stream from an RDM6300 into cards and frame errors; never raises.

    Feed it whatever the port returned, in chunks of any size: a frame split across
    chunks is reassembled, bytes between frames are reported once per run, and a start
    byte always begins a new frame, so the decoder is back in step at the next good
    frame whatever came before. The output depends only on the bytes, not on how they
    were chunked.
    """

    def __init__(self) -> None:
        """Start hunting for a start byte."""
        self._frame = bytearray()  # STX and what followed it; empty while hunting
        self._garbage = bytearray()

    def feed(self, data: bytes) -> list[Decoded]:
        """Consume ``data`` and return the cards and errors it completed, in stream order."""
        out: list[Decoded] = []
        for byte in data:
            if byte == STX:
                self._end_garbage(out)
                if self._frame:
                    out.append(self._truncated())
                self._frame = bytearray((STX,))
            elif not self._frame:
                self._garbage.append(byte)
                if len(self._garbage) >= MAX_GARBAGE:
                    self._end_garbage(out)
            elif byte == ETX:
                self._frame.append(byte)
                out.append(_parse_or_error(bytes(self._frame)))
                self._frame.clear()
            else:
                self._frame.append(byte)
                if len(self._frame) > 1 + MAX_BODY_CHARS:
                    out.append(self._overlong())
                    self._frame.clear()
        return out

    def _end_garbage(self, out: list[Decoded]) -> None:
        if self._garbage:
            garbage = bytes(self._garbage)
            self._garbage.clear()
            out.append(
                FrameError(
                    FrameErrorKind.GARBAGE,
                    garbage,
                    f"{len(garbage)} byte(s) outside a frame: expected STX (0x02) "
                    f"to start a frame, got {_show(garbage)}",
                )
            )

    def _truncated(self) -> FrameError:
        partial = bytes(self._frame)
        return FrameError(
            FrameErrorKind.TRUNCATED,
            partial,
            f"frame cut short: expected {BODY_CHARS} characters and ETX (0x03) after STX, "
            f"got {_show(partial)} and then a new STX",
        )

    def _overlong(self) -> FrameError:
        run = bytes(self._frame)
        return FrameError(
            FrameErrorKind.OVERLONG,
            run,
            f"frame too long: expected ETX (0x03) after {BODY_CHARS} characters, got {_show(run)}",
        )


def _parse_or_error(frame: bytes) -> Decoded:
    try:
        return parse_frame(frame)
    except FrameError as exc:
        return exc


def _show(data: bytes) -> str:
    """``repr`` of the bytes, shortened so a noise burst cannot make a log line huge."""
    if len(data) <= _SHOW_BYTES:
        return repr(data)
    return f"{data[:_SHOW_BYTES]!r}... ({len(data)} bytes)"


__all__ = [
    "BODY_CHARS",
    "ETX",
    "FRAME_BYTES",
    "STX",
    "Decoded",
    "Rdm6300Decoder",
    "parse_frame",
]
