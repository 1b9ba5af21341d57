"""The collector benchmark end to end: both shapes, every consumer, one result."""

from __future__ import annotations

import gc
from typing import TYPE_CHECKING, Final

from collector.config import CollectorSettings
from pelangi.topics import reading_filter
from sandbox.bench.collector import report
from sandbox.bench.collector.baselines import (
    INGEST_REPEATS,
    drain_count_only,
    ingest_line_protocol,
    naive_lines,
    run_naive_bridge,
)
from sandbox.bench.collector.process import collector_available, collector_settings, run_collector
from sandbox.bench.collector.runs import Run, Shape
from sandbox.bench.collector.sessions import BROKER_CONF, Session, publish_backlog, register_session
from sandbox.bench.collector.stored import drop_quietly, field_keys
from sandbox.bench.collector.workload import DEVICES, FULL, QUICK, Sizes, make_backlog
from sandbox.bench.report import BenchResult
from sandbox.servers import InfluxDB, Mosquitto

if TYPE_CHECKING:
    from pathlib import Path

NAME: Final = "collector"


def run_shape(shape: Shape, influx: InfluxDB, workdir: Path, unavailable: str | None) -> None:
    """Start a broker, fill four sessions with the shape's backlog, run the four consumers."""
    key = shape.key
    backlog = make_backlog(shape.messages, shape.readings_per_message)
    db_naive, db_ingest, db_collector = (
        f"bench_{kind}_{key}" for kind in ("naive", "ingest", "collector")
    )
    # MQTT v5 consumers get the collector's in-flight window; 3.1.1 ones the broker's.
    window = CollectorSettings().batch.max_unacked
    sessions = {
        "count": Session(f"bench-count-{key}", "3.1.1"),
        "count5": Session(f"bench-count5-{key}", "5", window),
        "naive": Session(f"bench-naive-{key}", "3.1.1"),
    }
    runs = shape.runs
    messages, readings = shape.messages, shape.readings
    runs["count"] = Run("count-only, MQTT 3.1.1, loop_forever", messages, readings)
    runs["count5"] = Run("count-only, MQTT v5, loop_start", messages, readings)
    best = f"best of {INGEST_REPEATS}"
    runs["ingest"] = Run(f"InfluxDB ingest, 1 connection, {best}", None, readings)
    runs["ingest2"] = Run(f"InfluxDB ingest, 2 connections, {best}", None, readings)
    runs["naive"] = Run("naive bridge, MQTT 3.1.1, loop_forever", messages, readings)
    runs["collector"] = Run("pelangi-collector", messages, readings, available=unavailable is None)
    if unavailable is not None:
        runs["collector"].error = f"not available: {unavailable}"

    with Mosquitto(
        workdir / f"mosquitto-{key}", extra_conf=BROKER_CONF, persistence=False
    ) as broker:
        settings = collector_settings(broker, influx, f"bench-{key}", db_collector)
        for session in [*sessions.values(), Session(settings.client_id)]:
            register_session(broker, session, reading_filter())
        publish_backlog(broker, backlog)
        lines = [line for _, payload in backlog for line in naive_lines(payload)]
        del backlog
        try:
            drain_count_only(broker, sessions["count"], runs["count"])
            # The collector's own setup: MQTT v5, its Receive Maximum, paho's loop thread.
            drain_count_only(broker, sessions["count5"], runs["count5"], "start")
            ingest_line_protocol(influx, db_ingest, lines, runs["ingest"])
            ingest_line_protocol(influx, db_ingest, lines, runs["ingest2"], connections=2)
            del lines
            run_naive_bridge(broker, influx, sessions["naive"], db_naive, runs["naive"])
        finally:
            gc.unfreeze()
        naive_fields = field_keys(influx, db_naive)
        drop_quietly(influx, db_naive)
        if unavailable is None:
            run_collector(broker, influx, settings, workdir, runs["collector"])
            collector_fields = field_keys(influx, db_collector)
            if collector_fields != naive_fields:
                shape.schema_note = (
                    f"({key}) the naive bridge wrote fields {naive_fields}, the collector "
                    f"{collector_fields}: InfluxDB did different work for the two"
                )
            drop_quietly(influx, db_collector)


def run(workdir: Path, *, quick: bool = False, sizes: Sizes | None = None) -> BenchResult:
    """Run the collector benchmark in ``workdir`` (servers' folders go there).

    Args:
        workdir: an empty folder; removed by the caller.
        quick: use :data:`QUICK` sizes (ignored when ``sizes`` is given).
        sizes: explicit backlog sizes (the smoke test uses tiny ones).
    """
    sizes = sizes or (QUICK if quick else FULL)
    unavailable = collector_available()
    single = Shape("a", sizes.single_messages, 1)
    batch = Shape("b", sizes.batch_messages, sizes.readings_per_batch_message)
    with InfluxDB(workdir / "influxdb") as influx:
        for shape in (single, batch):
            run_shape(shape, influx, workdir, unavailable)
    lost = tuple(
        failure
        for shape in (single, batch)
        for r in shape.runs.values()
        if (failure := r.failure()) is not None
    )
    return BenchResult(
        name=NAME,
        title="end-to-end readings/s from a pre-filled persistent session into InfluxDB",
        parameters={
            "messages_a": sizes.single_messages,
            "messages_b": sizes.batch_messages,
            "readings_per_message_b": sizes.readings_per_batch_message,
            "devices": DEVICES,
        },
        tables=(report.shape_table(single), report.shape_table(batch)),
        checks=report.target_checks(single, batch),
        figures={
            "a": report.shape_figures(single),
            "b": report.shape_figures(batch),
            "collector_unavailable": unavailable,
        },
        notes=tuple(report.notes(single, batch)),
        lost=lost,
    )
