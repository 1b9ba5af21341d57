"""Attendance (absensi) from RFID taps: registry, calendar, rules, the job and its reports.

Computed from what InfluxDB stores, not inside a collector (collectors may be several on
one shared subscription, each seeing part of the stream): a job reads ``card_read``
points and the registry, applies the rules and writes each day's results back.
Recomputing a day gives the same result, so late data simply updates its own day.

- :mod:`collector.attendance.model`: the values (employees, cards, taps, leave, results).
- :mod:`collector.attendance.registry`: :class:`~.registry.Registry`, those values in the
  state database (:mod:`collector.state`); :mod:`.changes` its writes in one transaction,
  :mod:`.vocabulary` the unit, schedule, shift and leave names it accepts, :mod:`.errors`
  what it refuses.
"""
