"""Which decoder reads which reader ``kind``: sans-IO, fed bytes, cards and frame errors out.

A decoder per reader format (:mod:`edge_agent.readers.em4100` for RDM6300/ID-12LA frames,
:mod:`edge_agent.readers.textline` for decimal, hex and Wiegand text lines) is pure: fed
bytes as they came from the port (:mod:`edge_agent.serial.port`), it returns completed
cards and frame errors in stream order, and never raises.

A new reader format is a new decoder module, a new ``kind`` in
:class:`edge_agent.readers.settings.ReaderSettings` and one more case in :func:`decoder_for`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from edge_agent.readers.em4100 import Decoded, Rdm6300Decoder
from edge_agent.readers.textline import TextLineDecoder

if TYPE_CHECKING:
    from edge_agent.readers.settings import ReaderSettings


class Decoder(Protocol):
    """A streaming, sans-IO frame decoder for one reader."""

    def feed(self, data: bytes) -> list[Decoded]:
        """Consume bytes as they arrived; return completed cards and frame errors, in order."""
        ...


def decoder_for(reader: ReaderSettings) -> Decoder:
    """Return a fresh decoder for the frame format of ``reader`` (its ``kind``)."""
    match reader.kind:
        case "rdm6300" | "id12la":
            return Rdm6300Decoder()  # accepts CR LF before ETX, so both layouts
        case "text":
            return TextLineDecoder(reader.text_format)


__all__ = ["Decoded", "Decoder", "decoder_for"]
