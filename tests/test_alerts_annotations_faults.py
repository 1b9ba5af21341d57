"""The ``alert`` measurement's writer against a real InfluxDB that is killed and stopped.

While InfluxDB is away the annotations wait in the writer's queue and ``add`` returns at
once; once it is back, each is written once. What a full queue cannot keep is dropped,
oldest first, counted and logged with the reason; the batch being written when the
queue fills is not among them (it is not known yet whether InfluxDB has it).
"""

from __future__ import annotations

import signal
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Final

import pytest

from collector.alerts.annotations import MEASUREMENT, AnnotationWriter
from collector.alerts.model import Alert, AlertKey, Audience, Phase, Severity, Transition
from collector.config import InfluxV1Settings
from collector.storage.influx_v1 import InfluxV1Writer
from sandbox.waiting import wait_until

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from sandbox.servers import InfluxDB

START: Final = datetime(2026, 4, 6, 8, 0, tzinfo=UTC)
BACK_S: Final = 90.0
"""InfluxDB's start, plus the writer's backoff (its delays double, up to 60 s)."""


def firing(number: int) -> Transition:
    """Port ``ge-0/0/<number>`` down: one annotation, a second after the one before."""
    at = START + timedelta(seconds=number)
    key = AlertKey("port_down", "bukit-pelangi", "gw-1", "sw-core", f"ge-0/0/{number}")
    alert = Alert(key, Severity.CRITICAL, Audience.IT, Phase.FIRING, at, fired_at=at, value="down")
    return Transition(alert, Phase.PENDING, at)


def stored(influx: InfluxDB) -> list[str]:
    """The ports of the annotations stored, one per point, in time order."""
    rows = influx.query(f"SELECT item, state FROM {MEASUREMENT}", db="pelangi")  # noqa: S608 - a constant
    return [row["item"] for row in rows]


def ports(numbers: range | list[int]) -> list[str]:
    return [f"ge-0/0/{n}" for n in numbers]


def add_timed(writer: AnnotationWriter, numbers: range) -> float:
    """Add one transition per call, as the engine's rounds do; the longest call in seconds."""
    longest = 0.0
    for number in numbers:
        began = time.monotonic()
        writer.add([firing(number)])
        longest = max(longest, time.monotonic() - began)
    return longest


@pytest.fixture
def make_writer(own_influx: InfluxDB) -> Iterator[Callable[..., AnnotationWriter]]:
    """A factory of started writers to ``own_influx``'s ``pelangi``, stopped after the test."""
    made: list[tuple[AnnotationWriter, InfluxV1Writer]] = []

    def make(**options: int) -> AnnotationWriter:
        influx = InfluxV1Writer(InfluxV1Settings(url=own_influx.url, timeout_s=10))
        writer = AnnotationWriter(influx, **options)
        made.append((writer, influx))
        writer.start()
        return writer

    yield make
    for writer, influx in made:
        writer.stop()
        influx.close()


def test_annotations_queued_while_influxdb_is_killed_are_written_once_it_is_back(
    own_influx: InfluxDB,
    make_writer: Callable[..., AnnotationWriter],
    caplog: pytest.LogCaptureFixture,
) -> None:
    writer = make_writer()
    writer.add([firing(n) for n in range(10)])
    wait_until(lambda: writer.written == 10, timeout=15, what="10 annotations written")
    own_influx.kill()
    longest = add_timed(writer, range(10, 30))
    wait_until(
        lambda: "alert annotations wait" in caplog.text, timeout=15, what="a write has failed"
    )
    longest = max(longest, add_timed(writer, range(30, 35)))
    assert longest < 0.5, f"add took {longest:.3f} s with InfluxDB away"
    assert (writer.pending, writer.written, writer.dropped) == (25, 10, 0)
    own_influx.start()
    wait_until(lambda: writer.written == 35, timeout=BACK_S, what="the 25 queued written")
    assert stored(own_influx) == ports(range(35))
    assert (writer.pending, writer.dropped) == (0, 0)


def test_a_full_queue_drops_the_oldest_counted_and_logged(
    own_influx: InfluxDB,
    make_writer: Callable[..., AnnotationWriter],
    caplog: pytest.LogCaptureFixture,
) -> None:
    writer = make_writer(max_queued=10)
    own_influx.kill()
    add_timed(writer, range(25))
    wait_until(lambda: writer.dropped == 15, timeout=15, what="15 annotations dropped")
    assert "alert annotations dropped" in caplog.text
    assert "the queue of 10 is full" in caplog.text
    own_influx.start()
    wait_until(lambda: writer.written == 10, timeout=BACK_S, what="the newest 10 written")
    assert stored(own_influx) == ports(range(15, 25))
    assert (writer.pending, writer.dropped) == (0, 15)


def test_the_batch_being_written_when_the_queue_fills_is_not_lost(
    own_influx: InfluxDB, make_writer: Callable[..., AnnotationWriter]
) -> None:
    writer = make_writer(max_queued=10)
    # Stopped, InfluxDB's kernel still accepts the request: the write waits for an answer.
    own_influx.process.signal(signal.SIGSTOP)
    try:
        writer.add([firing(n) for n in range(5)])
        wait_until(lambda: writer.in_flight == 5, timeout=5, what="a batch of 5 being written")
        add_timed(writer, range(5, 17))  # 12 waiting behind it: the oldest 2 dropped
    finally:
        own_influx.process.signal(signal.SIGCONT)
    wait_until(lambda: writer.written == 15, timeout=BACK_S, what="the batch and the 10 kept")
    assert stored(own_influx) == ports([*range(5), *range(7, 17)])
    assert (writer.pending, writer.dropped) == (0, 2)
