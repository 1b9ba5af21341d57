"""The ``doctor`` command of ``pelangi-collector``: the checks in order, printed or as JSON."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from collector.cli_common import DEFAULT_CONFIG, ConfigOption
from collector.config import CollectorSettings
from collector.doctor.broker import broker_checks
from collector.doctor.mail import mail_checks
from collector.doctor.storage import storage_checks
from pelangi.console import JsonOption  # noqa: TC001 - typer reads annotations at run time
from pelangi.doctor.config import load_config
from pelangi.doctor.report import run_and_report

if TYPE_CHECKING:
    from pelangi.doctor import Check

NETWORK_TIMEOUT_S: Final = 5.0


def collector_checks(settings: CollectorSettings) -> list[Check]:
    """Every live check of the collector host, in the order to fix things."""
    return [
        *broker_checks(settings, NETWORK_TIMEOUT_S),
        *storage_checks(settings),
        *mail_checks(settings),
    ]


def doctor(
    config: ConfigOption = DEFAULT_CONFIG,
    as_json: JsonOption = False,  # noqa: FBT002 - a typer flag
) -> None:
    """Check, live, what the collector needs; prints ✓ / ! / ✗ per check and the fix.

    Broker (reachable, TLS, login, may subscribe to readings and publish receipts),
    InfluxDB (database, retention policies, writing), the state database, SMTP.

    Exit status: 0 all passed, 1 warnings only, 2 a failure.

    Example: pelangi-collector doctor --config /etc/pelangi/collector.yaml --json
    """
    first, settings = load_config(config, CollectorSettings, "pelangi-collector validate")
    checks = collector_checks(settings) if settings is not None else []
    raise run_and_report([first], checks, as_json=as_json)
