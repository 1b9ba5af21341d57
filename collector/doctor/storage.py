"""The collector's storage checks: InfluxDB and the state database.

InfluxDB: reachable, database and retention policies as setup-db makes them, writing.
The state database: it answers, and its schema is at head.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Final

from collector.config import InfluxV1Settings
from collector.errors import CollectorError
from collector.state import migrate
from collector.state.cli import revision_of
from collector.storage.influx_v1 import InfluxV1Writer, quote_ident
from collector.storage.setup_v1 import RAW, ROLLUP
from pelangi.doctor import Check, Finding, failed, passed, skipped

if TYPE_CHECKING:
    from collector.config import CollectorSettings

PROBE_MEASUREMENT: Final = "pelangi_doctor"
"""Where the write test goes, and is dropped again: no dashboard or rollup reads it."""
INFLUX: Final = "InfluxDB reachable"
SETUP_FIX: Final = "run pelangi-collector setup-db (safe to run again)"


def influx_reachable(influx: InfluxV1Settings) -> Finding:
    """Whether InfluxDB answers /ping, and its version."""
    writer = InfluxV1Writer(influx)
    try:
        version = writer.ping()
    except CollectorError as exc:
        return failed(
            str(exc),
            "check influxdb.url and that InfluxDB runs (sudo systemctl status influxdb)",
        )
    finally:
        writer.close()
    return passed(f"{influx.url} answers (InfluxDB {version})")


def influx_setup(influx: InfluxV1Settings) -> Finding:
    """Whether the database and the retention policies setup-db makes are there."""
    writer = InfluxV1Writer(influx)
    try:
        if influx.database not in writer.databases():
            return failed(f"database {influx.database!r} does not exist", SETUP_FIX)
        policies = writer.retention_policies()
    except CollectorError as exc:
        return failed(str(exc), "check influxdb.username and influxdb.password")
    finally:
        writer.close()
    wanted = [influx.retention_policy or RAW, ROLLUP]
    missing = [name for name in wanted if name not in policies]
    if missing:
        return failed(
            f"database {influx.database!r} lacks retention policy {', '.join(missing)}", SETUP_FIX
        )
    return passed(f"database {influx.database!r} with retention policies {', '.join(wanted)}")


def influx_write(influx: InfluxV1Settings, collector_id: str) -> Finding:
    """Write a test point, read it back and drop it again."""
    writer = InfluxV1Writer(influx)
    line = f"{PROBE_MEASUREMENT},collector={collector_id} ok=1i {time.time_ns()}"
    try:
        writer.write([line])
        # Constants and a quoted identifier only: nothing from outside goes into the query.
        query = f"SELECT count(ok) FROM {writer.measurement(PROBE_MEASUREMENT)}"  # noqa: S608
        found = writer.select(query)
        writer.select(f"DROP MEASUREMENT {quote_ident(PROBE_MEASUREMENT)}")
    except CollectorError as exc:
        return failed(
            f"cannot write a test point: {exc}",
            "give influxdb.username WRITE (and READ) on the database: GRANT ALL ON "
            f"{quote_ident(influx.database)} TO <user>, as an InfluxDB admin",
        )
    finally:
        writer.close()
    if not found:
        return failed("a test point was accepted but could not be read back", SETUP_FIX)
    return passed(f"wrote, read back and dropped a test point ({PROBE_MEASUREMENT})")


def state_schema(settings: CollectorSettings) -> Finding:
    """Whether the state database answers and its schema is this Pelangi's newest."""
    state = settings.state
    try:
        revision = revision_of(state)
    except CollectorError as exc:
        return failed(str(exc), f"check state.url ({state.display_url}) and that the server runs")
    head = migrate.head()
    if revision == head:
        return passed(f"{state.display_url} at revision {head} (head)")
    if revision is not None and not migrate.known(revision):
        return failed(
            f"{state.display_url} is at revision {revision}, newer than this Pelangi knows",
            "upgrade Pelangi on this host to the version that upgraded the database",
        )
    return failed(
        f"{state.display_url} is at revision {revision or 'none (empty)'}, head is {head}",
        "take a backup, then run pelangi-collector state upgrade",
    )


def storage_checks(settings: CollectorSettings) -> list[Check]:
    """InfluxDB (1.x only), then the state database."""
    influx = settings.influxdb
    checks: list[Check] = []
    if isinstance(influx, InfluxV1Settings):
        timeout = influx.timeout_s * 3 + 1
        checks += [
            Check(INFLUX, lambda: influx_reachable(influx), timeout),
            Check("InfluxDB database", lambda: influx_setup(influx), timeout, (INFLUX,)),
            Check(
                "InfluxDB write",
                lambda: influx_write(influx, settings.collector_id),
                timeout,
                (INFLUX,),
            ),
        ]
    else:
        checks.append(Check(INFLUX, lambda: skipped("InfluxDB 2.x: doctor checks 1.x only")))
    checks.append(Check("state database", lambda: state_schema(settings), 30.0))
    return checks
