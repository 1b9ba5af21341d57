"""Attendance (absensi) from RFID taps: registry, calendar, rules, the job and its reports.

Computed from what InfluxDB stores, not inside a collector (collectors may be several on
one shared subscription, each seeing part of the stream): a job reads ``card_read``
points and the registry, applies the rules and writes each day's results back.
Recomputing a day gives the same result, so late data simply updates its own day.

- :mod:`collector.attendance.model`: the values (employees, cards, taps, leave, results).
- :mod:`collector.attendance.settings` (with :mod:`~collector.attendance.schedules`): the
  ``attendance:`` settings: units, office and shift schedules, leave kinds, readers, bands,
  dated penalties.
- :mod:`collector.attendance.holidays`: holidays and cuti bersama from a data file.
- :mod:`collector.attendance.calendar`: the expected working period of an employee on a date.
- :mod:`collector.attendance.windows`: which period a tap belongs to; the taps a date needs.
- :mod:`collector.attendance.rules`: every employee's days from taps, registry and calendar
  (with :mod:`~collector.attendance.cards`, :mod:`~collector.attendance.duplicates`,
  :mod:`~collector.attendance.daily`, :mod:`~collector.attendance.bands`).
- :mod:`collector.attendance.summary`, :mod:`collector.attendance.sanctions`: a month's
  summary, a year's unexcused absence against PP 94/2021.
- :mod:`collector.attendance.registry`: :class:`~.registry.Registry`, those values in the
  state database (:mod:`collector.state`); :mod:`.changes` its writes in one transaction,
  :mod:`.vocabulary` the unit, schedule, shift and leave names it accepts;
  :mod:`.imports`: employees, leave and rosters from CSV and XLSX files.
- :mod:`collector.attendance.errors`: ``AttendanceError`` and its kinds.

The rules are pure: no IO but reading the holiday file (README: "Attendance rules").
"""
