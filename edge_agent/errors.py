"""Errors the edge agent raises on purpose.

Tree::

    PelangiError                   (pelangi.errors)
    └── AgentError                 the agent cannot do what it was asked (state dir not writable)
        ├── FrameError             bytes from a reader or controller that are not a valid frame
        ├── OutboxError            the outbox cannot store or open (edge_agent.outbox)
        ├── UnsendableReadingError a reading that could never be sent (edge_agent.outbox)
        ├── BerError               an SNMP message that is not valid BER (edge_agent.snmp.ber)
        └── SnmpError              a switch did not answer usably (edge_agent.snmp.transport)

A :class:`FrameError` is usually *returned* by a decoder rather than raised, so one bad
frame is counted and logged while the stream goes on. The others are defined beside the
code that raises them; every one names the thing, what was expected and what came.
"""

from __future__ import annotations

from enum import StrEnum

from pelangi.errors import PelangiError


class AgentError(PelangiError):
    """Base class of the edge agent's deliberate errors."""


class FrameErrorKind(StrEnum):
    """What was wrong with a frame: a small, fixed set, used as a counter label."""

    GARBAGE = "garbage"
    """Bytes outside any frame (line noise, a reader starting up mid-frame)."""
    TRUNCATED = "truncated"
    """A frame cut short: a new start byte arrived before the end byte."""
    OVERLONG = "overlong"
    """More characters than a frame can hold and still no end byte."""
    BAD_FRAMING = "bad_framing"
    """Not framed as expected: the start or end byte is missing or misplaced."""
    BAD_LENGTH = "bad_length"
    """The end byte arrived, but after the wrong number of characters."""
    NOT_HEX = "not_hex"
    """A character that should be a hex digit is not one."""
    BAD_CHECKSUM = "bad_checksum"
    """The checksum the reader sent does not match the data."""


class FrameError(AgentError):
    """Bytes from a reader that do not form a valid frame.

    Attributes:
        kind: what was wrong, from a fixed set (a counter label).
        data: the offending bytes, as received (for the log).
    """

    def __init__(self, kind: FrameErrorKind, data: bytes, message: str) -> None:
        """Create the error; ``message`` says what was expected and what arrived."""
        self.kind = kind
        self.data = data
        super().__init__(message)
