"""The collector benchmark's tables, targets, figures and notes, from the runs of both shapes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from collector.config import CollectorSettings
from sandbox.bench.collector.process import STATS_POLL_S
from sandbox.bench.report import Check, Table, count, megabytes, ratio, seconds

if TYPE_CHECKING:
    from sandbox.bench.collector.runs import Run, Shape

# Targets from the issue (2-core machine).
TARGET_VS_NAIVE: Final = 1.2
TARGET_VS_COUNT_ONLY: Final = 0.6
TARGET_BATCH_READINGS_PER_S: Final = 150_000
TARGET_RSS_BYTES: Final = 100 * 1000 * 1000


def shape_table(shape: Shape) -> Table:
    """The printed table of one shape: a row per run, with its ratios to the baselines."""
    count_only = shape.runs["count"].msgs_per_s
    naive = shape.runs["naive"].msgs_per_s
    rows = []
    for run in shape.runs.values():
        if not run.available:
            rows.append((f"{run.label} (not available)", *(["—"] * 9)))
            continue
        mps = run.msgs_per_s
        lost = run.lost
        rows.append(
            (
                run.label,
                "—" if run.messages is None else count(run.messages),
                count(run.readings),
                "—" if run.elapsed_s is None else seconds(run.elapsed_s),
                "—" if mps is None else count(mps),
                "—" if run.readings_per_s is None else count(run.readings_per_s),
                ratio(mps / count_only) if mps and count_only else "—",
                ratio(mps / naive) if mps and naive else "—",
                megabytes(run.rss_peak_bytes),
                "ERROR" if run.error else ("—" if lost is None else count(lost)),
            )
        )
    return Table(
        f"({shape.key}) {shape.messages:,} messages x {shape.readings_per_message} "
        f"reading{'s' if shape.readings_per_message > 1 else ''}",
        (
            "run",
            "messages",
            "readings",
            "seconds",
            "msgs/s",
            "readings/s",
            "vs count 3.1.1",
            "vs naive",
            "RSS MB",
            "lost",
        ),
        tuple(rows),
    )


def target_checks(single: Shape, batch: Shape) -> tuple[Check, ...]:
    """The issue's targets, checked on the collector's runs (not measured if it did not run)."""
    collector_a, collector_b = single.runs["collector"], batch.runs["collector"]
    measured_a = collector_a.available and collector_a.error is None
    measured_b = collector_b.available and collector_b.error is None

    def versus(run: Run, base: Run, required: float, what: str) -> Check:
        if not measured_a or not run.msgs_per_s or not base.msgs_per_s:
            return Check(what, f">= {required:.2f}x", "—", None)
        value = run.msgs_per_s / base.msgs_per_s
        return Check(what, f">= {required:.2f}x", ratio(value), value >= required)

    rps = collector_b.readings_per_s if measured_b else None
    rss = collector_b.rss_peak_bytes if measured_b else None
    every_run = [*single.runs.values(), *batch.runs.values()]
    losses = [run for run in every_run if run.failure() is not None]
    return (
        versus(
            collector_a,
            single.runs["naive"],
            TARGET_VS_NAIVE,
            "(a) collector msgs/s vs naive bridge",
        ),
        versus(
            collector_a,
            single.runs["count"],
            TARGET_VS_COUNT_ONLY,
            "(a) collector msgs/s vs count-only drain (3.1.1)",
        ),
        Check(
            "(b) collector readings/s",
            f">= {TARGET_BATCH_READINGS_PER_S:,}",
            "—" if rps is None else count(rps),
            None if rps is None else rps >= TARGET_BATCH_READINGS_PER_S,
        ),
        Check(
            "(b) collector RSS peak (VmHWM)",
            f"<= {TARGET_RSS_BYTES / 1e6:.0f} MB",
            "—" if rss is None else f"{rss / 1e6:.1f} MB",
            None if rss is None else rss <= TARGET_RSS_BYTES,
        ),
        Check(
            "zero loss, every run",
            "0 lost",
            "0 lost" if not losses else f"{len(losses)} run(s) failed",
            not losses,
        ),
    )


def shape_figures(shape: Shape) -> dict[str, Any]:
    """The raw figures of one shape, for the JSON results file."""
    return {
        "messages": shape.messages,
        "readings_per_message": shape.readings_per_message,
        "readings": shape.readings,
        "schema_mismatch": shape.schema_note,
        "runs": {
            key: {
                "label": run.label,
                "available": run.available,
                "elapsed_s": run.elapsed_s,
                "elapsed_s_samples": list(run.samples),
                "msgs_per_s": run.msgs_per_s,
                "readings_per_s": run.readings_per_s,
                "stored": run.stored,
                "received": run.received,
                "lost": run.lost,
                "rss_peak_bytes": run.rss_peak_bytes,
                "cpu_s": run.cpu_s,
                "startup_s": run.startup_s,
                "error": run.error,
            }
            for key, run in shape.runs.items()
        },
    }


def notes(single: Shape, batch: Shape) -> list[str]:
    """How to read the figures: the method, and what this run's own figures add to it."""
    lines = [
        (
            "Each run drains its own persistent session, pre-filled with the same backlog while "
            "offline; the broker (Mosquitto, max_queued_messages 0, in memory) is shared."
        ),
        (
            "Timing starts when the consumer connects: for the collector, when the broker logs "
            "its connection (its interpreter start is excluded and shown below)."
        ),
        (
            "The collector is done when InfluxDB's write counters (SHOW STATS, polled every "
            f"{STATS_POLL_S * 1000:.0f} ms) reach the backlog and then SELECT count does "
            "(polled every 0.5 s: a batch written twice counts twice in the counters); it is "
            "stopped after that, and loss is checked with SELECT count."
        ),
        (
            "The count-only subscribers and the naive bridge auto-ack. The 3.1.1 ones run as a "
            "plain paho script does (protocol default, loop_forever; window: the broker's "
            "max_inflight_messages 1,000): 'vs count 3.1.1' compares with that, the fastest "
            "drain. The v5 count-only row is stock paho with the collector's connection "
            f"settings (v5, Receive Maximum {CollectorSettings().batch.max_unacked:,}, "
            "loop_start, one PUBACK per message): paho 2.2 decodes v5 properties for every "
            "message and wakes its loop thread through a socketpair for every PUBACK. The "
            "collector's client (collector/mqtt_client.py) removes those per-message costs "
            "(empty-property fast path, buffered reads, one write per batch of acks), which is "
            "why it can beat that row."
        ),
        (
            "The collector runs with its default configuration (batching, caps, 2 writers) and "
            "acks each message after the write that stored it, validating every message "
            "against the contract; (b) messages are 48 InterfaceReadings (a switch poll)."
        ),
    ]
    unavailable = single.runs["collector"]
    if not unavailable.available:
        lines.append(f"pelangi-collector was {unavailable.error}")
    for shape in (single, batch):
        run = shape.runs["collector"]
        if run.startup_s is not None:
            cpu = f", {run.cpu_s:.2f} s CPU" if run.cpu_s is not None else ""
            lines.append(
                f"({shape.key}) collector: process start to connected {run.startup_s:.2f} s{cpu}"
            )
        if shape.schema_note:
            lines.append(shape.schema_note)
    ceilings = [
        f"{TARGET_BATCH_READINGS_PER_S / rate:.0%} of InfluxDB's own ingest on {label} "
        f"({count(rate)} points/s)"
        for label, key in (("one connection", "ingest"), ("two", "ingest2"))
        if (rate := batch.runs[key].readings_per_s)
    ]
    if ceilings:
        lines.append(
            f"(b) the target of {TARGET_BATCH_READINGS_PER_S:,} readings/s is "
            + " and ".join(ceilings)
            + " for these points, measured in this run."
        )
    return lines
