"""``make demo``: the whole chain on this machine, from a tapped card to a row in InfluxDB.

Run as ``python -m sandbox.demo``. It starts a private Mosquitto and InfluxDB on
free loopback ports and a simulated RDM6300 reader (a socat pseudo-terminal), all in a
temporary folder; runs ``pelangi-collector setup-db``, ``pelangi-collector run`` and
``pelangi-agent run`` with generated configurations; taps a few cards (one held, one with a
broken checksum, some line noise); waits until InfluxDB holds them and prints them. Then a
door controller (another pty) opens and closes a door, an snmpd stands in for a switch, and
the demo shows the agent's health, the dead letters, the liveness messages and a broker
outage that loses nothing. The alert engine (``alerts run``, with a private aiosmtpd for
mail) emails the guard post about the main door held open, then its resolution. Last,
attendance: employees, cards, rosters and leave imported
as HR would, a month of synthetic taps computed into days, an XLSX report kept for you to
open, and today's recap with the cards tapped a moment ago. At the end, even on failure
or Ctrl-C, it stops everything it started, checks that nothing is left running and
removes the folder (the report stays). Exit status 0 means every check passed.

- :mod:`.story`: the steps in order, and :func:`~sandbox.demo.story.main`;
- :mod:`.stage`: the names the deployment uses, and what was started (to stop it all);
- :mod:`.cards`: the taps and the rows they became;
- :mod:`.devices`: a door controller and a switch (snmpd), and the agent's health;
- :mod:`.resilience`: dead letters, liveness messages, a broker outage;
- :mod:`.alerts`: the alert engine, a door held open, the emails;
- :mod:`.attendance`: the registry imports, compute, the report and today's recap;
- :mod:`.output`: printing for people (aligned tables, times in WITA).
"""
