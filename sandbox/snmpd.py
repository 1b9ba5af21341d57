"""The snmpd stand-in for a switch, and the credentials it accepts.

It lives in :mod:`sandbox.servers.snmpd` with the other servers; this module keeps the
short import path tests use (``from sandbox.snmpd import COMMUNITY, Snmpd``).
"""

from sandbox.servers.snmpd import COMMUNITY, V3_AUTH_KEY, V3_PRIV_KEY, V3_USER, Snmpd

__all__ = ["COMMUNITY", "V3_AUTH_KEY", "V3_PRIV_KEY", "V3_USER", "Snmpd"]
