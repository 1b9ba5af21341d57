"""Dashboards benchmark: every panel query of ``dashboards/*.json`` on pilot-sized data.

Target (issue 12): each query <= 1 s for its default range and for a 1-year range, the
slowest named. A private InfluxDB 1.6 is set up as ``setup-db`` does (``raw`` and
``rollup`` retention policies, continuous queries) and filled straight with line
protocol (:mod:`.data`): 30 days of raw readings (3 switches x 24 ports every 60 s, 50
doors, 10 gateways, 3,000 employees' taps), a year of 5-minute rollups named as the
continuous queries name them, 90 days of ``attendance_day`` recaps and ``alert``
annotations. Then every target is interpolated as Grafana would
(:mod:`sandbox.grafana_queries`) and timed over HTTP (:mod:`sandbox.dashboard_proof`).
``--quick`` uses a scaled-down office and says so in its notes.
"""

from sandbox.bench.dashboards.benchmark import FULL, NAME, QUICK, run
from sandbox.bench.dashboards.data import Office

__all__ = ["FULL", "NAME", "QUICK", "Office", "run"]
