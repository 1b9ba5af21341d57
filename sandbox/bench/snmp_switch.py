"""A simulated 48-port switch: the sandbox snmpd plus ``override`` rows in ifTable/ifXTable.

Used by the SNMP benchmark (a realistic table to walk) and the agent's footprint benchmark
(two switches at pilot load).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from sandbox.servers.snmpd import Snmpd

if TYPE_CHECKING:
    from pathlib import Path

IF_TABLE: Final = "1.3.6.1.2.1.2.2.1"
IFX_TABLE: Final = "1.3.6.1.2.1.31.1.1.1"
SIMULATED_PORTS: Final = 48
FIRST_SIMULATED_INDEX: Final = 1001
"""Simulated ports start here, clear of the machine's own ifIndex values."""


class SimulatedSwitch(Snmpd):
    """The sandbox snmpd plus 48 simulated switch ports in ifTable and ifXTable.

    snmpd's ``override`` cannot make Counter64 values, so the HC counters of the simulated
    ports are Counter32 (a few bytes shorter on the wire than a real switch's).
    """

    name = "snmpd-switch"

    def __init__(self, workdir: Path, *, ports: int = SIMULATED_PORTS) -> None:
        """Prepare an snmpd in ``workdir`` serving ``ports`` simulated ports."""
        super().__init__(workdir, sys_name="sw-bench-48")
        self.ports = ports

    def _prepare(self) -> None:
        super()._prepare()
        with self.conf_path.open("a", encoding="utf-8") as conf:
            conf.write("\n".join(simulated_port_lines(self.ports)) + "\n")


def simulated_port_lines(ports: int) -> list[str]:
    """snmpd.conf ``override`` lines for ``ports`` rows of ifTable and ifXTable (all columns)."""
    lines = []
    for port in range(1, ports + 1):
        index = FIRST_SIMULATED_INDEX + port - 1
        up = port % 3 != 0  # a third of the desks are empty
        # Counters of different magnitudes, so their BER encodings differ in length as on a switch.
        traffic = (port * 2_654_435_761) % 4_000_000_000
        if_table: list[tuple[str, str]] = [
            ("integer", str(index)),  # ifIndex
            ("octet_str", f'"GigabitEthernet1/0/{port}"'),  # ifDescr
            ("integer", "6"),  # ifType ethernetCsmacd
            ("integer", "1500"),  # ifMtu
            ("uinteger", "1000000000" if up else "10000000"),  # ifSpeed (Gauge32)
            ("octet_str", f'"mac{port:03d}"'),  # ifPhysAddress (6 octets)
            ("integer", "1"),  # ifAdminStatus up
            ("integer", "1" if up else "2"),  # ifOperStatus
            ("uinteger", str(port * 100)),  # ifLastChange
            ("counter", str(traffic)),  # ifInOctets
            ("counter", str(traffic // 700)),  # ifInUcastPkts
            ("counter", str(port * 31)),  # ifInNUcastPkts
            ("counter", str(port % 5)),  # ifInDiscards
            ("counter", str(port % 7)),  # ifInErrors
            ("counter", "0"),  # ifInUnknownProtos
            ("counter", str(traffic // 3)),  # ifOutOctets
            ("counter", str(traffic // 2100)),  # ifOutUcastPkts
            ("counter", str(port * 17)),  # ifOutNUcastPkts
            ("counter", str(port % 3)),  # ifOutDiscards
            ("counter", "0"),  # ifOutErrors
            ("uinteger", "0"),  # ifOutQLen
            ("object_id", ".0.0"),  # ifSpecific
        ]
        if_x_table: list[tuple[str, str]] = [
            ("octet_str", f'"Gi1/0/{port}"'),  # ifName
            ("counter", str(port * 29)),  # ifInMulticastPkts
            ("counter", str(port * 13)),  # ifInBroadcastPkts
            ("counter", str(port * 11)),  # ifOutMulticastPkts
            ("counter", str(port * 7)),  # ifOutBroadcastPkts
            ("counter", str(traffic)),  # ifHCInOctets (Counter64 on a switch)
            ("counter", str(traffic // 700)),  # ifHCInUcastPkts
            ("counter", str(port * 29)),  # ifHCInMulticastPkts
            ("counter", str(port * 13)),  # ifHCInBroadcastPkts
            ("counter", str(traffic // 3)),  # ifHCOutOctets
            ("counter", str(traffic // 2100)),  # ifHCOutUcastPkts
            ("counter", str(port * 11)),  # ifHCOutMulticastPkts
            ("counter", str(port * 7)),  # ifHCOutBroadcastPkts
            ("integer", "1"),  # ifLinkUpDownTrapEnable
            ("uinteger", "1000" if up else "10"),  # ifHighSpeed
            ("integer", "2"),  # ifPromiscuousMode false
            ("integer", "1"),  # ifConnectorPresent true
            ("octet_str", f'"desk {port} lantai 2"'),  # ifAlias
            ("uinteger", "0"),  # ifCounterDiscontinuityTime
        ]
        for table, columns in ((IF_TABLE, if_table), (IFX_TABLE, if_x_table)):
            lines += [
                f"override {table}.{column}.{index} {kind} {value}"
                for column, (kind, value) in enumerate(columns, start=1)
            ]
    return lines


__all__ = [
    "FIRST_SIMULATED_INDEX",
    "IFX_TABLE",
    "IF_TABLE",
    "SIMULATED_PORTS",
    "SimulatedSwitch",
    "simulated_port_lines",
]
