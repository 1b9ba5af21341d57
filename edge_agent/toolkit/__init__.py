"""The field technician's commands of ``pelangi-agent``: install, check and troubleshoot.

``init``, ``test-read``, ``snmp-check`` and ``doctor`` each live in their own module and
touch devices only through the agent's own code (:mod:`edge_agent.serial`,
:mod:`edge_agent.readers`, :mod:`edge_agent.snmp`), so what a technician sees here is what
the running agent will see.
"""
