"""Rate-limited logging: the pure throttle, and the logger every recurring problem uses."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from pelangi.throttle import LogThrottle, ThrottledLog

if TYPE_CHECKING:
    import pytest


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_throttle_lets_a_burst_through_then_summarises() -> None:
    throttle = LogThrottle(burst=2, interval_s=60)
    assert [throttle.allow(0.0, "a"), throttle.allow(1.0, "a"), throttle.allow(2.0, "b")] == [
        True,
        True,
        False,
    ]
    assert not throttle.due(59.0)
    assert throttle.due(60.0) == {"b": 1}
    # Still noisy: only summaries, no new burst.
    assert not throttle.allow(61.0, "a")
    assert throttle.due(120.0) == {"a": 1}
    # A quiet window: the next event is logged in full again.
    assert not throttle.due(180.0)
    assert throttle.allow(200.0, "a")


def test_throttle_reset_allows_a_new_burst() -> None:
    throttle = LogThrottle(burst=1, interval_s=60)
    assert throttle.allow(0.0)
    assert not throttle.allow(1.0)
    throttle.reset()
    assert throttle.allow(2.0)


def test_throttled_log_writes_a_burst_then_one_summary_with_the_latest_message(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    trouble = ThrottledLog(
        logging.getLogger("test.throttle"), burst=2, interval_s=60, hint="check it", clock=clock
    )
    with caplog.at_level(logging.INFO, logger="test.throttle"):
        logged = [trouble.log(logging.ERROR, "cannot reach %s", f"host-{k}") for k in range(5)]
        assert logged == [True, True, False, False, False]
        assert len(caplog.records) == 2
        clock.now = 60.0
        trouble.flush()
    summary = caplog.records[-1]
    assert summary.levelno == logging.ERROR
    assert summary.getMessage() == (
        "cannot reach host-4 (and 3 more like this in the last 60 s); check it"
    )


def test_throttled_log_counts_by_key_and_starts_afresh_after_reset(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = Clock()
    trouble = ThrottledLog(logging.getLogger("test.throttle"), burst=1, interval_s=10, clock=clock)
    with caplog.at_level(logging.WARNING, logger="test.throttle"):
        trouble.log(logging.WARNING, "bad %s", "a", key="a")
        trouble.log(logging.WARNING, "bad %s", "b", key="b")
        trouble.log(logging.WARNING, "bad %s", "a", key="a")
        clock.now = 10.0
        trouble.log(logging.WARNING, "bad %s", "b", key="b")  # the due summary comes first
        assert (
            "(and 3 more like this in the last 10 s: a 1, b 2)" in caplog.records[-1].getMessage()
        )
        trouble.reset()
        assert trouble.log(logging.WARNING, "bad %s", "c")
    assert caplog.records[-1].getMessage() == "bad c"
