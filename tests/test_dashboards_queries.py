"""Every dashboard query, interpolated as Grafana would, runs on real data and returns rows.

No Grafana can run on these machines (see dashboards/PROOF.md), so this is the proof that
the checked-in dashboards work: a real InfluxDB 1.6, set up by the real ``pelangi-collector
setup-db`` (``raw`` and ``rollup`` retention policies, the continuous queries), holding

- a demo day of readings (switch ports, doors, card taps, gateway health, a port flap, a
  lost switch and one malformed message) **published over a real Mosquitto to a real
  ``pelangi-collector run`` process**, which also writes its own ``collector_stats`` and
  the malformed message's ``dead_letter``;
- the 30 days before it, coarser (every 30 min), encoded in-process by the collector's
  own point encoder (``reading_to_point``) and written to ``raw`` - a real month through
  MQTT would take minutes - with the collector's stats history (its own ``stats_line``);
- the ``rollup`` retention policy filled by running every continuous query's own
  ``SELECT ... INTO`` (the text ``setup-db`` installs) over the month and the day;
- ``attendance_day`` recaps (``day_lines``) and ``alert`` annotations.

Then, for every target of every ``dashboards/*.json``, for the dashboard's default range
with its variables as it opens (current value, or *All*) and for a 1-year range with one
value per variable, and for each option of the ``rp`` variable: the query is interpolated
as Grafana does (:mod:`sandbox.grafana_queries`) and must run without error and return
rows - a ``time`` column and at least one non-null value column for time series; for
tables, every ``AS`` alias of the SELECT as a column. Variable queries must return values.
Two allowances, both as Grafana behaves: a panel with a ``noValue`` (a count of open doors
when none is open) may answer with no rows, Grafana shows its ``0``; with one value per
variable, a target may try up to 20 other values of a variable it uses (the first gateway
may have no switch; a person would pick one that has).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from collector.config import RetentionSettings
from pelangi.payloads import encode
from pelangi.topics import ReadingTopic
from sandbox import dashboard_data as data
from sandbox.dashboard_proof import (
    InfluxQL,
    dashboard_files,
    load_dashboards,
    prove,
)
from sandbox.deployment import Deployment, DeploymentSettings
from sandbox.grafana_queries import iter_targets
from sandbox.servers import InfluxDB, Mosquitto
from sandbox.waiting import wait_until

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from pelangi.payloads import Envelope
    from sandbox.dashboard_proof import Mode
    from sandbox.logbook import LogBook

pytestmark = pytest.mark.servers

DASHBOARDS = load_dashboards(dashboard_files())
SPANS: dict[str, tuple[str | None, Mode]] = {"default": (None, "default"), "1y": ("1y", "single")}
DATASOURCE_UID = "pelangi-influxdb"
READING_MEASUREMENTS = "/^(interface|door|card_read|agent_health|port_change|reachability)$/"


@dataclass(frozen=True)
class Office:
    """The filled database and the moment its data ends."""

    influx: InfluxDB
    database: str
    now_ms: int


def _publish(broker: Mosquitto, envelopes: list[Envelope], poison: bytes) -> None:
    client = paho.Client(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5)
    client.max_inflight_messages_set(100)
    client.connect(broker.host, broker.port)
    client.loop_start()
    try:
        infos = [
            client.publish(str(ReadingTopic(e.site, e.gateway, e.device)), encode(e), qos=1)
            for e in envelopes
        ]
        bad = client.publish(str(ReadingTopic(data.SITE, "gw-lobi", "rfid-lobi")), poison, qos=1)
        for info in [*infos, bad]:
            info.wait_for_publish(timeout=30)
    finally:
        client.disconnect()
        client.loop_stop()


def _stored(influx: InfluxDB, database: str) -> int:
    query = f'SELECT count("seq") FROM "raw".{READING_MEASUREMENTS}'  # noqa: S608 - constant
    rows = influx.query(query, database)
    return sum(int(row["count"]) for row in rows)


def _through_the_collector(
    workdir: Path, influx: InfluxDB, database: str, log_book: LogBook, day: list[Envelope]
) -> None:
    """Run setup-db, start a real collector and a real broker, publish ``day``, wait for it."""
    settings = DeploymentSettings(collector_extra={"stats_interval_s": 0.5})
    broker = Mosquitto(workdir / "mosquitto")
    deployment = Deployment(
        workdir, broker=broker, influx=influx, database=database, readers=[], settings=settings
    )
    remove_logs = [
        log_book.add("mosquitto (dashboards)", broker),
        log_book.add("collector (dashboards)", deployment.collector),
    ]
    expected = data.reading_count(day)
    try:
        with broker:
            deployment.write_configs()
            deployment.setup_db()
            deployment.start_collector()
            try:
                _publish(broker, day, poison=b"{not json")
                wait_until(
                    lambda: _stored(influx, database) >= expected,
                    timeout=60,
                    what=f"the collector stored all {expected} readings of the demo day",
                )
                wait_until(
                    lambda: influx.query('SELECT count("detail") FROM "dead_letter"', database),
                    timeout=30,
                    what="the malformed message is a dead letter",
                )
            finally:
                deployment.stop()
    finally:
        for remove in remove_logs:
            remove()


@pytest.fixture(scope="module")
def office(
    influxdb: InfluxDB, tmp_path_factory: pytest.TempPathFactory, log_book: LogBook
) -> Iterator[Office]:
    database = f"t{os.getpid()}_dashboards_queries"  # one per run: the module's own
    now_ns = time.time_ns()
    _through_the_collector(
        tmp_path_factory.mktemp("dashboards"), influxdb, database, log_book, data.demo_day(now_ns)
    )
    day_start = now_ns - data.DAY_NS - data.MINUTE_NS
    influxdb.write("\n".join(data.month_lines(day_start)), database)
    # The collector ran all month: its stats history (its own encoder) before this run.
    history = data.collector_stats_lines(day_start - 30 * data.DAY_NS, now_ns, data.MINUTE_NS)
    influxdb.write("\n".join(history), database)
    retention = RetentionSettings()
    for statement in data.rollup_statements(
        database, "raw", retention, day_start - 31 * data.DAY_NS, now_ns
    ):
        influxdb.query(statement, database)
    today = (datetime.fromtimestamp(now_ns / 1e9, UTC) + timedelta(hours=8)).date()
    influxdb.write("\n".join(data.attendance_lines(today)), database)
    alerts = data.alert_lines(now_ns - 30 * data.DAY_NS, now_ns - data.DAY_NS, count=30)
    alerts += data.alert_lines(now_ns - data.DAY_NS, now_ns, count=len(data.ALERT_RULES))
    influxdb.write("\n".join(alerts), database)
    # Grafana's "now" is when the dashboard opens: after the collector's own last points.
    yield Office(influxdb, database, time.time_ns() // 1_000_000)
    if influxdb.running:
        influxdb.drop_database(database)


def test_there_are_dashboards_and_each_has_targets() -> None:
    assert DASHBOARDS, "no dashboards/*.json: make dashboards writes them"
    empty = [name for name, d in DASHBOARDS.items() if not list(iter_targets(name, d))]
    assert not empty, f"dashboards without a single query: {empty}"


def test_the_rollups_hold_what_the_continuous_queries_write(office: Office) -> None:
    measurements = office.influx.query(f'SHOW MEASUREMENTS ON "{office.database}"')
    assert measurements
    rollup = office.influx.query(
        'SELECT count("in_bps") FROM "rollup"."interface"', office.database
    )
    assert rollup
    assert int(rollup[0]["count"]) > 0


def test_every_target_names_the_fixed_datasource() -> None:
    # ${DS_...} import placeholders break provisioning (issue 12): the uid must be fixed.
    wrong = [
        f"{target.name}: {target.datasource!r}"
        for name, dashboard in DASHBOARDS.items()
        for target in iter_targets(name, dashboard)
        if target.datasource != DATASOURCE_UID
    ]
    assert not wrong, "targets without the fixed datasource uid:\n" + "\n".join(wrong)


@pytest.mark.parametrize("span", sorted(SPANS))
@pytest.mark.parametrize("dashboard", sorted(DASHBOARDS))
def test_every_query_returns_rows(office: Office, dashboard: str, span: str) -> None:
    runner = InfluxQL(office.influx.url, office.database)
    try:
        length, mode = SPANS[span]
        outcomes = list(
            prove(
                {dashboard: DASHBOARDS[dashboard]},
                runner,
                now_ms=office.now_ms,
                spans=[(span, length, mode)],
            )
        )
    finally:
        runner.close()
    assert outcomes
    failures = [outcome.describe() for outcome in outcomes if outcome.problem]
    assert not failures, f"{len(failures)} of {len(outcomes)} queries failed:\n" + "\n".join(
        failures
    )
