"""Grafana provisioning files from the collector's configuration. Pure.

Two files in Grafana's provisioning format (``apiVersion: 1``), for
``/etc/grafana/provisioning/datasources/`` and ``/etc/grafana/provisioning/dashboards/``:

- the data source ``pelangi-influxdb`` in InfluxQL mode. InfluxDB 1.x: the database, and
  the user and password (``secureJsonData``, which Grafana encrypts once loaded). InfluxDB
  2.x/3.x: the bucket as the database through the v1 compatibility API (a DBRP mapping
  must exist for it), authorised by an ``Authorization: Token ...`` header
  (``httpHeaderName1`` / ``secureJsonData.httpHeaderValue1``);
- a file provider that loads the dashboards' JSON from a folder on the Grafana host.

The secrets are only in the returned data, which :mod:`.export` writes to a file only its
owner can read; nothing here logs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from collector.config import InfluxV1Settings
from collector.dashboards.names import DASHBOARDS_PATH, DATASOURCE_TYPE, DATASOURCE_UID

if TYPE_CHECKING:
    from collector.config import InfluxV2Settings

API_VERSION: Final = 1
DATASOURCE_NAME: Final = "Pelangi InfluxDB"
FOLDER: Final = "Pelangi"
MIN_INTERVAL: Final = "1m"
"""Agents report and switches are polled every minute: finer buckets would be empty."""


def datasource(influx: InfluxV1Settings | InfluxV2Settings) -> dict[str, Any]:
    """The data source provisioning document for the collector's InfluxDB."""
    json_data: dict[str, Any] = {"httpMode": "POST", "timeInterval": MIN_INTERVAL}
    secure: dict[str, str] = {}
    source: dict[str, Any] = {
        "name": DATASOURCE_NAME,
        "uid": DATASOURCE_UID,
        "type": DATASOURCE_TYPE,
        "access": "proxy",
        "url": influx.url,
        "isDefault": True,
        "editable": False,
    }
    if isinstance(influx, InfluxV1Settings):
        json_data["dbName"] = influx.database
        if influx.username is not None:
            source["user"] = influx.username
        if influx.password is not None:
            secure["password"] = influx.password.get_secret_value()
    else:
        # InfluxQL on 2.x/3.x: /query of the v1 API, the bucket mapped as a database.
        json_data["dbName"] = influx.bucket
        if influx.token is not None:
            json_data["httpHeaderName1"] = "Authorization"
            secure["httpHeaderValue1"] = f"Token {influx.token.get_secret_value()}"
    source["jsonData"] = json_data
    if secure:
        source["secureJsonData"] = secure
    return {"apiVersion": API_VERSION, "datasources": [source]}


def dashboard_provider(path: str = DASHBOARDS_PATH) -> dict[str, Any]:
    """The dashboard provider document: the JSON files in ``path``, in folder Pelangi."""
    provider = {
        "name": "pelangi",
        "orgId": 1,
        "folder": FOLDER,
        "type": "file",
        # The files are the source: edits in the UI would be lost at the next export.
        "disableDeletion": True,
        "allowUiUpdates": False,
        "updateIntervalSeconds": 60,
        "options": {"path": path, "foldersFromFilesStructure": False},
    }
    return {"apiVersion": API_VERSION, "providers": [provider]}


__all__ = ["dashboard_provider", "datasource"]
