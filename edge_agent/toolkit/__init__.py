"""The field technician's commands of ``pelangi-agent`` (install, check, troubleshoot).

Each command's logic lives in its own module; :mod:`edge_agent.cli` only registers them.
"""
