"""The text line protocol for door contacts reported by a microcontroller over serial.

One line per report, ASCII, ending in LF (a CR before it is ignored)::

    DOOR <door-id> OPEN
    DOOR <door-id> CLOSED
    DOOR <door-id> UNKNOWN        (e.g. the contact wire is cut, if the firmware can tell)

``<door-id>`` follows the identifier rules of the topics (letters, digits, ``_-.``, up to
64 characters); keywords are case-insensitive; fields are separated by spaces or tabs.
Firmware should send a line on every change and re-send every door's state at least once
a minute (the agent marks a door ``unknown`` after ``silence_s`` without a line).
Anything else on the line is counted and logged as a protocol error; a partial line is
completed by the next read; a line longer than :data:`MAX_LINE` is skipped to its end.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from edge_agent.doors.state import DoorState
from edge_agent.errors import FrameError, FrameErrorKind
from edge_agent.serial.lines import LineSplitter, Overlong

MAX_LINE: Final = 128
_LINE = re.compile(
    rb"DOOR[ \t]+([A-Za-z0-9][A-Za-z0-9_.-]{0,63})[ \t]+(OPEN|CLOSED|UNKNOWN)", re.IGNORECASE
)


@dataclass(frozen=True, slots=True)
class DoorReport:
    """One line of the protocol: a door and its state."""

    door: str
    state: DoorState


def parse_door_line(line: bytes) -> DoorReport:
    """Parse one line (without its LF).

    Raises:
        FrameError: the line is not ``DOOR <id> OPEN|CLOSED|UNKNOWN``.
    """
    match = _LINE.fullmatch(line.strip())
    if match is None:
        raise FrameError(
            FrameErrorKind.BAD_FRAMING,
            line,
            f"line {line[:64]!r} is not a door report: expected 'DOOR <id> OPEN|CLOSED|UNKNOWN'",
        )
    return DoorReport(match.group(1).decode("ascii"), DoorState(match.group(2).decode().lower()))


class DoorLineDecoder:
    """Streaming decoder of the door line protocol; never raises."""

    def __init__(self) -> None:
        """Start with an empty line."""
        self._lines = LineSplitter(MAX_LINE, cr_ends_line=False)

    def feed(self, data: bytes) -> list[DoorReport | FrameError]:
        """Consume bytes; return the reports and errors of every line they completed."""
        return [self._parse(line) for line in self._lines.feed(data)]

    @staticmethod
    def _parse(line: bytes | Overlong) -> DoorReport | FrameError:
        if isinstance(line, Overlong):
            return FrameError(
                FrameErrorKind.OVERLONG,
                line.head,
                f"line longer than {MAX_LINE} characters: expected a door report, "
                f"got {line.head!r}...",
            )
        try:
            return parse_door_line(line)
        except FrameError as exc:
            return exc
