"""Which logs matter right now, so a failure can show their tails."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Protocol, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from sandbox.servers import Server


class HasLog(Protocol):
    """Anything with a log tail: a server or a child process."""

    def log_tail(self, lines: int = ...) -> str:
        """The last ``lines`` lines of the log."""
        ...


class LogBook:
    """Logs registered under readable labels; owners add theirs and remove them when done."""

    def __init__(self) -> None:
        """Start with no logs."""
        self._sources: dict[str, HasLog] = {}

    def add(self, label: str, source: HasLog) -> Callable[[], None]:
        """Register ``source`` under ``label`` (made unique); return what removes it again."""
        key = label
        for n in itertools.count(2):
            if key not in self._sources:
                break
            key = f"{label} #{n}"
        self._sources[key] = source

        def remove() -> None:
            self._sources.pop(key, None)

        return remove

    def tails(self, lines: int = 40) -> list[tuple[str, str]]:
        """``(label, tail)`` of every registered log, in the order they were added."""
        return [(label, source.log_tail(lines)) for label, source in self._sources.items()]

    def render(self, lines: int = 40) -> str:
        """Every registered log's tail under a header line, as one text."""
        parts = [
            f"--- {label} (last {lines} lines) ---\n{tail or '(empty)'}"
            for label, tail in self.tails(lines)
        ]
        return "\n".join(parts)


S = TypeVar("S", bound="Server")


def served(server: S, label: str, log_book: LogBook) -> Iterator[S]:
    """Run ``server`` for as long as the fixture lasts, its log shown if a test fails."""
    remove = log_book.add(label, server)
    try:
        with server:
            yield server
    finally:
        remove()
