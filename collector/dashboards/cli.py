"""The ``pelangi-collector dashboards`` commands.

- ``dashboards export DIR``: the dashboards' JSON and Grafana's provisioning files,
  generated from the configuration (:mod:`.export`); prints each file written.
- ``dashboards push --url URL``: the same dashboards (and, with ``--datasource``, the data
  source) uploaded to a running Grafana over its HTTP API (:mod:`.push`).

Exit statuses: 0 done; 1 a file could not be written, or Grafana refused or could not be
reached; 2 a bad configuration file or command line. The Grafana SDK is imported only when
a command runs, so the collector's other commands do not pay for it.
"""

from __future__ import annotations

import os
from pathlib import Path
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

    Example: pelangi-collector dashboards export /tmp/pelangi-grafana -c /etc/pelangi/collector.yaml
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


@dashboards.command()
def push(  # noqa: PLR0913, PLR0917 - each is a command-line parameter, named by typer
    url: Annotated[
        str, typer.Option("--url", help="Grafana's root URL, e.g. http://grafana:3000.")
    ],
    config: ConfigOption = DEFAULT_CONFIG,
    token_env: Annotated[
        str,
        typer.Option(
            "--token-env", help="The environment variable holding a service account token."
        ),
    ] = "GRAFANA_TOKEN",  # noqa: S107 - the variable's name, not a secret
    user: Annotated[
        str | None,
        typer.Option("--user", help="Basic auth instead of a token (password: GRAFANA_PASSWORD)."),
    ] = None,
    folder: Annotated[str, typer.Option("--folder", help="The folder to put them in.")] = "Pelangi",
    with_datasource: Annotated[
        bool,
        typer.Option("--datasource", help="Create or update the InfluxDB data source first."),
    ] = False,
) -> None:
    """Upload every dashboard (and, with --datasource, the data source) to a running Grafana.

    Secrets come from the environment, never the command line (ps would show them).
    Example: GRAFANA_TOKEN=glsa_... pelangi-collector dashboards push --url http://grafana:3000
    """
    import tempfile  # noqa: PLC0415 - only push needs it

    from collector.dashboards.export import export as write_all  # noqa: PLC0415 - slow import
    from collector.dashboards.provisioning import datasource  # noqa: PLC0415
    from collector.dashboards.push import (  # noqa: PLC0415
        GrafanaError,
        describe,
        push_dashboards,
    )

    settings = load_or_exit(config, CollectorSettings)
    token = os.environ.get(token_env) if user is None else None
    if user is None and not token:
        typer.echo(
            f"pelangi-collector: set {token_env} to a Grafana service account token "
            "(or give --user and GRAFANA_PASSWORD)",
            err=True,
        )
        raise typer.Exit(2)
    source = datasource(settings.influxdb)["datasources"][0] if with_datasource else None
    with tempfile.TemporaryDirectory(prefix="pelangi-dashboards-") as directory:
        write_all(Path(directory), settings)
        try:
            results = push_dashboards(
                url,
                Path(directory),
                token=token,
                user=user,
                password=os.environ.get("GRAFANA_PASSWORD"),
                folder=folder,
                datasource=source,
            )
        except GrafanaError as exc:
            typer.echo(f"pelangi-collector: {exc}", err=True)
            raise typer.Exit(EXIT_FAILED) from None
    for line in describe(results):
        typer.echo(line)
    if not all(result.ok for result in results):
        raise typer.Exit(EXIT_FAILED)


__all__ = ["dashboards"]
