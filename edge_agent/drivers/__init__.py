"""Device drivers: sans-IO decoders that turn bytes into cards, and the port IO that feeds them.

Layers, from the wire inwards:

- :mod:`edge_agent.drivers.serial_port`: a thread per serial port; opens it, reads bytes,
  survives the port vanishing (USB unplugged). Knows nothing about frames.
- a decoder per reader format (:mod:`edge_agent.drivers.rdm6300`,
  :mod:`edge_agent.drivers.textline`): pure, fed bytes,
  returns cards and frame errors in stream order, never raises.

A new reader format is a new decoder module, a new ``kind`` in
:class:`edge_agent.config.ReaderSettings` and one more case in :func:`decoder_for`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from edge_agent.drivers.rdm6300 import Decoded, Rdm6300Decoder
from edge_agent.drivers.textline import TextLineDecoder

if TYPE_CHECKING:
    from edge_agent.config import ReaderSettings


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
