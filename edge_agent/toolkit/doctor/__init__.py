"""``pelangi-agent doctor``: live checks of everything this gateway needs, with the fixes.

Modules, one group of checks each: :mod:`.broker` (broker, TLS, login, ACL, collectors,
clock), :mod:`.devices` (serial ports, reader reads, switches), :mod:`.storage` (outbox
folder and backlog), :mod:`.clock` (the clock judgement, NTP); :mod:`.command` puts them
in order behind the command. The runner, result model and report are shared with the
collector's doctor (:mod:`pelangi.doctor`).
"""

from __future__ import annotations

from edge_agent.toolkit.doctor.command import agent_checks, doctor

__all__ = ["agent_checks", "doctor"]
