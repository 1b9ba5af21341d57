"""Recognise a reader from what it sends: which framing, at which baud rate.

:func:`classify` is pure: fed the bytes received at each baud rate, it runs every decoder
the agent has (:mod:`edge_agent.readers.em4100`, :mod:`edge_agent.readers.textline`) over
each sample and scores how much of the sample decodes as cards. At the wrong baud rate a
UART delivers noise, which no decoder accepts, so the right rate and framing stand out.
:func:`sniff` is the thin IO part: it listens on a real port at each rate in turn.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from edge_agent.readers.em4100 import FRAME_BYTES, Rdm6300Decoder
from edge_agent.readers.textline import TextFormat, TextLineDecoder
from edge_agent.toolkit.portopen import open_serial
from pelangi.card import CardId

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

COMMON_BAUDS: Final = (9600, 19200, 38400, 57600, 115200)
"""The rates readers ship with, most common first (RDM6300 and ID-12LA: 9600)."""
CONFIDENT: Final = 0.8
"""Share of a sample's bytes that must decode as cards to stop listening early."""
CONFIDENT_CARDS: Final = 2
"""Cards needed to stop early: one good frame could be luck in noise."""
SECONDS_PER_BAUD: Final = 2.0
"""Long enough for ~20 repeats of a card held on an RDM6300 (it repeats every ~100 ms)."""
_WHITESPACE: Final = b" \t\r\n"
_TEXT_FORMATS: Final[tuple[TextFormat, ...]] = ("decimal10", "hex8", "wiegand26")
_CRLF_ETX: Final = b"\r\n\x03"
_WIEGAND_PRINT: Final = re.compile(rb"(?:^|[\r\n])\s*[0-9]{1,3} *, *[0-9]{1,5}\s*[\r\n]")


@dataclass(frozen=True, slots=True)
class Guess:
    """The best explanation of what a reader sent.

    ``confidence`` is the share (0..1) of the sample's non-blank bytes that decoded as
    cards in this framing; ``cards`` are the cards decoded.
    """

    kind: str
    text_format: TextFormat | None
    baudrate: int
    confidence: float
    cards: tuple[CardId, ...]

    @property
    def label(self) -> str:
        """The framing in words, e.g. ``rdm6300 at 9600 baud``."""
        framing = f"text ({self.text_format})" if self.text_format else self.kind
        return f"{framing} at {self.baudrate} baud"

    @property
    def is_confident(self) -> bool:
        """Whether the guess is good enough to stop listening."""
        return self.confidence >= CONFIDENT and len(self.cards) >= CONFIDENT_CARDS

    def reader_fields(self) -> dict[str, object]:
        """The ``readers:`` keys this guess decides."""
        fields: dict[str, object] = {"kind": self.kind, "baudrate": self.baudrate}
        if self.text_format is not None:
            fields["text_format"] = self.text_format
        return fields


def _cards(items: Sequence[object]) -> list[CardId]:
    return [item for item in items if isinstance(item, CardId)]


def _guesses(data: bytes, baudrate: int) -> list[Guess]:
    """Every framing's reading of one sample."""
    meaningful = sum(1 for byte in data if byte not in _WHITESPACE)
    if not meaningful:
        return []
    guesses = []
    frames = _cards(Rdm6300Decoder().feed(data))
    # ID-12LA puts CR LF before ETX; those bytes are blank, so a frame is 14 either way.
    kind = "id12la" if _CRLF_ETX in data else "rdm6300"
    guesses.append(Guess(kind, None, baudrate, len(frames) * FRAME_BYTES / meaningful, (*frames,)))
    for fmt in _TEXT_FORMATS:
        cards = _cards(TextLineDecoder(fmt).feed(data))
        explained = sum(len(card.raw) for card in cards)
        guesses.append(Guess("text", fmt, baudrate, explained / meaningful, (*cards,)))
    return guesses


def classify(samples: Mapping[int, bytes]) -> Guess | None:
    """The best guess over every baud rate's sample, or None if nothing decoded.

    Ties go to the earlier baud rate in ``samples`` and then to the framing tried first
    (frames before text lines), so the most common set-up wins when it fits as well.
    """
    best: Guess | None = None
    for baudrate, data in samples.items():
        for guess in _guesses(data, baudrate):
            if guess.cards and (best is None or guess.confidence > best.confidence):
                best = guess
    return best


def unsupported(samples: Mapping[int, bytes]) -> str | None:
    """Name a framing that was heard but that no agent decoder reads, with what to do."""
    if any(_WIEGAND_PRINT.search(data) for data in samples.values()):
        return (
            "the reader sends Wiegand-26 prints (facility,card, e.g. 018,37848), which the "
            "agent does not decode: set the converter to 6 hex digits (kind text, format "
            "wiegand26) or 10 decimal digits (decimal10)"
        )
    return None


@dataclass(frozen=True, slots=True)
class SniffResult:
    """What :func:`sniff` heard: the guess, how many bytes came at each rate, and a hint."""

    guess: Guess | None
    received: dict[int, int]
    hint: str | None = None
    """Without a guess: a framing heard that the agent cannot read (:func:`unsupported`)."""


def sniff(
    port: str,
    *,
    bauds: Sequence[int] = COMMON_BAUDS,
    seconds_per_baud: float = SECONDS_PER_BAUD,
    on_baud: Callable[[int], None] = lambda _baud: None,
) -> SniffResult:
    """Listen on ``port`` at each rate in ``bauds`` until a confident guess or the end.

    Raises:
        edge_agent.toolkit.portopen.PortProblem: the port cannot be opened (says why).
    """
    samples: dict[int, bytes] = {}
    for baudrate in bauds:
        on_baud(baudrate)
        data = bytearray()
        with open_serial(port, baudrate, timeout_s=0.1) as serial_port:
            deadline = time.monotonic() + seconds_per_baud
            while time.monotonic() < deadline:
                data += serial_port.read(serial_port.in_waiting or 1)
                samples[baudrate] = bytes(data)
                guess = classify({baudrate: samples[baudrate]})
                if guess is not None and guess.is_confident:
                    return SniffResult(guess, {b: len(d) for b, d in samples.items()})
    received = {b: len(d) for b, d in samples.items()}
    guess = classify(samples)
    return SniffResult(guess, received, None if guess else unsupported(samples))
