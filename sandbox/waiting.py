"""Waiting on conditions, never on hope: poll a predicate until it holds or time runs out."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Literal, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable

T = TypeVar("T")


def wait_until(
    predicate: Callable[[], T | Literal[False] | None],
    *,
    timeout: float,
    what: str,
    interval: float = 0.02,
    ignore: tuple[type[Exception], ...] = (),
) -> T:
    """Call ``predicate`` until it returns something truthy, and return that value.

    Args:
        predicate: the condition; its truthy result is returned, so a predicate can hand
            back what it found (a row, a line of a log) rather than just ``True``.
        timeout: seconds to keep trying (monotonic clock).
        what: the condition in words, for the error message ("the broker accepts TCP").
        interval: seconds between attempts.
        ignore: exceptions that mean "not yet" (e.g. ``ConnectionRefusedError`` while a
            server starts); any other exception propagates at once, so a predicate can
            fail fast (e.g. when the process it waits for has died).

    Raises:
        TimeoutError: the condition did not hold within ``timeout``; the message names
            ``what``, the time waited and the last ignored exception, if any.
    """
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while True:
        try:
            result = predicate()
        except ignore as exc:
            last_error = exc
        else:
            if result:
                return result
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            detail = f" (last error: {last_error!r})" if last_error is not None else ""
            raise TimeoutError(f"timed out after {timeout:g} s waiting until {what}{detail}")
        time.sleep(min(interval, remaining))
