"""Pilot-sized telemetry as line protocol, generated fast and written straight to InfluxDB.

The benchmark needs months of data in seconds, so lines are formatted here directly, not
through the collector (the query test, ``tests/test_dashboards_queries.py``, proves the
collector's own points). Names and types follow :mod:`collector.storage.points` (raw) and
:data:`collector.storage.setup_v1.ROLLUPS` (rollup: the continuous queries' ``AS`` names;
``mean`` gives floats, ``count`` integers, ``min``/``max`` the field's own type).
``attendance_day`` lines come from :func:`collector.attendance.taps.day_lines` itself.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Final

from collector.attendance.model import Status
from collector.attendance.taps import day_lines
from collector.storage.setup_v1 import RAW, ROLLUP
from sandbox.dashboard_data import ALERT_RULES, collector_stats_lines, day_result, health_counters
from sandbox.dashboard_data import SITE as DEMO_SITE
from sandbox.dashboard_data import alert_lines as demo_alerts

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

SITE: Final = DEMO_SITE
NS: Final = 1_000_000_000
MINUTE_NS: Final = 60 * NS
DAY_NS: Final = 86_400 * NS
ROLLUP_STEP_NS: Final = 5 * MINUTE_NS
CHUNK: Final = 20_000
"""Lines per write: InfluxDB 1.6 ingests fastest around 5,000-50,000 per request."""
UNITS: Final = ("SETDA", "BKD", "BAPPEDA", "DISKOMINFO", "DINKES", "DISDIK")
WITA: Final = timedelta(hours=8)


@dataclass(frozen=True, slots=True)
class Office:
    """How big the office is and how much history it has."""

    switches: int
    ports: int
    doors: int
    employees: int
    gateways: int
    raw_days: int
    rollup_days: int
    attendance_days: int
    poll_s: int = 60


def _load(ts: int) -> float:
    hour = ((ts // NS) // 3600 + 8) % 24
    return 1.0 if 8 <= hour < 16 else 0.15


def _switch_tags(office: Office) -> Iterator[tuple[str, int]]:
    for s in range(office.switches):
        for p in range(1, office.ports + 1):
            tags = f"device=sw-{s},gateway=gw-net,port=ge-0/0/{p},site={SITE}"
            yield tags, p


def raw_lines(office: Office, end_ns: int) -> Iterator[str]:
    """``raw_days`` of readings before ``end_ns``: ports, doors, health, taps, events."""
    rng = random.Random(3)  # noqa: S311 - synthetic readings, not secrets
    start = end_ns - office.raw_days * DAY_NS
    step = office.poll_s * NS
    ports = list(_switch_tags(office))
    # The agent's own health counters (names as it sends them), the same every minute.
    counters = ",".join(
        f"c.{name}={value}i" for name, value in health_counters(waiting=1, evicted=0).items()
    )
    for s in range(office.switches):  # the agent states each switch's reachability first
        yield f"reachability,device=sw-{s},gateway=gw-net,site={SITE} reachable=true,up=1i {start}"
    doors = [
        f"door,device=door-{d},gateway=gw-{d % office.gateways},site={SITE}"
        for d in range(office.doors)
    ]
    last_state: dict[int, str] = {}
    for ts in range(start, end_ns, step):
        load = _load(ts)
        for tags, p in ports:
            rate = 1e6 * load * p
            yield (
                f'interface,{tags} if_index={p}i,oper="up",oper_up=1i,admin="up",'
                f"speed_mbps=1000i,in_bps={rate:.1f},out_bps={rate / 2:.1f},"
                f"in_errors_ps=0.0,out_errors_ps=0.0,in_discards_ps=0.0,out_discards_ps=0.0,"
                f"seq={ts // step}i {ts}"
            )
        for g in range(office.gateways):
            yield (
                f"agent_health,device=agent,gateway=gw-{g},site={SITE} "
                f"uptime_s={(ts - start) / NS:.1f},"
                f"cpu_percent={10 * load + rng.random():.2f},rss_bytes=41000000i,"
                f"disk_free_bytes=8000000000i,{counters},seq={ts // step}i {ts}"
            )
        if (ts // step) % 5 == 0:  # doors re-state every 5 minutes
            for d, door in enumerate(doors):
                opened = load > 0.5 and (ts // step + d) % 7 == 0
                state, code = ("open", 1) if opened else ("closed", 0)
                change = "true" if last_state.get(d, "closed") != state else "false"
                last_state[d] = state
                fields = f'state="{state}",state_code={code}i,change={change},seq={ts // step}i'
                yield f"{door} {fields} {ts}"
        if (ts // step) % 1440 == 720:  # one port flap and one lost switch a day
            tags = ports[0][0]
            yield f'port_change,{tags} if_index=1i,current="down",previous="up",up=0i,seq=1i {ts}'
            switch = f"device=sw-0,gateway=gw-net,site={SITE}"
            yield f"reachability,{switch} reachable=false,up=0i,seq=1i {ts}"
            yield f"reachability,{switch} reachable=true,up=1i,seq=2i {ts + 120 * NS}"
            dead = 'detail="Expecting value",topic="x"'
            yield f"dead_letter,collector=collector-1,reason=bad_json {dead} {ts}"
    yield from collector_stats_lines(start, end_ns, step)
    yield from _taps(office, start, end_ns)


def _taps(office: Office, start: int, end_ns: int) -> Iterator[str]:
    first_day = start - start % DAY_NS
    for day in range(first_day, end_ns, DAY_NS):
        for e in range(office.employees):
            for hour in (0, 8):  # 08:00 and 16:00 WITA
                ts = day + hour * 3600 * NS + (e % 1800) * NS
                if start <= ts < end_ns:
                    uid = f"{0x00B00000 + e:08X}"
                    yield (
                        f"card_read,device=rfid-{e % 10},gateway=gw-{e % office.gateways},"
                        f'site={SITE} uid="{uid}",raw="01{uid}",bits=32i,seq={e}i {ts}'
                    )


def rollup_lines(office: Office, end_ns: int) -> Iterator[str]:
    """``rollup_days`` of 5-minute rollups before ``end_ns``, named as the CQs name them."""
    start = end_ns - office.rollup_days * DAY_NS
    start -= start % ROLLUP_STEP_NS
    ports = list(_switch_tags(office))
    for ts in range(start, end_ns, ROLLUP_STEP_NS):
        load = _load(ts)
        for tags, p in ports:
            rate = 1e6 * load * p
            yield (
                f"interface,{tags} in_bps={rate:.1f},in_bps_max={rate * 1.5:.1f},"
                f"out_bps={rate / 2:.1f},out_bps_max={rate:.1f},in_errors_ps=0.0,"
                f"out_errors_ps=0.0,in_discards_ps=0.0,out_discards_ps=0.0,oper_up_min=1i,"
                f"speed_mbps=1000i {ts}"
            )
        for g in range(office.gateways):
            yield (
                f"agent_health,device=agent,gateway=gw-{g},site={SITE} cpu_percent={10 * load:.2f},"
                f"cpu_percent_max={12 * load:.2f},rss_bytes_max=41000000i,"
                f"disk_free_bytes_min=8000000000i,uptime_s={(ts - start) / NS:.1f} {ts}"
            )
        for d in range(office.doors):
            opened = int(load > 0.5 and (ts // ROLLUP_STEP_NS + d) % 7 == 0)
            yield (
                f"door,device=door-{d},gateway=gw-{d % office.gateways},site={SITE} "
                f"state_code_max={opened}i,statements=1i {ts}"
            )
        if load > 0.5:
            for r in range(10):
                yield (
                    f"card_read,device=rfid-{r},gateway=gw-{r % office.gateways},site={SITE} "
                    f"reads={office.employees // 100 + 1}i {ts}"
                )
        yield (
            f"collector_stats,collector=collector-1 messages_in={ts // NS}i,"
            f"readings_written={ts // NS * 100}i,unacked_messages_max=0i,write_ms_max=3.5 {ts}"
        )
        if (ts // ROLLUP_STEP_NS) % 288 == 144:
            yield f"port_change,{ports[0][0]} changes=2i,up_min=0i {ts}"
            switch = f"device=sw-0,gateway=gw-net,site={SITE}"
            yield f"reachability,{switch} reachable=false,up=0i,seq=1i {ts}"
            yield f"dead_letter,collector=collector-1,reason=bad_json dead_letters=1i {ts}"


def attendance_lines(office: Office, last_day: date) -> Iterator[str]:
    """``attendance_days`` of recaps (weekends ``libur``), by the attendance job's own encoder.

    One employee in 20 absent; late arrivals and early leaves in every TL/PSW band.
    """
    for offset in range(office.attendance_days):
        day = last_day - timedelta(days=offset)
        results = []
        for e in range(office.employees):
            status = Status.HADIR if e % 20 else Status.TANPA_KETERANGAN
            status = Status.LIBUR if day.weekday() >= 5 else status
            present = status is Status.HADIR
            late = (e * 7) % 130 if present and e % 3 == 0 else 0
            early = (e * 11) % 130 if present and e % 5 == 0 else 0
            results.append(
                day_result(
                    f"nip-{e:06d}", day, UNITS[e % len(UNITS)], status, late=late, early=early
                )
            )
        yield from day_lines(results)


def alert_lines(office: Office, end_ns: int) -> Iterator[str]:
    """Every rule's alerts, firing and resolved, over the attendance days and the last one."""
    span = office.attendance_days * DAY_NS
    yield from demo_alerts(end_ns - span, end_ns - DAY_NS, count=2 * office.attendance_days)
    yield from demo_alerts(end_ns - DAY_NS, end_ns, count=len(ALERT_RULES))


def fill(write: Callable[[str, str], None], office: Office, end_ns: int) -> dict[str, int]:
    """Write everything through ``write(lines, rp)``; return lines written per retention policy."""
    today = (datetime.fromtimestamp(end_ns / NS, UTC) + WITA).date()
    counts = {RAW: 0, ROLLUP: 0}
    sources: list[tuple[str, Iterator[str]]] = [
        (RAW, raw_lines(office, end_ns)),
        (ROLLUP, rollup_lines(office, end_ns)),
        (RAW, attendance_lines(office, today)),
        (RAW, alert_lines(office, end_ns)),
    ]
    for rp, lines in sources:
        chunk: list[str] = []
        for line in lines:
            chunk.append(line)
            if len(chunk) >= CHUNK:
                write("\n".join(chunk), rp)
                counts[rp] += len(chunk)
                chunk = []
        if chunk:
            write("\n".join(chunk), rp)
            counts[rp] += len(chunk)
    return counts


__all__ = ["Office", "alert_lines", "attendance_lines", "fill", "raw_lines", "rollup_lines"]
