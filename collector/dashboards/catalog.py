"""Every dashboard, by file name, built from what the collector's configuration knows. Pure."""

from __future__ import annotations

from typing import TYPE_CHECKING

from collector.dashboards import gateway, jaringan, kehadiran, pintu, ringkasan
from collector.dashboards.common import Places

if TYPE_CHECKING:
    from grafana_foundation_sdk.models.dashboard import Dashboard

    from collector.config import CollectorSettings


def places_of(settings: CollectorSettings) -> Places:
    """The buildings of ``alerts.buildings`` (the only place names InfluxDB lacks)."""
    buildings = settings.alerts.buildings
    return Places({name: tuple(b.gateways) for name, b in buildings.items()})


def dashboards(places: Places) -> dict[str, Dashboard]:
    """File name (``<uid>.json``) -> dashboard, in menu order."""
    built = [
        ringkasan.dashboard(places),
        pintu.dashboard(places),
        kehadiran.dashboard(),
        jaringan.dashboard(places),
        gateway.dashboard(places),
    ]
    return {f"{board.uid}.json": board for board in built}


__all__ = ["dashboards", "places_of"]
