"""``pelangi-collector doctor``: live checks of what the collector host needs, with the fixes.

:mod:`.broker` (reachable, TLS, login, reading subscription, receipts), :mod:`.storage`
(InfluxDB: reachable, database, retention policies, write permission; the state
database: connection and schema), :mod:`.mail` (SMTP, when configured: no mail sent);
:mod:`.command` puts them in order. The runner and report are :mod:`pelangi.doctor`.
"""

from __future__ import annotations

from collector.doctor.command import collector_checks, doctor

__all__ = ["collector_checks", "doctor"]
