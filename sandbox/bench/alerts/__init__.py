"""Alert benchmark (issue 11): event to email accepted, and the engine at pilot load.

From the issue: the time from the reading that crosses a threshold (or the moment a
held-open timer expires) to the SMTP server accepting the message, p50 and p99 over at
least 100 alerts, target p99 <= 5 s for critical rules with their default (no) wait; and
the engine's CPU and RSS at pilot load.

Everything is a real process: Mosquitto, the aiosmtpd server, an SQLite state database and
``pelangi-collector alerts run``. The modules: :mod:`.config` (the engine's configuration
and the sites), :mod:`.pilot` (the pilot load), :mod:`.alarms` (the measured alerts and
their emails), :mod:`.mail` (what the SMTP server accepted, and when),
:mod:`.benchmark` (:func:`run`), :mod:`.report` (tables and targets).
"""

from sandbox.bench.alerts.benchmark import FULL, NAME, QUICK, Sizes, run

__all__ = ["FULL", "NAME", "QUICK", "Sizes", "run"]
