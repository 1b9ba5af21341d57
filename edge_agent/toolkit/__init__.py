"""The field technician's commands of ``pelangi-agent``: ``init``, ``test-read``, ``snmp-check``.

Each lives in its own module and touches devices only through the agent's own code
(:mod:`edge_agent.serial`, :mod:`edge_agent.readers`, :mod:`edge_agent.snmp`), so what a
technician sees here is what the running agent will see.
"""
