"""Door contacts on GPIO lines through the libgpiod v2 Python bindings (``gpiod`` on PyPI).

The seam is kept thin on purpose: no GPIO chip exists on the build machines, so only
:func:`states_from_edges` (edge events in, door states out) is tested; :class:`GpioDoorInput`
is the few lines that talk to the kernel. Install the bindings on the gateway with
``pip install 'pelangi[gpio]'`` (Debian's python3-libgpiod is the old v1 API).

Kernel debounce (``debounce_ms``) delays every edge by the debounce period; when the
kernel's event buffer overflows it drops the *oldest* events, so the line's current
level is read again after every batch to stay right.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from edge_agent.doors.state import ClosedWhen, DoorState, state_from_level
from edge_agent.errors import AgentError

if TYPE_CHECKING:
    import threading
    from collections.abc import Callable, Iterable

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Edge:
    """One edge event of a line: rising (0 -> 1) or falling (1 -> 0)."""

    rising: bool
    timestamp_ns: int


def states_from_edges(edges: Iterable[Edge], closed_when: ClosedWhen) -> list[DoorState]:
    """The door state after each edge, under the input's declared polarity."""
    return [state_from_level(1 if edge.rising else 0, closed_when) for edge in edges]


class GpioDoorInput:
    """Watches one GPIO line and reports the door's state on every edge."""

    def __init__(  # noqa: PLR0913 - each is a distinct line setting
        self,
        chip: str,
        line: int,
        closed_when: ClosedWhen,
        debounce_ms: int,
        on_state: Callable[[DoorState], None],
        *,
        pull_up: bool = True,
    ) -> None:
        """Prepare to watch ``line`` on ``chip`` (e.g. ``/dev/gpiochip0``)."""
        self.chip = chip
        self.line = line
        self.closed_when: ClosedWhen = closed_when
        self.debounce = timedelta(milliseconds=debounce_ms)
        self.on_state = on_state
        self.pull_up = pull_up

    def run(self, stop: threading.Event) -> None:
        """Report the initial state, then every edge, until ``stop`` is set.

        Raises:
            AgentError: the chip or line cannot be opened (the message names them).
        """
        # Imported here: the bindings are an optional extra, needed only with GPIO doors.
        import gpiod  # noqa: PLC0415
        from gpiod.line import Bias, Direction, Value  # noqa: PLC0415
        from gpiod.line import Edge as Detect  # noqa: PLC0415

        settings = gpiod.LineSettings(
            direction=Direction.INPUT,
            edge_detection=Detect.BOTH,
            bias=Bias.PULL_UP if self.pull_up else Bias.DISABLED,
            debounce_period=self.debounce,
        )
        try:
            request = gpiod.request_lines(
                self.chip, consumer="pelangi-agent", config={self.line: settings}
            )
        except OSError as exc:
            raise AgentError(
                f"cannot watch GPIO line {self.line} on {self.chip}: {exc.strerror or exc}"
            ) from None
        with request:
            level = 1 if request.get_value(self.line) == Value.ACTIVE else 0
            self.on_state(state_from_level(level, self.closed_when))
            while not stop.is_set():
                if not request.wait_edge_events(timedelta(milliseconds=500)):
                    continue
                events = request.read_edge_events()
                edges = [
                    Edge(event.event_type is gpiod.EdgeEvent.Type.RISING_EDGE, event.timestamp_ns)
                    for event in events
                ]
                for state in states_from_edges(edges, self.closed_when):
                    self.on_state(state)
                # The kernel drops the oldest events on overflow: re-read the truth.
                level = 1 if request.get_value(self.line) == Value.ACTIVE else 0
                self.on_state(state_from_level(level, self.closed_when))
