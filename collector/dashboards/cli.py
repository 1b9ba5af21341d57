"""The ``pelangi-collector dashboards`` commands.

- ``dashboards export DIR``: the dashboards' JSON and Grafana's provisioning files,
  generated from the configuration (:mod:`.export`); prints each file written.

Exit statuses: 0 done; 1 a file could not be written; 2 a bad configuration file or
command line. The Grafana SDK is imported only when a command runs, so the collector's
other commands do not pay for it.
"""

from __future__ import annotations

from pathlib import Path  # noqa: TC003 - typer reads the annotations at run time
from typing import Annotated

import typer

from collector.cli_common import DEFAULT_CONFIG, EXIT_FAILED, ConfigOption
from collector.config import CollectorSettings
from collector.dashboards.names import DASHBOARDS_PATH
from pelangi.cli import load_or_exit

dashboards = typer.Typer(
    help="Grafana dashboards: export them with their provisioning files.",
    no_args_is_help=True,
)


@dashboards.command()
def export(
    directory: Annotated[
        Path,
        typer.Argument(
            help="Where to write (made if missing; files of the same name replaced).",
            file_okay=False,
        ),
    ],
    config: ConfigOption = DEFAULT_CONFIG,
    dashboards_path: Annotated[
        str,
        typer.Option(
            "--dashboards-path",
            help="Where the JSON files will be on the Grafana host (the provider's path).",
        ),
    ] = DASHBOARDS_PATH,
) -> None:
    """Write every dashboard's JSON and the data source and dashboard provisioning files.

    The data source file holds InfluxDB's password or token when configured: it is made
    readable by its owner only. Copy ``provisioning/*`` to /etc/grafana/provisioning/ and the
    JSON files to the provider's path (README, Grafana).
    """
    settings = load_or_exit(config, CollectorSettings)
    from collector.dashboards.export import export as write_all  # noqa: PLC0415 - the SDK is slow to import

    try:
        written = write_all(directory, settings, dashboards_path)
    except OSError as exc:
        typer.echo(f"pelangi-collector: cannot write the dashboards: {exc}", err=True)
        raise typer.Exit(EXIT_FAILED) from None
    for path in written:
        typer.echo(f"wrote {path}")


# `dashboards push --url URL` (upload to a running Grafana) is registered here too, from
# collector/dashboards/push.py.


__all__ = ["dashboards"]
