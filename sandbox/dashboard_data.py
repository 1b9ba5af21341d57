"""A small office's telemetry for proving the dashboards: readings, rollups, recaps, alerts.

Everything is built from the project's own schema, never from hand-written field names:

- :func:`demo_day` - envelopes of realistic readings for the last day (switch ports every
  5 minutes, door statements and changes, card taps, gateway health, a port flap, a lost
  switch), to be *published* to a real collector;
- :func:`month_lines` - a coarser month of the same readings before that day, encoded by
  the collector's own :func:`~collector.storage.points.reading_to_point`;
- :func:`rollup_statements` - the ``SELECT ... INTO`` of every continuous query
  ``setup-db`` creates (:func:`collector.storage.setup_v1.continuous_queries`), with an
  explicit time range, so the ``rollup`` retention policy holds exactly what the CQs write;
- :func:`attendance_lines` - ``attendance_day`` points by
  :func:`collector.attendance.taps.day_lines`;
- :func:`alert_lines` - ``alert`` annotation points (the schema of
  :mod:`collector.alerts.annotations`).
"""

from __future__ import annotations

import itertools
import math
import random
from dataclasses import fields
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from collector.alerts.annotations import MEASUREMENT as ALERT
from collector.attendance.model import DayResult, Status
from collector.attendance.taps import day_lines
from collector.metrics import Snapshot
from collector.plausibility import TS_TOO_OLD
from collector.selfstats import stats_line
from collector.storage.lineprotocol import Point, to_line
from collector.storage.points import reading_to_point
from collector.storage.setup_v1 import continuous_queries
from edge_agent.outbox import OutboxStats
from edge_agent.uplink.delivery import ConnectionStats
from edge_agent.uplink.fallback import FallbackStats
from edge_agent.uplink.report import UplinkSnapshot, delivery_health
from pelangi.card import CardId
from pelangi.payloads import (
    SCHEMA_VERSION,
    AgentHealth,
    CardRead,
    DoorReading,
    Envelope,
    InterfaceReading,
    PortChange,
    Reachability,
)

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from collector.config import RetentionSettings
    from pelangi.payloads import Reading

SITE: Final = "kantor-bupati"
GATEWAYS: Final = ("gw-lobi", "gw-server")
SWITCHES: Final = ("sw-lantai1", "sw-lantai2")
PORTS: Final = 8
DOORS: Final = ("pintu-utama", "pintu-arsip", "pintu-server")
READERS: Final = ("rfid-lobi",)
UNITS: Final = ("SETDA", "BKD", "DISKOMINFO")
EMPLOYEES: Final = 60
NS: Final = 1_000_000_000
MINUTE_NS: Final = 60 * NS
DAY_NS: Final = 86_400 * NS
WITA: Final = timedelta(hours=8)


def _envelope(gateway: str, device: str, readings: Sequence[Reading]) -> Envelope:
    return Envelope(
        v=SCHEMA_VERSION, site=SITE, gateway=gateway, device=device, readings=tuple(readings)
    )


def _interface(seq: int, ts: int, port: int, load: float) -> InterfaceReading:
    down = port == PORTS  # the last port of each switch is unplugged
    return InterfaceReading(
        seq=seq,
        ts=ts,
        if_index=port,
        port=f"ge-0/0/{port}",
        alias=f"ruang {port}",
        admin="up",
        oper="down" if down else "up",
        speed_mbps=1000,
        in_bps=0.0 if down else 2e6 * load * port,
        out_bps=0.0 if down else 1e6 * load * port,
        in_errors_ps=0.0 if port != 3 else 0.02 * load,
        out_errors_ps=0.0,
        in_discards_ps=0.01 * load,
        out_discards_ps=0.0,
    )


def _office_load(ts: int) -> float:
    """0.1 at night, up to 1.0 at midday WITA."""
    hour = ((ts // NS) / 3600 + 8) % 24
    return 0.1 + 0.9 * max(0.0, math.sin(math.pi * (hour - 7) / 10)) if 7 <= hour <= 17 else 0.1


def readings(
    start_ns: int, end_ns: int, step_ns: int, seed: int = 12, health_ns: int | None = None
) -> Iterator[Envelope]:
    """Envelopes of every kind of reading from ``start_ns`` to ``end_ns``, polls every ``step_ns``.

    Per step: one poll of every switch (all ports in one envelope), a health reading of
    every gateway every ``health_ns`` (default: every step); door statements every step
    and a change in office hours; card taps in office hours; one port flap and one lost
    switch in the middle.
    """
    rng = random.Random(seed)  # noqa: S311 - synthetic readings, not secrets
    seq = 0
    middle = start_ns + (end_ns - start_ns) // 2
    for ts in range(start_ns, end_ns, step_ns):
        load = _office_load(ts)
        for switch in SWITCHES:
            polled = [_interface(seq + p, ts, p, load) for p in range(1, PORTS + 1)]
            seq += PORTS
            yield _envelope(GATEWAYS[1], switch, polled)
        for gateway, at in itertools.product(
            GATEWAYS, range(ts, ts + step_ns, health_ns or step_ns)
        ):
            health = AgentHealth(
                seq=seq,
                ts=at,
                cpu_percent=5 + 20 * load * rng.random(),
                rss_bytes=40_000_000 + rng.randrange(5_000_000),
                disk_free_bytes=8_000_000_000,
                uptime_s=float((at - start_ns) // NS),
                counters=health_counters(waiting=rng.randrange(3), evicted=seq // 5000),
            )
            seq += 1
            yield _envelope(gateway, "agent", [health])
        for index, door in enumerate(DOORS):
            busy = load > 0.5 and (ts // step_ns + index) % 3 == 0
            state = "open" if busy else "closed"
            yield _envelope(
                GATEWAYS[0], door, [DoorReading(seq=seq, ts=ts, state=state, change=busy)]
            )
            seq += 1
        if load > 0.2 and rng.random() < 0.5:
            taps = [
                CardRead(seq=seq + n, ts=ts + n * NS, card=_card(rng.randrange(EMPLOYEES)))
                for n in range(3)
            ]
            seq += 3
            yield _envelope(GATEWAYS[0], READERS[0], taps)
        if ts <= middle < ts + step_ns:
            yield from _incidents(seq, ts)
            seq += 4


def health_counters(*, waiting: int, evicted: int) -> dict[str, int]:
    """An agent's health counters, named by the agent itself (``delivery_health``)."""
    values: dict[str, Any] = dict.fromkeys((f.name for f in fields(OutboxStats)), 0)
    values |= {"path": "/var/lib/pelangi-agent/outbox.db", "available": True, "error": None}
    values |= {"telemetry": waiting, "oldest_age_s": float(waiting), "oldest_awaiting_s": None}
    values |= {"evicted_telemetry_age": evicted}
    outbox = OutboxStats(**values)
    snapshot = UplinkSnapshot(
        address="mqtt.kantor:8883",
        username="gw",
        outbox=outbox,
        fallback=FallbackStats(**dict.fromkeys((f.name for f in fields(FallbackStats)), 0)),
        connection=ConnectionStats(
            connected=True,
            attempts=1,
            connections=1,
            births=1,
            bdseq=1,
            receipts=0,
            receipt_mode=True,
        ),
        holding=False,
        waiting_for="",
        refusals=(),
        unsendable=0,
        bdseq_problem=None,
    )
    return dict(delivery_health(snapshot).counters)


def _card(employee: int) -> CardId:
    uid = f"{0x00A10000 + employee:08X}"
    return CardId(raw=f"01{uid}", uid=uid, bits=32)


def _incidents(seq: int, ts: int) -> Iterator[Envelope]:
    flap = [
        PortChange(seq=seq, ts=ts, if_index=2, port="ge-0/0/2", previous="up", current="down"),
        PortChange(
            seq=seq + 1, ts=ts + NS, if_index=2, port="ge-0/0/2", previous="down", current="up"
        ),
    ]
    yield _envelope(GATEWAYS[1], SWITCHES[0], flap)
    lost = [
        Reachability(seq=seq + 2, ts=ts, reachable=False, detail="SNMP timeout"),
        Reachability(seq=seq + 3, ts=ts + 60 * NS, reachable=True),
    ]
    yield _envelope(GATEWAYS[1], SWITCHES[1], lost)


def demo_day(now_ns: int) -> list[Envelope]:
    """The last day (ending a minute before ``now_ns``), everything every minute as in the pilot.

    It ends with a problem still open, as a demo office has one: the second switch is
    out of reach since the last poll (and an alert about it is still firing).
    """
    end = now_ns - MINUTE_NS
    day = list(readings(end - DAY_NS, end, MINUTE_NS))
    start = [  # the agent states every switch's reachability when it starts polling it
        _envelope(
            GATEWAYS[1], switch, [Reachability(seq=10**9 + n, ts=end - DAY_NS, reachable=True)]
        )
        for n, switch in enumerate(SWITCHES)
    ]
    lost = Reachability(seq=10**9 + 9, ts=end, reachable=False, detail="SNMP timeout")
    return [*start, *day, _envelope(GATEWAYS[1], SWITCHES[1], [lost])]


def month_lines(before_ns: int, days: int = 30, step_ns: int = 30 * MINUTE_NS) -> list[str]:
    """``days`` of readings before ``before_ns`` as line protocol, by the collector's encoder."""
    return [
        to_line(reading_to_point(envelope, reading))
        for envelope in readings(before_ns - days * DAY_NS, before_ns, step_ns, seed=30)
        for reading in envelope.readings
    ]


def rollup_statements(
    database: str, raw: str, retention: RetentionSettings, start_ns: int, end_ns: int
) -> list[str]:
    """Each continuous query's ``SELECT ... INTO``, for ``[start_ns, end_ns)`` only."""
    statements = []
    for statement in continuous_queries(database, raw, retention).values():
        select = statement.split(" BEGIN ", 1)[1].removesuffix(" END")
        head, group = select.split(" GROUP BY ", 1)
        where = f"WHERE time >= {start_ns} AND time < {end_ns}"
        statements.append(f"{head} {where} GROUP BY {group}")
    return statements


def band(minutes: int) -> int:
    """TL/PSW band of ``minutes`` late or early: 0 (none), 1-4 by 30-minute steps."""
    return 0 if minutes <= 0 else min(4, (minutes - 1) // 30 + 1)


def day_result(  # noqa: PLR0913 - one recap's parts
    employee: str, day: date, unit: str, status: Status, *, late: int, early: int
) -> DayResult:
    """One day's recap: 07:30-16:00 WITA, ``late`` and ``early`` minutes off, their bands."""
    midnight = datetime(day.year, day.month, day.day, tzinfo=UTC) - WITA
    present = status is Status.HADIR
    return DayResult(
        employee=employee,
        day=day,
        unit=unit,
        status=status,
        check_in=midnight + timedelta(hours=7, minutes=30 + late) if present else None,
        check_out=midnight + timedelta(hours=16, minutes=-early) if present else None,
        minutes_late=late,
        minutes_early=early,
        worked_minutes=510 - late - early if present else 0,
        tl=band(late),
        psw=band(early),
    )


def attendance_lines(last_day: date, days: int = 30, seed: int = 7) -> list[str]:
    """``attendance_day`` points of the ``days`` up to ``last_day`` (weekends: ``libur``)."""
    rng = random.Random(seed)  # noqa: S311 - synthetic readings, not secrets
    lines: list[str] = []
    for offset in range(days):
        day = last_day - timedelta(days=offset)
        weekend = day.weekday() >= 5
        results = []
        for employee in range(EMPLOYEES):
            status = rng.choice((Status.HADIR,) * 12 + (Status.SAKIT, Status.TANPA_KETERANGAN))
            status = Status.LIBUR if weekend else status  # the job recaps every day
            present = status is Status.HADIR
            # Late arrivals and early leaves in every band (1-30, 31-60, 61-90, 91+ minutes).
            late = rng.choice((0, 0, 0, 0, 10, 40, 70, 100)) if present else 0
            early = rng.choice((0, 0, 0, 0, 0, 0, 15, 45, 75, 120)) if present else 0
            unit = UNITS[employee % len(UNITS)]
            results.append(
                day_result(f"emp-{employee:04d}", day, unit, status, late=late, early=early)
            )
        lines.extend(day_lines(results))
    return lines


ALERT_RULES: Final = (
    ("door_held_open", DOORS[0], "warning"),
    ("door_forced_open", DOORS[1], "critical"),
    ("door_after_hours", DOORS[2], "warning"),
    ("gateway_offline", "agent", "critical"),
    ("outbox_backlog", "agent", "warning"),
    ("port_utilisation", SWITCHES[0], "warning"),
    ("port_down", SWITCHES[0], "warning"),
    ("agent_problems", "agent", "warning"),
    ("card_unknown", READERS[0], "info"),
    ("switch_unreachable", SWITCHES[1], "critical"),
)
"""Rules of :mod:`collector.alerts.rules` taking turns; the last one is still firing."""


def alert_lines(start_ns: int, end_ns: int, count: int = 6) -> list[str]:
    """``alert`` annotations, firing then resolved, spread over the range; the last still firing."""
    step = (end_ns - start_ns) // (count + 1)
    lines = []
    for n in range(count):
        at = start_ns + (n + 1) * step
        rule, device, severity = ALERT_RULES[n % len(ALERT_RULES)]
        gateway = GATEWAYS[0] if rule.startswith("door") else GATEWAYS[1]
        tags = {"rule": rule, "site": SITE, "gateway": gateway, "device": device}
        tags["severity"] = severity
        phases = [("firing", 0)] if n == count - 1 else [("firing", 0), ("resolved", 600 * NS)]
        for state, delta in phases:
            fields: dict[str, str | bool] = {"state": state, "value": "6 menit", "item": ""}
            fields["suppressed"] = False
            lines.append(to_line(Point(ALERT, tags, dict(fields), at + delta)))
    return lines


def collector_stats_lines(start_ns: int, end_ns: int, step_ns: int) -> list[str]:
    """The collector's ``collector_stats`` history (its own ``stats_line``), every ``step_ns``.

    What a collector running all along would have written: totals growing, a rejected
    message and a refused reading now and then.
    """
    lines = []
    before = None
    for n, ts in enumerate(range(start_ns, end_ns, step_ns)):
        now = Snapshot(
            messages_received=40 * n,
            messages_rejected={"bad_topic": n // 50},
            readings_refused={TS_TOO_OLD: n // 80},
            readings_written=300 * n,
            writes=n,
            write_seconds=0.004 * n,
            write_seconds_max=0.02,
            batch_points_max=300,
            messages_acked=40 * n,
        )
        lines.append(stats_line("collector-1", now, before, ts))
        before = now
    return lines


def reading_count(envelopes: Sequence[Envelope]) -> int:
    """How many readings ``envelopes`` hold."""
    return sum(len(envelope.readings) for envelope in envelopes)


__all__ = [
    "ALERT_RULES",
    "DOORS",
    "GATEWAYS",
    "SITE",
    "SWITCHES",
    "UNITS",
    "alert_lines",
    "attendance_lines",
    "band",
    "collector_stats_lines",
    "day_result",
    "demo_day",
    "health_counters",
    "month_lines",
    "reading_count",
    "readings",
    "rollup_statements",
]
