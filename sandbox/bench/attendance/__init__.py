"""Attendance benchmark: compute and export a month for 3,000 employees (~130,000 taps).

Target (issue 10): the whole job for the month plus its export within 2x the time
InfluxDB itself takes to return those taps, and under 10 s on the 2-core machine.

Against one private InfluxDB holding the synthetic month's taps and an SQLite state
database holding its registry (both prepared untimed), each round measures:

- (a) InfluxDB alone returning the taps: the tap store's own InfluxQL for the ranges the
  job reads, HTTP until the answer is read, then ``json.loads`` (:mod:`.baseline`);
- (b) the job computing the month: taps read, rules, ``attendance_day`` replaced in
  InfluxDB, results saved to the state database, with a per-phase breakdown
  (:mod:`.phases`);
- (c) the export: ``build_report``, the report's tables, XLSX and CSV.

The modules: :mod:`.office` (the settings, registry and stored taps), :mod:`.baseline`,
:mod:`.phases`, :mod:`.benchmark` (:func:`run`), :mod:`.report` (tables and targets).
"""

from sandbox.bench.attendance.benchmark import FULL, NAME, QUICK, Sizes, run
from sandbox.bench.attendance.phases import JOB_PHASES

__all__ = ["FULL", "JOB_PHASES", "NAME", "QUICK", "Sizes", "run"]
