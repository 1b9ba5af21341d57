"""The agent benchmark end to end: every part, its tables, targets, figures and notes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from sandbox.bench.agent.footprint import Footprint, measure_footprint
from sandbox.bench.agent.replay import TAP_EVERY_S, ReplayRun, run_replay
from sandbox.bench.outage import OutagePlan, OutageReport, run_outage
from sandbox.bench.outbox import run_benchmark
from sandbox.bench.report import BenchResult, Check, Table, count, megabytes
from sandbox.servers import InfluxDB

if TYPE_CHECKING:
    from pathlib import Path

NAME: Final = "agent"
OUTAGE_S: Final = 120.0
"""The issue's outage; ``tests/test_agent_store_forward.py`` runs 20 s."""
QUICK_OUTAGE_S: Final = 20.0
FOOTPRINT_S: Final = 180.0
"""Three switch polls at 60 s."""
QUICK_FOOTPRINT_S: Final = 30.0
TARGET_REPLAY_PER_S: Final = 20_000
TARGET_LIVE_P99_MS: Final = 50.0
TARGET_RSS_BYTES: Final = 50 * 1000 * 1000
TARGET_CPU_PERCENT: Final = 1.0
TARGET_WEEK_BYTES: Final = 1000**3
TARGET_RECEIPT_RATIO: Final = 0.8
"""Issue 9: replay with end-to-end confirmation at least 0.8x the PUBACK-only rate."""


def run(workdir: Path, *, quick: bool = False) -> BenchResult:
    """Run every part in ``workdir`` (see the module docstring)."""
    outbox = run_benchmark(workdir / "outbox")
    hour = run_replay(workdir, "1-hour", 60, taps=False)
    long_label, long_minutes = ("6-hours", 6 * 60) if quick else ("2-days", 48 * 60)
    days = run_replay(workdir, long_label, long_minutes, taps=True)
    # The same backlogs again, each reading kept until a receipt names it.
    hour_receipts = run_replay(workdir, "1-hour-receipts", 60, taps=False, receipts=True)
    days_receipts = run_replay(
        workdir, f"{long_label}-receipts", long_minutes, taps=True, receipts=True
    )
    footprint = measure_footprint(
        workdir, QUICK_FOOTPRINT_S if quick else FOOTPRINT_S, 10.0 if quick else 60.0
    )
    outage_s = QUICK_OUTAGE_S if quick else OUTAGE_S
    with InfluxDB(workdir / "influxdb") as influx:
        outage = run_outage(workdir / "outage", influx, OutagePlan(outage_s=outage_s))
    return _result(
        outbox, (hour, days, hour_receipts, days_receipts), footprint, outage, quick=quick
    )


def _result(
    outbox: dict[str, float],
    replays: tuple[ReplayRun, ReplayRun, ReplayRun, ReplayRun],
    footprint: Footprint,
    outage: OutageReport,
    *,
    quick: bool,
) -> BenchResult:
    hour, days, hour_receipts, days_receipts = replays
    p50, p99 = days.quantile(50), days.quantile(99)
    ratios = {
        run.label: (receipted.rate / run.rate if run.rate else 0.0)
        for run, receipted in ((hour, hour_receipts), (days, days_receipts))
    }
    live_max = max(days.latencies_ms) if days.latencies_ms else None
    tables = (
        Table(
            "Outbox alone (sandbox.bench.outbox, sync full)",
            ("figure", "value"),
            tuple(
                (name, count(value) if value >= 100 else f"{value:.2f}")
                for name, value in outbox.items()
            ),
        ),
        Table(
            "Replay through Mosquitto (real publisher, QoS 1, a collector online)",
            (
                "backlog",
                "readings",
                "seconds",
                "readings/s",
                "live taps",
                "p50 ms",
                "p99 ms",
                "max ms",
            ),
            tuple(
                (
                    run.label,
                    count(run.backlog),
                    f"{run.seconds:.2f}",
                    count(run.rate),
                    count(len(run.latencies_ms)),
                    _ms(run.quantile(50)),
                    _ms(run.quantile(99)),
                    _ms(max(run.latencies_ms) if run.latencies_ms else None),
                )
                for run in replays
            ),
        ),
        Table(
            "End-to-end confirmation: replay rate with receipts / with PUBACKs only",
            ("backlog", "PUBACK readings/s", "receipts readings/s", "ratio"),
            tuple(
                (run.label, count(run.rate), count(receipted.rate), f"{ratios[run.label]:.2f}")
                for run, receipted in ((hour, hour_receipts), (days, days_receipts))
            ),
        ),
        Table(
            "pelangi-agent run at pilot load (2 readers, 10 doors, two 48-port switches)",
            ("window s", "RSS max MB", "RSS end MB", "CPU % of a core"),
            (
                (
                    f"{footprint.seconds:.0f}",
                    megabytes(footprint.rss_max),
                    megabytes(footprint.rss_end),
                    f"{footprint.cpu_percent:.2f}",
                ),
            ),
        ),
        Table(
            "Broker outage through the whole chain (agent, Mosquitto, collector, InfluxDB)",
            (
                "outage s",
                "taps",
                "during outage",
                "rows",
                "missing",
                "duplicated",
                "out of order",
                "catch-up s",
            ),
            (
                (
                    f"{outage.outage_s:.0f}",
                    count(outage.taps),
                    count(outage.tapped_during_outage),
                    count(outage.stored_rows),
                    count(len(outage.missing)),
                    count(len(outage.duplicated)),
                    count(len(outage.out_of_order)),
                    f"{outage.catch_up_s:.1f}",
                ),
            ),
        ),
    )
    checks = (
        Check(
            "replay after a 1-hour pilot backlog",
            f">= {TARGET_REPLAY_PER_S:,} readings/s",
            f"{hour.rate:,.0f}",
            hour.rate >= TARGET_REPLAY_PER_S,
        ),
        Check(
            f"replay of the {days.label} backlog",
            f">= {TARGET_REPLAY_PER_S:,} readings/s",
            f"{days.rate:,.0f}",
            days.rate >= TARGET_REPLAY_PER_S,
        ),
        *(
            Check(
                f"replay with receipts / without ({label})",
                f">= {TARGET_RECEIPT_RATIO:.1f}",
                f"{ratio:.2f}",
                ratio >= TARGET_RECEIPT_RATIO,
            )
            for label, ratio in ratios.items()
        ),
        Check(
            "live tap -> PUBACK during replay, p99",
            f"<= {TARGET_LIVE_P99_MS:.0f} ms",
            _ms(p99),
            None if p99 is None else p99 <= TARGET_LIVE_P99_MS,
        ),
        Check(
            "agent RSS at pilot load (max)",
            f"<= {megabytes(TARGET_RSS_BYTES)} MB",
            megabytes(footprint.rss_max),
            footprint.rss_max <= TARGET_RSS_BYTES,
        ),
        Check(
            "agent CPU at pilot load",
            f"<= {TARGET_CPU_PERCENT:.0f} % of a core",
            f"{footprint.cpu_percent:.2f} %",
            footprint.cpu_percent <= TARGET_CPU_PERCENT,
        ),
        Check(
            "a week of pilot telemetry in the outbox",
            "<= 1,000 MB",
            megabytes(int(outbox["week_bytes"])),
            outbox["week_bytes"] <= TARGET_WEEK_BYTES,
        ),
        Check(
            f"{outage.outage_s:.0f} s broker outage",
            "every tap once, in order",
            "yes" if outage.ok else "NO",
            outage.ok,
        ),
    )
    figures: dict[str, Any] = {
        "outbox": outbox,
        "replay": {
            run.label: {
                "readings": run.backlog,
                "seconds": run.seconds,
                "readings_per_s": run.rate,
                "live_taps": len(run.latencies_ms),
                "live_p50_ms": run.quantile(50),
                "live_p99_ms": run.quantile(99),
            }
            for run in replays
        },
        "receipt_ratio": ratios,
        "live_max_ms": live_max,
        "live_p50_ms": p50,
        "footprint": {
            "seconds": footprint.seconds,
            "rss_max_bytes": footprint.rss_max,
            "rss_end_bytes": footprint.rss_end,
            "cpu_percent": footprint.cpu_percent,
        },
        "outage": {
            "outage_s": outage.outage_s,
            "taps": outage.taps,
            "tapped_during_outage": outage.tapped_during_outage,
            "stored_rows": outage.stored_rows,
            "missing": len(outage.missing),
            "duplicated": len(outage.duplicated),
            "out_of_order": outage.out_of_order,
            "catch_up_s": outage.catch_up_s,
        },
    }
    notes = (
        (
            "Replay: readings/s from the publisher's first take to the last PUBACK, backlog built "
            "on disk beforehand with the pilot's mix (sandbox.bench.outbox); default settings "
            "(the backlog is paced at 30,000 readings/s, 100 readings or 64 KiB a message, "
            "at most 19 messages in flight: Mosquitto's Receive Maximum of 20, one slot kept "
            "for births); mosquitto_sub stands in for the collector (QoS 1)."
        ),
        (
            "Receipts: the same backlogs with a confirming collector's stand-in "
            "(sandbox.bench.agent.confirmer, its own process: takes every message at QoS 1, "
            "sends one receipt per gateway every 50 ms, stores nothing); the clock stops at "
            "the last receipt, so it includes the receipts' trip back and the outbox's deletes "
            "by seq (up to 256 messages unconfirmed). Not InfluxDB: the collector's own "
            "figures are in collector.md."
        ),
        (
            f"Live: a card every {TAP_EVERY_S * 1000:.0f} ms submitted like a reader thread "
            "(durable append, fsync included) during the second replay; latency = submit() to "
            "the PUBACK of the message carrying it, measured in the publisher's process."
        ),
        "Footprint: /proc of the pelangi-agent process after a 5 s warm-up; a tap and a door "
        "change every 20 s; "
        + (
            "switches polled every 10 s (quick run: busier than the pilot)."
            if quick
            else "switches polled every 60 s as in the pilot."
        ),
        (
            f"Outage: readers tap {2 * 10} new cards a second (over 10x the pilot's whole "
            "rate) through the whole chain; make test runs the same scenario with a 20 s outage."
        ),
    )
    lost = [*(loss for run in replays for loss in run.lost), *footprint.lost, *outage.problems()]
    return BenchResult(
        name=NAME,
        title="store and forward: outbox, replay through the broker, live latency, footprint",
        parameters={"quick": quick, "outage_s": outage.outage_s, "footprint_s": footprint.seconds},
        tables=tables,
        checks=checks,
        figures=figures,
        notes=notes,
        lost=tuple(lost),
    )


def _ms(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"
