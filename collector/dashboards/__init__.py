"""Grafana dashboards as code: five dashboards and their provisioning files.

Built with Grafana's Foundation SDK (pinned to its build for Grafana 11.6) plus a small
InfluxQL target of our own (:mod:`.influxql`; the SDK has no InfluxDB query builder), and
written as JSON by :mod:`.export` (``pelangi-collector dashboards export DIR``):

- ``pelangi-ringkasan`` (:mod:`.ringkasan`): the office now;
- ``pelangi-pintu`` (:mod:`.pintu`): doors;
- ``pelangi-kehadiran`` (:mod:`.kehadiran`): attendance;
- ``pelangi-jaringan`` (:mod:`.jaringan`): switches and ports;
- ``pelangi-gateway`` (:mod:`.gateway`): gateways, agents and the collector.

Queries are InfluxQL (InfluxDB 1.x, 2.x through its v1 API, 3.x) against the data source
uid ``pelangi-influxdb``, never a ``${DS_...}`` placeholder.

Retention policies (``setup-db`` makes ``raw``, the default, and ``rollup``, 5-minute
aggregates kept for years): which a panel reads is decided per panel, in the query.

- Panels whose field keeps its name in the rollup (interface rates, agent CPU and uptime,
  the collector's totals) read ``"$rp"``: the dashboard variable ``rp``, ``raw`` by
  default; pick ``rollup`` for ranges longer than a day. Grafana cannot switch it by the
  range by itself, so this is the reader's choice (the variable's label says when).
- Panels with their own long range (``timeFrom`` of 30 days) read ``"rollup"`` always.
- Panels of fields the rollup does not keep (door states, port status, outbox counters,
  agent memory, attendance, alerts, dead letters) read ``"raw"`` always: they are cheap
  (one point per change or per minute) or have no rollup at all.

Nothing here is imported by the collector's other commands: the SDK loads only when a
dashboards command runs.
"""
