"""What an RDM6300 reader sends, for feeding a simulated reader (a :class:`SerialPty`).

A frame is ``STX, 10 ASCII-hex data characters (version byte + 32-bit tag), 2 ASCII-hex
characters of checksum (XOR of the 5 data bytes), ETX``, 14 bytes at 9600 8N1. While a
card stays in the field the reader repeats the frame, roughly every 100 ms.
"""

from __future__ import annotations

import functools
import operator
import time
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from collections.abc import Callable

STX: Final = 0x02
ETX: Final = 0x03
REPEAT_INTERVAL_S: Final = 0.1
"""How often a real RDM6300 repeats the frame of a card held in its field."""

LINE_NOISE: Final = b"\x00\xff\x7f\x80 noise\r\n\xfe\x01\x04\x03\x03"
"""Bytes a noisy serial line might deliver between frames (no STX in it)."""


def checksum(data: bytes) -> int:
    """The RDM6300 checksum: XOR of the data bytes."""
    return functools.reduce(operator.xor, data, 0)


def rdm6300_frame(data_hex: str, *, lower: bool = False, bad_checksum: bool = False) -> bytes:
    """Build the 14-byte frame a reader sends for a tag's 5 data bytes.

    Args:
        data_hex: the 10 hex characters of the data (version byte, then the 32-bit tag),
            e.g. ``"01001293D8"``.
        lower: send the hex digits in lower case (some reader clones do).
        bad_checksum: corrupt the checksum (flip all its bits), as line noise would.

    Raises:
        ValueError: ``data_hex`` is not 10 hex characters.
    """
    if len(data_hex) != 10:
        raise ValueError(f"an RDM6300 frame carries 10 hex data characters, got {data_hex!r}")
    data = bytes.fromhex(data_hex)
    check = checksum(data) ^ (0xFF if bad_checksum else 0)
    text = f"{data.hex()}{check:02x}"
    text = text if lower else text.upper()
    return bytes([STX]) + text.encode("ascii") + bytes([ETX])


def card_uid(data_hex: str) -> str:
    """The canonical uid of the tag in ``data_hex``: its 32-bit number as 8 upper-case hex."""
    return data_hex[2:].upper()


def card_printed(data_hex: str) -> str:
    """The 10-digit decimal printed on the card of ``data_hex``."""
    return f"{int.from_bytes(bytes.fromhex(data_hex)[1:], 'big'):010d}"


def hold_card(
    write: Callable[[bytes], object],
    frame: bytes,
    *,
    seconds: float = 1.0,
    every: float = REPEAT_INTERVAL_S,
) -> int:
    """Simulate a card held on the reader: write ``frame`` every ``every`` s for ``seconds``.

    This paces input the way the hardware does (it is not waiting for an outcome).
    Returns the number of frames written.
    """
    start = time.monotonic()
    count = 0
    while True:
        write(frame)
        count += 1
        next_at = start + count * every
        if next_at - start >= seconds:
            return count
        time.sleep(max(0.0, next_at - time.monotonic()))
