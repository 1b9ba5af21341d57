"""The numeric OIDs Pelangi polls (Debian ships no IF-MIB module, and pysnmp bundles none).

Every column is named after its IF-MIB object; the comment gives the SNMP type, which
decides how :mod:`edge_agent.snmp.rates` treats it.
"""

from __future__ import annotations

from typing import Final

SYS_UPTIME: Final = (1, 3, 6, 1, 2, 1, 1, 3, 0)  # TimeTicks, 1/100 s, wraps after ~497 days
SYS_NAME: Final = (1, 3, 6, 1, 2, 1, 1, 5, 0)  # DisplayString

_IF_TABLE: Final = (1, 3, 6, 1, 2, 1, 2, 2, 1)
_IFX_TABLE: Final = (1, 3, 6, 1, 2, 1, 31, 1, 1, 1)

# column name -> column OID; a row's cell is COLUMN_OID + (ifIndex,)
COLUMNS: Final[dict[str, tuple[int, ...]]] = {
    "descr": (*_IF_TABLE, 2),  # ifDescr, DisplayString
    "admin": (*_IF_TABLE, 7),  # ifAdminStatus, 1 up 2 down 3 testing
    "oper": (*_IF_TABLE, 8),  # ifOperStatus, 1 up 2 down ... 7 lowerLayerDown
    "in_discards": (*_IF_TABLE, 13),  # Counter32
    "in_errors": (*_IF_TABLE, 14),  # Counter32
    "out_discards": (*_IF_TABLE, 19),  # Counter32
    "out_errors": (*_IF_TABLE, 20),  # Counter32
    "name": (*_IFX_TABLE, 1),  # ifName, DisplayString
    "hc_in_octets": (*_IFX_TABLE, 6),  # Counter64
    "hc_out_octets": (*_IFX_TABLE, 10),  # Counter64
    "high_speed": (*_IFX_TABLE, 15),  # Gauge32, Mb/s
    "alias": (*_IFX_TABLE, 18),  # ifAlias, DisplayString (free text typed by an admin)
    "discontinuity": (*_IFX_TABLE, 19),  # TimeStamp (sysUpTime of the last discontinuity)
}

OPER_STATUS: Final[dict[int, str]] = {
    1: "up",
    2: "down",
    3: "testing",
    4: "unknown",
    5: "dormant",
    6: "not_present",
    7: "lower_layer_down",
}
ADMIN_STATUS: Final[dict[int, str]] = {1: "up", 2: "down", 3: "testing"}
