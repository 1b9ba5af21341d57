"""``make bench``: benchmarks against real servers that print a table and keep their figures.

Run ``python -m sandbox.bench [--only NAME] [--quick]``; see ``bench/README.md``
for what each benchmark measures and how to read it.

- :mod:`sandbox.bench.collector` (a package: workload, broker sessions, baselines, the
  collector process, report): end-to-end readings/s from a pre-filled persistent session
  into InfluxDB, beside a count-only subscriber, raw InfluxDB ingest and a naive bridge
  measured in the same run.
- :mod:`sandbox.bench.agent` (a package: replay, footprint): store and forward, from the
  outbox alone (:mod:`sandbox.bench.outbox`) through the broker to a broker outage
  through the whole chain (:mod:`sandbox.bench.outage`).
- :mod:`sandbox.bench.snmp`: a full interface-table poll through the agent's SNMP
  client against ``snmpbulkwalk`` of the same tables, side by side.
- :mod:`sandbox.bench.report`: tables, targets and the results files;
  :mod:`sandbox.bench.machine`: where a benchmark ran and whether the machine was quiet;
  :mod:`sandbox.bench.procfs`: a child process's memory and CPU time from ``/proc``.

Benchmarks report, they do not gate: a missed target is printed as ``FAIL``, but only a
run that lost data or crashed makes the command exit non-zero.
"""

from sandbox.bench.report import BenchResult, Check, Table

__all__ = ["BenchResult", "Check", "Table"]
