r"""Line-oriented card readers: the card as decimal or hex text ending in CR and/or LF.

Formats (``format`` in the reader's configuration):

=============  ===================  ================================================
``decimal10``  ``0001217496\r\n``   10 decimal digits: the 32-bit number printed on
                                    EM4100 cards (many USB-serial and W34 converters)
``hex8``       ``001293D8\r``        8 hex digits: the 32-bit number
``wiegand26``  ``1293D8\r``          6 hex digits: the 24 data bits of a Wiegand-26
                                    frame (facility 8 bits, card 16 bits); the top
                                    byte of the 32-bit number is unknown
``auto``       any of the above     chosen per line by its shape: 10 digits ->
                                    decimal10, 8 hex -> hex8, 6 hex -> wiegand26
=============  ===================  ================================================

Lines end at CR, LF or CR LF; empty lines are ignored; surrounding spaces are stripped.
A line longer than :data:`MAX_LINE` is reported once and skipped to its end, so a reader
spewing noise cannot grow the buffer.
"""

from __future__ import annotations

import re
from typing import Final, Literal

from edge_agent.errors import FrameError, FrameErrorKind
from edge_agent.serial.lines import LineSplitter, Overlong
from pelangi.card import CardId

TextFormat = Literal["decimal10", "hex8", "wiegand26", "auto"]

MAX_LINE: Final = 64
_MAX_UID: Final = 0xFFFFFFFF
_SHAPES: Final[dict[str, re.Pattern[bytes]]] = {
    "decimal10": re.compile(rb"[0-9]{10}"),
    "hex8": re.compile(rb"[0-9A-Fa-f]{8}"),
    "wiegand26": re.compile(rb"[0-9A-Fa-f]{6}"),
}
_EXPECTED: Final = {
    "decimal10": "10 decimal digits",
    "hex8": "8 hex digits",
    "wiegand26": "6 hex digits (Wiegand-26 data bits)",
    "auto": "10 decimal digits, 8 hex digits or 6 hex digits",
}


def parse_line(line: bytes, fmt: TextFormat) -> CardId:
    """Parse one line (without its line ending) in ``fmt``.

    Raises:
        FrameError: the line is not a card in that format.
    """
    text = line.strip(b" \t")
    shape = _sniff(text) if fmt == "auto" else fmt
    if shape is None or not _SHAPES[shape].fullmatch(text):
        raise FrameError(
            FrameErrorKind.BAD_LENGTH if text.isalnum() else FrameErrorKind.NOT_HEX,
            line,
            f"line {line[:MAX_LINE]!r} is not a card: expected {_EXPECTED[fmt]}",
        )
    raw = text.decode("ascii")
    if shape == "decimal10":
        number = int(raw)
        if number > _MAX_UID:
            raise FrameError(
                FrameErrorKind.BAD_LENGTH,
                line,
                f"line {line!r} is not a 32-bit card number: {number} > {_MAX_UID}",
            )
        return CardId(raw=raw, uid=f"{number:08X}", bits=32)
    if shape == "hex8":
        return CardId(raw=raw, uid=raw.upper(), bits=32)
    return CardId(raw=raw, uid=f"00{raw.upper()}", bits=24)


def _sniff(text: bytes) -> str | None:
    for shape in ("decimal10", "hex8", "wiegand26"):
        if _SHAPES[shape].fullmatch(text):
            return shape
    return None


class TextLineDecoder:
    """Streaming decoder for line-oriented readers; never raises (see the module doc)."""

    def __init__(self, fmt: TextFormat = "auto") -> None:
        """Decode lines in ``fmt``."""
        self._fmt: TextFormat = fmt
        self._lines = LineSplitter(MAX_LINE)

    def feed(self, data: bytes) -> list[CardId | FrameError]:
        """Consume bytes; return the cards and errors of every line they completed."""
        return [self._parse(line) for line in self._lines.feed(data)]

    def _parse(self, line: bytes | Overlong) -> CardId | FrameError:
        if isinstance(line, Overlong):
            return FrameError(
                FrameErrorKind.OVERLONG,
                line.head,
                f"line longer than {MAX_LINE} characters: expected "
                f"{_EXPECTED[self._fmt]} and a line end, got {line.head!r}...",
            )
        try:
            return parse_line(line, self._fmt)
        except FrameError as exc:
            return exc
