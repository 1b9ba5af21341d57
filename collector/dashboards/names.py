"""Names the dashboards, the provisioning files and Grafana must agree on (no SDK import)."""

from __future__ import annotations

from typing import Final

DATASOURCE_TYPE: Final = "influxdb"
"""Grafana's plugin id of the InfluxDB data source (also the SDK's variant identifier)."""
DATASOURCE_UID: Final = "pelangi-influxdb"
"""The provisioned data source's fixed uid: never a ``${DS_...}`` import placeholder."""
DASHBOARDS_PATH: Final = "/var/lib/grafana/dashboards/pelangi"
"""Where the provider looks for the dashboards' JSON on the Grafana host (by default)."""

__all__ = ["DASHBOARDS_PATH", "DATASOURCE_TYPE", "DATASOURCE_UID"]
