"""The last part of ``make demo``: the Grafana dashboards and their provisioning files.

No Grafana runs on the build machines, so the demo writes what an office hands to its
Grafana (``pelangi-collector dashboards export``, from the demo's own configuration: the
data source points at the demo's InfluxDB), keeps the directory, and says how to load it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from collector.dashboards.names import DASHBOARDS_PATH
from sandbox.demo.output import say, step

if TYPE_CHECKING:
    from pathlib import Path

    from sandbox.deployment import Deployment


def show_dashboards(deployment: Deployment, directory: Path) -> Path:
    """Export the dashboards into ``directory`` (kept after the demo) and say how to load them."""
    step(
        "Writing the Grafana dashboards and provisioning files: pelangi-collector dashboards export"
    )
    output = deployment.collector_command("dashboards", "export", directory)
    for line in output.splitlines():
        say(f"    {line}")
    say("    to load them into a Grafana 11.6 (none runs here; README, Grafana):")
    say(f"      sudo cp -r {directory}/provisioning/* /etc/grafana/provisioning/")
    say(f"      sudo mkdir -p {DASHBOARDS_PATH} && sudo cp {directory}/*.json {DASHBOARDS_PATH}/")
    say("      sudo systemctl restart grafana-server   # then open the Pelangi folder")
    return directory
